"""Newton's method: dense (Cholesky) and truncated (conjugate gradients on Hessian-vector products).

The Hessian is singular: along (0, c 1) (a constant added to every bias) always, and with l2 = 0
also along W + 1 u^T and along directions of W that X~ does not see (chapter 04, §Null directions).
Both solvers take the Levenberg-Marquardt step with Marquardt's diagonal scaling,

    (H + delta_t D_t) s = -g,   D_t = diag(H_t) + floor,   delta_t = c min(1, sqrt(g^T D_t^{-1} g)),

c = 0.1 (``DAMPING``; c = 1 damps the first steps harder and took more Newton steps on most problems
we tried and fewer on none: tests/test_optim_semantics.py), D_t in the units of the Hessian and
delta_t a pure number: g^T D^{-1} g is in the units of f (it estimates the Newton decrement g^T
H^{-1} g ~ 2 (f - f*)). So the step is invariant to rescaling the parameters by a diagonal matrix:
the problem (s X, l2 s^2), whose minimiser is (W / s, b), takes the same iterates up to that scaling
for every s (in exact arithmetic; the floor 1e3 eps max diag(H), there for the exactly flat
coordinates of constant-zero features, is the only exception). As delta_t = O(||g_t||), the step
differs from the Newton step on range(H) by O(||g_t||^2), which keeps the local convergence
quadratic (chapter 05, §Newton's method). The class-mean of every column of the step is removed
(``_center``): f does not change along W + 1 u^T at l2 = 0, and with l2 > 0 the centred step lowers
the penalty further, so the iterates from a centred start stay centred (zero class-sums of [W b]).
They are *not* the minimum-norm minimiser in the other flat directions (those of a rank-deficient
X~): the scaling D (and newton-cg's preconditioner) mixes them in. A backtracking (Armijo) line
search makes every step decrease f.

newton-cg in float64 runs the products of its inner CG in float32 and checks each step in float64
(mixed-precision iterative refinement, ``_cg``): on the CPU a product costs half as much, and the
step still meets the forcing condition in full precision.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .objective import Objective
from .tracker import Tracker

__all__ = ["newton", "newton_cg"]

Operator = Callable[[torch.Tensor], torch.Tensor]  # (K, D) -> (K, D)

ARMIJO = 1e-4
MAX_HALVINGS = 40
DAMPING = 0.1  # c in delta_t = c min(1, sqrt(g^T D^{-1} g)), the module docstring


def _scaling(diag: torch.Tensor) -> torch.Tensor:
    """D = diag(H) + 1e3 eps max diag(H), (K, D): positive, in the units of the Hessian."""
    eps = torch.finfo(diag.dtype).eps
    return diag + 1e3 * eps * float(diag.max())


def _decrement(g: torch.Tensor, Dm: torch.Tensor) -> float:
    """g^T D^{-1} g, in the units of f (it estimates the Newton decrement g^T H^{-1} g ~ 2 (f - f*))."""
    return float((g * g / Dm).sum())


def _damping(gDg: float, dtype: torch.dtype) -> float:
    """delta_t = DAMPING min(1, sqrt(g^T D^{-1} g)) + 1e3 eps: dimensionless, O(||g||) near the optimum."""
    return DAMPING * min(1.0, gDg ** 0.5) + 1e3 * torch.finfo(dtype).eps


def _center(s: torch.Tensor) -> torch.Tensor:
    """Remove the class-mean of every column of s (K, d+1): the component along 1 u^T.

    In exact arithmetic the damped step has none (g has zero class-sums, and H maps zero-sum
    matrices to zero-sum matrices); in floating point, rounding noise in g along those null
    directions (~eps, not ~||g||) would be amplified by 1/delta_t ~ 1/||g_t||^2 near the optimum.
    """
    return s - s.mean(dim=0, keepdim=True)


def _line_search(obj: Objective, V: torch.Tensor, f: float, g: torch.Tensor,
                 s: torch.Tensor) -> tuple[torch.Tensor, float, torch.Tensor, torch.Tensor] | None:
    """Armijo backtracking from the full step: (V', f(V'), grad f(V'), p at V'), or None when no step
    decreases f.  The full step, accepted near the optimum, is tried with ``value_grad`` (one pass over
    the logits for the test and the next iteration), shorter ones with ``value``."""
    slope = float((g * s).sum())  # < 0 for a descent direction
    slack = 8 * torch.finfo(V.dtype).eps * abs(f)  # f is only known to rounding
    trial = V + s
    f_new, g_new, p_new = obj.value_grad(trial)
    if f_new <= f + ARMIJO * slope + slack:
        return trial, f_new, g_new, p_new
    a = 0.5
    for _ in range(MAX_HALVINGS - 1):
        trial = V + a * s
        if obj.value(trial) <= f + ARMIJO * a * slope + slack:
            return (trial, *obj.value_grad(trial))
        a *= 0.5
    return None


def newton(obj: Objective, tr: Tracker, V: torch.Tensor) -> torch.Tensor:
    """Damped Newton with the dense Hessian and a Cholesky solve from V (K, D); returns V (K, D)."""
    f, g, _ = obj.value_grad(V)
    if tr.record(V, f, float(g.norm())) or tr.done():
        return V
    n = V.numel()
    while True:
        H = obj.hessian(V)
        Dm = _scaling(H.diagonal().reshape(V.shape))
        delta = _damping(_decrement(g, Dm), g.dtype)
        for _ in range(20):  # H + delta D is positive definite; raise delta if rounding says otherwise
            L, info = torch.linalg.cholesky_ex(H + torch.diag(delta * Dm.reshape(-1)))
            if int(info) == 0:
                break
            delta *= 10
        s = _center(torch.cholesky_solve(-g.reshape(n, 1), L).reshape(V.shape))
        step = _line_search(obj, V, f, g, s)
        if step is None:
            return V
        V, f, g, _ = step
        if tr.record(V, f, float(g.norm())) or tr.done():
            return V


def _forcing(gDg: float) -> float:
    """CG forcing term eta_t = min(0.5, (g^T D^{-1} g)^(1/4)), a pure number that is O(||g||^(1/2)):
    superlinear convergence (Dembo, Eisenstat & Steihaug)."""
    return min(0.5, gDg ** 0.25)


def _preconditioner(obj: Objective, p: torch.Tensor, shift: torch.Tensor) -> Operator:
    """M^{-1} for CG on (H + delta D) s = -g: per class k, in the eigenbasis of the scaled Gram matrix,

        M_k = S^{-1} Q diag(s_k lam + diag(Q^T E~_k Q)) Q^T S^{-1},   s_k = sum_n a_n p_nk (1 - p_nk),

    with S = diag(w), S G S = Q diag(lam) Q^T (``Objective.gram_eigen``; G = X~^T diag(a) X~ is formed
    and diagonalised once per fit) and E~_k = S E_k S, E_k = diag(shift_k), shift = l2 mask + delta D
    (K, D) (D = diag(H) + floor: positive). The Hessian's block k is X~^T diag(a p_k (1 - p_k)) X~;
    replacing the weights by their mean s_k gives s_k G, and s_k G + E_k = S^{-1} Q (s_k diag(lam) + Q^T
    E~_k Q) Q^T S^{-1} exactly, so M_k is that block with the off-diagonal part of Q^T E~_k Q dropped
    (nothing is dropped when E~_k is a multiple of I). It carries the correlations of the features: on
    MNIST-1D (40 correlated features) CG needs about 70 products over a fit instead of the diagonal
    preconditioner's 300; yet it costs no factorisation per Newton step, and applying it is two (K, D) x
    (D, D) products. Like H, M transforms as A M A under a rescaling x -> A x of the features (A
    diagonal), so the solver stays invariant to it. Returns a function (K, D) -> (K, D).
    """
    w, lam, Q, Q2 = obj.gram_eigen()
    s = obj._mean(p * (1 - p))  # (K,)
    scaled = shift * (w * w)  # diagonals of E~_k, (K, D)
    inv = 1.0 / (s[:, None] * lam + scaled @ Q2)  # (K, D): 1 / diag of M_k in the eigenbasis, > 0
    return lambda r: ((r * w) @ Q * inv) @ Q.T * w


def _dot(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.dot(a.reshape(-1), b.reshape(-1)))


def _pcg(product: Operator, precondition: Operator, b: torch.Tensor, target: float, max_cg: int) -> torch.Tensor:
    """Preconditioned CG for A x = b from x = 0, stopped once r^T M^{-1} r <= target (r = b - A x).

    product: x -> A x, A symmetric positive definite; precondition: r -> M^{-1} r.  A curvature q^T A q
    that is not positive (rounding, or nan from an overflow) stops CG.  Returns x, shaped like b.
    """
    x = torch.zeros_like(b)
    r = b.clone()
    z = precondition(r)
    q = z
    rz = _dot(r, z)
    if rz <= target:
        return x
    for _ in range(max_cg):
        Aq = product(q)
        curv = _dot(q, Aq)
        if not curv > 0:  # rounding (or an overflow: nan)
            break
        a = rz / curv
        x.add_(q, alpha=a)
        r.sub_(Aq, alpha=a)
        z = precondition(r)
        rz_new = _dot(r, z)
        if rz_new <= target:
            break
        q = torch.add(z, q, alpha=rz_new / rz)
        rz = rz_new
    return x


def _cg(obj: Objective, p: torch.Tensor, g: torch.Tensor, Dm: torch.Tensor, delta: float, forcing: float,
        max_cg: int, float32: bool) -> tuple[torch.Tensor, bool]:
    """The step s (K, D) with ||(H + delta D) s + g||_{M^-1} <= forcing * ||g||_{M^-1}, by preconditioned CG.

    M: ``_preconditioner``; D = diag(H) + floor, (K, D).  With float32=True (newton-cg in float64) the
    products of CG are computed in float32 (``Objective.hvp_map``, half the time), and the step is then
    checked with one float64 product: the true residual r = -g - (H + delta D) s.  If it misses the
    target (float32's rounding limits what CG can attain on an ill-conditioned H), CG continues in
    float64 on (H + delta D) e = r and s + e is returned: mixed-precision iterative refinement.  Either
    way the step meets the forcing condition in full precision, the one the convergence theory asks for
    (chapter 05, §Truncated Newton).  Returns (s, whether float32 sufficed).
    """
    shift = obj.l2 * obj.mask + delta * Dm
    precondition = _preconditioner(obj, p, shift)
    target = forcing ** 2 * _dot(g, precondition(g))  # squared M^{-1}-norms: ||r||^2 = r^T M^{-1} r
    exact = obj.hvp_map(p, shift)
    sufficed = float32
    if float32:
        s = _pcg(obj.hvp_map(p, shift, float32=True), precondition, -g, target, max_cg)
        r = -g - exact(s)
        missed = _dot(r, precondition(r))
        if not missed <= target:
            s = s + _pcg(exact, precondition, r, target, max_cg)
            sufficed = False
    else:
        s = _pcg(exact, precondition, -g, target, max_cg)
    return (s if s.abs().sum() > 0 else -precondition(g)), sufficed


def newton_cg(obj: Objective, tr: Tracker, V: torch.Tensor) -> torch.Tensor:
    """Truncated Newton from V (K, D): CG on Hessian-vector products, forcing term
    min(0.5, (g^T D^{-1} g)^(1/4)).  In float64 the products of CG run in float32 until a step needs
    refining in float64 (``_cg``); from then on, all in float64.

    Returns V (K, D).  Nothing of size (K D)^2 is formed.
    """
    f, g, p = obj.value_grad(V)
    if tr.record(V, f, float(g.norm())) or tr.done():
        return V
    max_cg = min(V.numel(), 500)
    float32 = V.dtype == torch.float64
    while True:
        Dm = _scaling(obj.hessian_diagonal(p))
        gDg = _decrement(g, Dm)
        s, float32 = _cg(obj, p, g, Dm, _damping(gDg, g.dtype), _forcing(gDg), max_cg, float32)
        step = _line_search(obj, V, f, g, _center(s))
        if step is None:
            return V
        V, f, g, p = step
        if tr.record(V, f, float(g.norm())) or tr.done():
            return V
