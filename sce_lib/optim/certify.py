"""Does a minimiser exist?  Certificates for the unregularised objective (l2 = 0).

Write the margins of theta as A theta: one row a_nk = (e_{y_n} - e_k) (x) x~_n per sample n (of
positive weight) and wrong class k != y_n.  Along a direction v with A v >= 0 and A v != 0 every
cross-entropy term is non-increasing and one decreases strictly, so f has no minimiser; if no such
v exists, f is coercive off its flat directions (A v = 0) and has one.  Stiemke's alternative
(Gordan's theorem with one inequality strict) says exactly one of the two holds:

* (i)  some v has A v >= 0, A v != 0: *no minimiser* (complete separation: A v > 0; or
  quasi-complete: some margins 0; or a class without a sample when there is a bias);
* (ii) some u > 0 (every entry) has A^T u = 0: a minimiser exists.

The gradient gives (ii) almost for free: grad f(theta) = -A^T u with u_nk = a_n p_nk > 0 (the
weighted probabilities of the wrong classes), so at a stationary point u itself certifies, and
near one u o (1 + eps) does, where eps is the smallest correction with A^T (u o eps) = grad f; if
max |eps| <= 1/2 the corrected u is still positive.  (i) has a cheap witness too: an iterate that
classifies every sample correctly by more than the rounding of its logits.  When neither witness
is found, small problems are decided exactly by the linear programme max 1^T A v s.t.
0 <= A v <= 1 (scipy's HiGHS), whose value is 0 in case (ii) and >= 1 in case (i).
"""

from __future__ import annotations

import numpy as np
import torch

from .objective import Objective

__all__ = ["separates", "stationary_certificate", "lp_decides", "DENSE_MAX_FLOPS", "LP_MAX_NNZ"]

DENSE_MAX_FLOPS = 4e9  # K^2 N D^2: the certificate's Gram matrix, like a dense Hessian
LP_MAX_NNZ = 2e5  # nonzeros of A in the linear programme (N (K-1) rows of 2 D entries)


def _active(obj: Objective) -> torch.Tensor:
    """Samples that enter f: weight > 0.  (N,) bool."""
    return torch.ones(obj.n, dtype=torch.bool, device=obj.X.device) if obj.a is None else obj.a[0] > 0


def separates(obj: Objective, V: torch.Tensor) -> bool:
    """True when V (K, D) puts every sample of positive weight in its own class by more than the
    rounding of its logits: then A V > 0 and no minimiser exists (case (i)).

    Derived in: book/05-minimisation.md, §Separable data.
    """
    Z = obj.logits(V)  # (K, N)
    own = Z.gather(0, obj.y[None, :])[0]
    other = Z.scatter(0, obj.y[None, :], -torch.inf).max(dim=0).values
    eps = torch.finfo(V.dtype).eps
    rounding = (obj.D + 2) * eps * (V.abs() @ obj.XtT.abs()).max(dim=0).values  # per sample (N,)
    act = _active(obj)
    return bool(((own - other)[act] > 4 * rounding[act]).all())


def _gram(obj: Objective, C: torch.Tensor) -> torch.Tensor:
    """sum_n C_n (x) x~_n x~_n^T for C (K, K, N): (K D, K D), class-major."""
    K, D = obj.K, obj.D
    M = torch.empty(K, D, K, D, dtype=C.dtype, device=C.device)
    for k in range(K):
        M[k] = ((C[k][:, None, :] * obj.XtT[None]).reshape(K * D, obj.n) @ obj.XtT.T).reshape(K, D, D).transpose(0, 1)
    return M.reshape(K * D, K * D)


