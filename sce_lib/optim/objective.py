"""The objective f(theta) = weighted mean CE + (l2/2) ||W||_F^2, evaluated without per-call overhead.

The solvers call it hundreds of times, so it works on theta = [W b] as one (K, D) matrix V
(D = d + 1 with an intercept, D = d without), with X~ = [X 1] (or X) built once, and fuses what
the public functions compute separately: ``value_grad`` computes the logits once for the loss
*and* the gradient, and returns the probabilities p of the point, which every Hessian-vector
product of a CG solve reuses (each product then costs two matrix products with X~ and no
exponential).  The formulas are those of ``linear_ce_loss``, ``linear_ce_gradient`` and
``linear_ce_hvp`` (book chapter 04) with the mean 1/N replaced by the normalised sample weights
a_n = w_n / sum_m w_m (a_n = 1/N without weights), and tests/test_optim.py checks the fused
versions against them.

Layout: everything per sample is stored class-major, (K, N), and X~ is stored transposed,
X~^T (D, N), contiguous.  Then both products of a Hessian-vector product, V X~^T (K, N) and
R X~ (K, D), run along the long axis N in memory; on the CPU this is 1.6x faster than the
sample-major (N, K) layout on the digits and 1.8x on N = 50 000 (the product R^T X~ with R
(N, K) is the slow one: 3x), measured with torch 2.13 / MKL.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["Objective", "smoothness_constant"]


def _weighted(XtT: torch.Tensor, a: torch.Tensor | None) -> torch.Tensor:
    """a * X~^T (D, N) from XtT = X~^T (D, N); a the normalised weights ((N,) or (1, N)), or None for 1/N."""
    return XtT / XtT.shape[1] if a is None else XtT * a


def _gram(XtT: torch.Tensor, a: torch.Tensor | None) -> torch.Tensor:
    """X~^T diag(a) X~ (D, D) from XtT = X~^T (D, N) and the weights a (see ``_weighted``)."""
    return _weighted(XtT, a) @ XtT.T


def smoothness_constant(XtT: torch.Tensor, l2: float, a: torch.Tensor | None = None) -> float:
    """beta = lambda_max(X~^T diag(a) X~) / 2 + l2, chapter 04's smoothness constant (a_n = 1/N without
    weights).  XtT = X~^T (D, N); a (N,) normalised weights or None."""
    return 0.5 * float(torch.linalg.eigvalsh(_gram(XtT, a))[-1]) + l2


class Objective:
    """f, its gradient, its Hessian and Hessian-vector products in V = [W b] (K, D).

    Args:
        X: (N, d) inputs.  y: (N,) int64 classes in [0, K-1].  K: classes.  l2: >= 0.
        weights: (N,) sample weights >= 0 with a positive sum, or None (all equal).
        fit_intercept: whether V has the bias column (D = d + 1) or not (D = d, b = 0).

    Attributes:
        XtT: X~^T = [X 1]^T (or X^T), (D, N), contiguous.  Y: the one-hot targets, (K, N).
        a: the normalised weights (1, N) summing to 1, or None for 1/N each.
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor, K: int, l2: float,
                 weights: torch.Tensor | None = None, fit_intercept: bool = True) -> None:
        n, d = X.shape
        self.X, self.y, self.K, self.d, self.n, self.l2 = X, y, K, d, n, float(l2)
        self.fit_intercept = fit_intercept
        rows = [X.T] + ([torch.ones(1, n, dtype=X.dtype, device=X.device)] if fit_intercept else [])
        self.XtT = torch.cat(rows, dim=0).contiguous()  # (D, N)
        self.D = self.XtT.shape[0]
        self.a = None if weights is None else (weights / weights.sum()).to(X.dtype)[None, :]  # (1, N)
        self._XtT2: torch.Tensor | None = None  # (X~^T)^2 entrywise, built on first use
        self._gram: torch.Tensor | None = None  # X~^T diag(a) X~, built on first use
        self._gram_eigen: tuple[torch.Tensor, ...] | None = None  # ``gram_eigen``, built on first use
        self._XaT: torch.Tensor | None = None  # a * X~^T (D, N), built on first use
        self._XtT32: torch.Tensor | None = None  # X~^T and a * X~^T in float32 for ``hvp_map``, built on first use
        self._XaT32: torch.Tensor | None = None
        self.mask = torch.ones(K, self.D, dtype=X.dtype, device=X.device)  # 1 on W, 0 on b
        if fit_intercept:
            self.mask[:, d] = 0
        self.Y = torch.zeros(K, n, dtype=X.dtype, device=X.device).scatter_(0, y[None, :], 1.0)  # (K, N)
        self.counts = {"grad": 0, "hvp": 0, "hvp_float32": 0, "hessian": 0}

    def zeros(self) -> torch.Tensor:
        return torch.zeros(self.K, self.D, dtype=self.X.dtype, device=self.X.device)

    def pack(self, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """(W (K, d), b (K,)) -> V (K, D), a new tensor (b is dropped without an intercept)."""
        parts = [W] + ([b[:, None]] if self.fit_intercept else [])
        return torch.cat(parts, dim=1).to(self.X.dtype).contiguous()

    def split(self, V: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """V (K, D) -> (W (K, d), b (K,)), copies (b = 0 without an intercept)."""
        b = V[:, self.d].clone() if self.fit_intercept else V.new_zeros(self.K)
        return V[:, : self.d].clone(), b

    def _penalty(self, V: torch.Tensor) -> torch.Tensor:
        W = V[:, : self.d]
        return 0.5 * self.l2 * (W * W).sum()

    def _mean(self, R: torch.Tensor) -> torch.Tensor:
        """sum_n a_n R[:, n] for R (K, N), as (K,)."""
        return R.sum(dim=1) / self.n if self.a is None else (R * self.a).sum(dim=1)

    def _back(self, R: torch.Tensor) -> torch.Tensor:
        """sum_n a_n R[:, n] x~_n^T for R (K, N): (K, D)."""
        return R @ self._weighted_XtT().T

    def logits(self, V: torch.Tensor) -> torch.Tensor:
        """Z = V X~^T, (K, N)."""
        return V @ self.XtT

    def value(self, V: torch.Tensor) -> float:
        """f(V), a float (used by line searches)."""
        logp = torch.log_softmax(V @ self.XtT, dim=0)  # (K, N)
        return float(-self._mean(logp * self.Y).sum() + self._penalty(V))

    def value_grad(self, V: torch.Tensor) -> tuple[float, torch.Tensor, torch.Tensor]:
        """(f(V), grad f(V) (K, D), p (K, N) the probabilities at V)."""
        self.counts["grad"] += 1
        logp = torch.log_softmax(V @ self.XtT, dim=0)  # (K, N), log-sum-exp inside
        p = logp.exp()
        f = -self._mean(logp * self.Y).sum() + self._penalty(V)
        g = self._back(p - self.Y)  # (K, D)
        if self.l2:
            g = g + self.l2 * self.mask * V
        return float(f), g, p

    def hvp(self, p: torch.Tensor, P: torch.Tensor) -> torch.Tensor:
        """H P at the point whose probabilities are p (K, N).  P (K, D) -> (K, D).

        u_n = P x~_n, (H_n u_n) = p_n * u_n - p_n (p_n . u_n), H P = sum_n a_n (H_n u_n) x~_n^T + l2 [P_W 0].
        """
        return self.hvp_map(p, self.l2 * self.mask)(P)

    def hvp_map(self, p: torch.Tensor, shift: torch.Tensor,
                float32: bool = False) -> Callable[[torch.Tensor], torch.Tensor]:
        """The map P -> H P + shift * P (K, D) -> (K, D) at the point with probabilities p (K, N).

        shift (K, D) holds l2 mask plus any diagonal the caller adds (newton-cg's delta D); it is built
        once per Newton step, so a product costs two matrix products with X~ and three elementwise
        operations (small products are dominated by per-operation overhead, not by flops).  With
        float32=True the products run in float32 (twice as fast on the CPU, ~1e-7 relative per entry)
        and the result is returned in P's dtype: newton-cg's inner solves use it and check their result
        with one product in full precision (``newton._cg``).
        """
        if float32:
            if self._XtT32 is None:
                self._XtT32 = self.XtT.float().contiguous()
                self._XaT32 = self._weighted_XtT().float().contiguous()
            XT, XaT, p_ = self._XtT32, self._XaT32, p.float()
        else:
            XT, XaT, p_ = self.XtT, self._weighted_XtT(), p
        counts, key = self.counts, "hvp_float32" if float32 else "hvp"

        def product(P: torch.Tensor) -> torch.Tensor:
            counts[key] += 1
            u = (P.float() if float32 else P) @ XT  # (K, N): u_n = P x~_n
            pu = u.mul_(p_)
            pu.addcmul_(p_, pu.sum(dim=0, keepdim=True), value=-1)  # H_n u_n = p_n * u_n - p_n (p_n . u_n)
            hv = pu @ XaT.T  # sum_n a_n (H_n u_n) x~_n^T
            return torch.addcmul(hv.to(P.dtype) if float32 else hv, shift, P)
        return product

    def _weighted_XtT(self) -> torch.Tensor:
        """a * X~^T (D, N) (X~^T / N without weights), built once: the back products (``_back``, ``hvp_map``)."""
        if self._XaT is None:
            self._XaT = _weighted(self.XtT, self.a).contiguous()
        return self._XaT

    def hessian_diagonal(self, p: torch.Tensor) -> torch.Tensor:
        """diag H at the point with probabilities p (K, N), as (K, D): sum_n a_n p_nk (1 - p_nk) x~_ni^2 + l2."""
        if self._XtT2 is None:
            self._XtT2 = self.XtT * self.XtT
        diag = self._back_sq(p * (1 - p))
        return diag + self.l2 * self.mask

    def gram(self) -> torch.Tensor:
        """G = sum_n a_n x~_n x~_n^T, (D, D), built once: the Hessian's block for class k is
        sum_n a_n p_nk (1 - p_nk) x~_n x~_n^T, which G weighted by the mean of p_nk (1 - p_nk) approximates."""
        if self._gram is None:
            self._gram = self._weighted_XtT() @ self.XtT.T
        return self._gram

    def gram_eigen(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The Gram matrix G after Jacobi scaling, diagonalised once: (w (D,), lam (D,), Q (D, D), Q * Q).

        w = (diag G + floor)^{-1/2}, and diag(w) G diag(w) = Q diag(lam) Q^T with Q orthogonal and lam >= 0
        (clamped: G is positive semidefinite, rounding may say -1e-17).  The scaling makes Q independent of
        the units of the features: under x -> T x (T diagonal) w -> T^{-1} w and (lam, Q) stay.
        """
        if self._gram_eigen is None:
            G = self.gram()
            diag = G.diagonal()
            w = (diag + 1e3 * torch.finfo(G.dtype).eps * float(diag.max())).rsqrt()
            lam, Q = torch.linalg.eigh(w[:, None] * G * w[None, :])
            self._gram_eigen = (w, lam.clamp(min=0), Q, Q * Q)
        return self._gram_eigen

    def _back_sq(self, R: torch.Tensor) -> torch.Tensor:
        assert self._XtT2 is not None
        return R @ self._XtT2.T / self.n if self.a is None else (R * self.a) @ self._XtT2.T

    def hessian(self, V: torch.Tensor) -> torch.Tensor:
        """The dense Hessian (K D, K D), class-major (the ordering of ``linear_ce_hessian``).

        H = sum_n a_n (diag p_n - p_n p_n^T) (x) x~_n x~_n^T + l2 diag(mask): O(N K^2 D^2).
        """
        self.counts["hessian"] += 1
        p = torch.softmax(V @ self.XtT, dim=0)  # (K, N)
        a = torch.full((1, self.n), 1.0 / self.n, dtype=p.dtype, device=p.device) if self.a is None else self.a
        K, D = self.K, self.D
        pa = p * a  # (K, N)
        H = torch.empty(K, D, K, D, dtype=p.dtype, device=p.device)
        for k in range(K):  # block row k: X~^T diag(a_n (p_nk delta_kl - p_nk p_nl)) X~, l = 1..K
            C = -(pa[k] * p)  # (K, N)
            C[k] += pa[k]
            H[k] = ((C[:, None, :] * self.XtT[None]).reshape(K * D, self.n) @ self.XtT.T).reshape(K, D, D).transpose(0, 1)
        H = H.reshape(K * D, K * D)
        if self.l2:
            H = H + torch.diag(self.l2 * self.mask.reshape(-1))
        return 0.5 * (H + H.T)
