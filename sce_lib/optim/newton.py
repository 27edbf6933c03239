"""Newton's method: dense (Cholesky) and truncated (conjugate gradients on Hessian-vector products).

The Hessian is singular: along (0, c 1) (a constant added to every bias) always, and with l2 = 0
also along W + 1 u^T and along directions of W that X~ does not see (chapter 04, §Null directions).
Both solvers take the Levenberg-Marquardt step

    (H + delta_t I) s = -g,   delta_t = ||g_t|| * min(1, ||g_t|| / ||g_0||) + delta_floor,

the minimum-norm step in the limit delta -> 0: g is orthogonal to the null space of H (the loss
does not change along it), so s is too, and from theta_0 = 0 the iterates stay orthogonal to it
(the step's component along 1 u^T, nonzero only by rounding, is removed explicitly: ``_center``).
As delta_t = O(||g_t||), the step differs from the Newton step on range(H) by O(||g_t||^2), which
keeps the local convergence quadratic (chapter 05, §Newton's method).  A backtracking (Armijo)
line search makes every step decrease f.
"""

from __future__ import annotations

import torch

from .objective import Objective
from .tracker import Tracker

__all__ = ["newton", "newton_cg"]

ARMIJO = 1e-4
MAX_HALVINGS = 40


def _damping(gn: float, g0: float, scale: float) -> float:
    eps = torch.finfo(torch.float64).eps
    return gn * min(1.0, gn / g0) + 1e3 * eps * scale


def _center(s: torch.Tensor) -> torch.Tensor:
    """Remove the class-mean of every column of s (K, d+1): the component along 1 u^T.

    In exact arithmetic the damped step has none (g has zero class-sums, and H maps zero-sum
    matrices to zero-sum matrices); in floating point, rounding noise in g along those null
    directions (~eps, not ~||g||) would be amplified by 1/delta_t ~ 1/||g_t||^2 near the optimum.
    """
    return s - s.mean(dim=0, keepdim=True)


def _line_search(obj: Objective, V: torch.Tensor, f: float, g: torch.Tensor, s: torch.Tensor) -> torch.Tensor | None:
    """Armijo backtracking from the full step; None when no step decreases f."""
    slope = float((g * s).sum())  # < 0 for a descent direction
    slack = 8 * torch.finfo(V.dtype).eps * abs(f)  # f is only known to rounding
    a = 1.0
    for _ in range(MAX_HALVINGS):
        trial = V + a * s
        if obj.value(trial) <= f + ARMIJO * a * slope + slack:
            return trial
        a *= 0.5
    return None


def newton(obj: Objective, tr: Tracker) -> torch.Tensor:
    """Damped Newton with the dense Hessian and a Cholesky solve; returns V (K, d+1)."""
    V = obj.zeros()
    f, g, _ = obj.value_grad(V)
    g0 = float(g.norm())
    if tr.record(V, f, g0) or tr.done():
        return V
    n = V.numel()
    while True:
        H = obj.hessian(V)
        gn = float(g.norm())
        delta = _damping(gn, g0, float(H.diagonal().abs().max()))
        eye = torch.eye(n, dtype=H.dtype, device=H.device)
        for _ in range(20):  # PSD + delta I is positive definite; raise delta if rounding says otherwise
            L, info = torch.linalg.cholesky_ex(H + delta * eye)
            if int(info) == 0:
                break
            delta *= 10
        s = _center(torch.cholesky_solve(-g.reshape(n, 1), L).reshape(V.shape))
        new = _line_search(obj, V, f, g, s)
        if new is None:
            return V
        V = new
        f, g, _ = obj.value_grad(V)
        if tr.record(V, f, float(g.norm())) or tr.done():
            return V


def _FORCE(rel: float) -> float:
    """CG forcing term eta_t = min(0.5, sqrt(||g_t|| / ||g_0||)): superlinear convergence."""
    return min(0.5, rel ** 0.5)


def _cg(obj: Objective, p: torch.Tensor, g: torch.Tensor, diag: torch.Tensor, delta: float, forcing: float,
        max_cg: int) -> torch.Tensor:
    """Preconditioned CG for (H + delta I) s = -g, stopped at ||residual|| <= forcing * ||g||.

    Jacobi preconditioner M = diag(H) + delta.  H is positive semidefinite, so curvature
    q^T (H + delta I) q > 0 for q != 0; a non-positive value (rounding) stops CG.
    """
    Minv = 1.0 / (diag + delta)  # diag = diag H (K, d+1)
    s = torch.zeros_like(g)
    r = -g
    z = Minv * r
    q = z
    rz = float((r * z).sum())
    target = forcing * float(g.norm())
    for _ in range(max_cg):
        Hq = obj.hvp(p, q) + delta * q
        curv = float((q * Hq).sum())
        if curv <= 0:
            break
        a = rz / curv
        s = s + a * q
        r = r - a * Hq
        if float(r.norm()) <= target:
            break
        z = Minv * r
        rz_new = float((r * z).sum())
        q = z + (rz_new / rz) * q
        rz = rz_new
    return s if s.abs().sum() > 0 else -Minv * g


def newton_cg(obj: Objective, tr: Tracker) -> torch.Tensor:
    """Truncated Newton: CG on Hessian-vector products, forcing term min(0.5, sqrt(||g_t|| / ||g_0||)).

    Returns V (K, d+1).  Nothing of size (K(d+1))^2 is formed.
    """
    V = obj.zeros()
    f, g, p = obj.value_grad(V)
    g0 = float(g.norm())
    if tr.record(V, f, g0) or tr.done():
        return V
    max_cg = min(V.numel(), 500)
    while True:
        gn = float(g.norm())
        rel = gn / g0
        diag = obj.hessian_diagonal(p)
        delta = _damping(gn, g0, float(diag.max()))
        s = _center(_cg(obj, p, g, diag, delta, _FORCE(rel), max_cg))
        new = _line_search(obj, V, f, g, s)
        if new is None:
            return V
        V = new
        f, g, p = obj.value_grad(V)
        if tr.record(V, f, float(g.norm())) or tr.done():
            return V