def stationary_certificate(obj: Objective, V: torch.Tensor) -> tuple[bool | None, float]:
    """Case (ii) from the point V (K, D) (l2 = 0): (certified, max |eps|).

    certified is None when the problem is too large for the dense check (K^2 N D^2 > DENSE_MAX_FLOPS)
    or some wrong-class probability is 0 in floating point (no positive u to start from).

    Derived in: book/05-minimisation.md, §Separable data.
    """
    K, D, n = obj.K, obj.D, obj.n
    if K * K * n * D * D > DENSE_MAX_FLOPS:
        return None, float("nan")
    act = _active(obj)
    a = torch.full((n,), 1.0 / n, dtype=V.dtype, device=V.device) if obj.a is None else obj.a[0]
    p = torch.softmax(obj.logits(V), dim=0)  # (K, N)
    u = (p * a) * (1 - obj.Y) * act  # u_nk, zero on k = y_n and on inactive samples
    wrong = (1 - obj.Y).bool() & act[None, :]
    if not bool((u[wrong] > 0).all()):
        return None, float("nan")
    g = obj._back(p - obj.Y)  # grad f at l2 = 0, = -A^T u
    u2 = u * u
    C = torch.zeros(K, K, n, dtype=V.dtype, device=V.device)  # C_n = sum_k u_nk^2 (e_y - e_k)(e_y - e_k)^T
    yy, cols, idx = obj.y, torch.arange(n, device=V.device), torch.arange(K, device=V.device)
    C[yy, :, cols] = -u2.T  # (y_n, k)
    C[:, yy, cols] = -u2  # (k, y_n)
    C[idx, idx, :] = u2  # (k, k), k != y_n
    C[yy, yy, cols] = u2.sum(dim=0)  # (y_n, y_n)
    M = _gram(obj, C)
    evals, Q = torch.linalg.eigh(0.5 * (M + M.T))
    cut = K * D * torch.finfo(V.dtype).eps * float(evals[-1])
    inv = torch.where(evals > cut, 1.0 / evals, torch.zeros_like(evals))
    x = (Q @ (inv * (Q.T @ g.reshape(-1)))).reshape(K, D)
    if float((M @ x.reshape(-1) - g.reshape(-1)).norm()) > 1e-6 * float(g.norm()) + 1e3 * torch.finfo(V.dtype).eps * float(u.sum()):
        return False, float("inf")
    Z = obj.logits(x)  # (A x)_nk = Z[y_n, n] - Z[k, n]
    margins = Z.gather(0, yy[None, :]) - Z  # (K, N)
    eps = (u * margins)[wrong]
    worst = float(eps.abs().max()) if eps.numel() else 0.0
    return worst <= 0.5, worst


def lp_decides(obj: Objective) -> bool | None:
    """True when a minimiser exists (LP value 0), False when not (value >= 1), None when A has more
    than LP_MAX_NNZ nonzeros or HiGHS fails.

    Derived in: book/05-minimisation.md, §Separable data.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix

    act = _active(obj).cpu().numpy()
    Xt = obj.XtT.T.detach().cpu().double().numpy()[act]  # (N', D)
    y = obj.y.cpu().numpy()[act]
    K, D = obj.K, obj.D
    if len(y) * (K - 1) * 2 * D > LP_MAX_NNZ:
        return None
    Xt = Xt / np.maximum(np.abs(Xt).max(axis=0), 1e-300)  # column scaling: the same cone
    n_idx, k_idx = np.nonzero(np.arange(K)[None, :] != y[:, None])
    rows = np.repeat(np.arange(len(n_idx)), 2 * D)
    c = y[n_idx]
    cols = np.concatenate([c[:, None] * D + np.arange(D), k_idx[:, None] * D + np.arange(D)], axis=1).ravel()
    vals = np.concatenate([Xt[n_idx], -Xt[n_idx]], axis=1).ravel()
    A = csr_matrix((vals, (rows, cols)), shape=(len(n_idx), K * D))
    res = milp(-np.asarray(A.sum(axis=0)).ravel(), constraints=LinearConstraint(A, 0, 1),
               bounds=Bounds(-np.inf, np.inf))
    if res.status != 0 or res.fun is None:
        return None
    return bool(-res.fun < 0.5)
