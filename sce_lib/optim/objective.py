"""The objective f(theta) = mean CE + (l2/2) ||W||_F^2, evaluated without per-call overhead.

The solvers call it hundreds of times, so it works on theta = [W b] as one (K, d+1) matrix V,
with X~ = [X 1] built once, and fuses what the public functions compute separately:
``value_grad`` computes the logits once for the loss *and* the gradient, and ``curvature``
keeps the probabilities p of the current point for every Hessian-vector product of a CG
solve (each product then costs two (N, d+1) x (d+1, K) matrix products and no exponential).
The formulas are those of ``linear_ce_loss``, ``linear_ce_gradient`` and ``linear_ce_hvp``
(book chapter 04), and tests/test_optim.py checks the fused versions against them.
"""

from __future__ import annotations

import torch

from .. import linear_ce_hessian, validation_disabled

__all__ = ["Objective", "smoothness_constant"]


def smoothness_constant(Xt: torch.Tensor, l2: float) -> float:
    """beta = lambda_max(X~^T X~) / (2N) + l2, chapter 04's smoothness constant.  Xt (N, d+1)."""
    gram = Xt.T @ Xt / Xt.shape[0]
    return 0.5 * float(torch.linalg.eigvalsh(gram)[-1]) + l2


class Objective:
    """f, its gradient, its Hessian and Hessian-vector products in V = [W b] (K, d+1).

    Args:
        X: (N, d) inputs.  y: (N,) int64 classes in [0, K-1].  K: classes.  l2: >= 0.
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor, K: int, l2: float) -> None:
        n, d = X.shape
        self.X, self.y, self.K, self.d, self.n, self.l2 = X, y, K, d, n, float(l2)
        self.Xt = torch.cat([X, torch.ones(n, 1, dtype=X.dtype, device=X.device)], dim=1)  # (N, D)
        self.mask = torch.ones(K, d + 1, dtype=X.dtype, device=X.device)  # 1 on W, 0 on b
        self.mask[:, d] = 0
        self.onehot = torch.zeros(n, K, dtype=X.dtype, device=X.device).scatter_(1, y[:, None], 1.0)
        self.counts = {"grad": 0, "hvp": 0, "hessian": 0}

    def zeros(self) -> torch.Tensor:
        return torch.zeros(self.K, self.d + 1, dtype=self.X.dtype, device=self.X.device)

    def split(self, V: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """V (K, d+1) -> (W (K, d), b (K,)), copies."""
        return V[:, : self.d].clone(), V[:, self.d].clone()

    def _penalty(self, V: torch.Tensor) -> torch.Tensor:
        W = V[:, : self.d]
        return 0.5 * self.l2 * (W * W).sum()

    def value(self, V: torch.Tensor) -> float:
        """f(V), a float (used by line searches)."""
        logp = torch.log_softmax(self.Xt @ V.T, dim=1)
        return float(-(logp * self.onehot).sum() / self.n + self._penalty(V))

    def value_grad(self, V: torch.Tensor) -> tuple[float, torch.Tensor, torch.Tensor]:
        """(f(V), grad f(V) (K, d+1), p (N, K) the probabilities at V)."""
        self.counts["grad"] += 1
        logp = torch.log_softmax(self.Xt @ V.T, dim=1)  # (N, K), log-sum-exp inside
        p = logp.exp()
        f = -(logp * self.onehot).sum() / self.n + self._penalty(V)
        g = (p - self.onehot).T @ self.Xt / self.n  # (K, D)
        if self.l2:
            g = g + self.l2 * self.mask * V
        return float(f), g, p

    def hvp(self, p: torch.Tensor, P: torch.Tensor) -> torch.Tensor:
        """H P at the point whose probabilities are p.  P (K, d+1) -> (K, d+1).

        u_n = P x~_n, (H_n u_n) = p_n * u_n - p_n (p_n . u_n), H P = (1/N) sum_n (H_n u_n) x~_n^T + l2 [P_W 0].
        """
        self.counts["hvp"] += 1
        u = self.Xt @ P.T  # (N, K)
        pu = p * u
        r = pu - p * pu.sum(dim=1, keepdim=True)
        hv = r.T @ self.Xt / self.n
        return hv + self.l2 * self.mask * P if self.l2 else hv

    def hessian_diagonal(self, p: torch.Tensor) -> torch.Tensor:
        """diag H at the point with probabilities p, as (K, d+1): (1/N) sum_n p_nk (1 - p_nk) x~_ni^2 + l2."""
        diag = (p * (1 - p)).T @ (self.Xt * self.Xt) / self.n
        return diag + self.l2 * self.mask

    def hessian(self, V: torch.Tensor) -> torch.Tensor:
        """The dense Hessian (K(d+1), K(d+1)) from ``linear_ce_hessian`` (O(N K^2 (d+1)^2))."""
        self.counts["hessian"] += 1
        W, b = V[:, : self.d], V[:, self.d]
        with validation_disabled():
            return linear_ce_hessian(W, b, self.X, self.y, l2=self.l2)
