"""Derivatives of softmax cross-entropy: in the logits, and for the linear softmax classifier.

In the logits z of one sample (p = softmax(z), y the target distribution):

    d softmax / dz = diag(p) - p p^T          (the softmax Jacobian, K x K)
    d CE / dz      = p - y
    d^2 CE / dz^2  = diag(p) - p p^T          (the same matrix: symmetric, PSD, 1 in its kernel)

For the linear classifier z_n = W x_n + b, write x~_n = [x_n; 1] (length d+1) and collect
the parameters class-major, theta = torch.cat([W, b[:, None]], dim=1).reshape(-1), so
theta[k (d+1) + i] is W[k, i] for i < d and b[k] for i = d.  Then, with
L(theta) = (1/N) sum_n CE(z_n, y_n) + (l2/2) ||W||_F^2,

    grad   = (1/N) sum_n (p_n - y_n) x~_n^T  + l2 [W, 0]                     (K, d+1)
    H      = (1/N) sum_n H_n (x) x~_n x~_n^T + l2 diag([1]*d + [0]) per class  (K(d+1), K(d+1))
    H v    = (1/N) sum_n (H_n V x~_n) x~_n^T + l2 [V_W, 0]                  (K, d+1), O(N d K)

where (x) is the Kronecker product and H_n = diag(p_n) - p_n p_n^T.
"""

from __future__ import annotations

from typing import Any

import torch

from ._validate import check_direction, check_linear, check_logits, check_target
from .functional import _cross_entropy, _shift, _softmax

__all__ = [
    "softmax_jacobian",
    "ce_gradient",
    "ce_hessian",
    "linear_ce_loss",
    "linear_ce_gradient",
    "linear_ce_hessian",
    "linear_ce_hvp",
]


# ----------------------------------------------------------------------------------
# private, unvalidated helpers
# ----------------------------------------------------------------------------------


def _outer_jacobian(p: torch.Tensor) -> torch.Tensor:
    """diag(p) - p p^T for every row of p.  (..., K) -> (..., K, K)"""
    return torch.diag_embed(p) - p[..., :, None] * p[..., None, :]


def _ce_gradient(z: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """p - y, accurate also where p_c is within an ulp of 1.  z (N, K) -> (N, K)."""
    s = _shift(z, 1)
    one_plus_t = 1 + s.t
    p = s.e / one_plus_t
    if target.dim() == 2:
        return (p - target.to(p.dtype)).to(z.dtype)
    c = target[:, None]
    # 1 - p_c = (1 + t - e_c) / (1 + t), with e_c = exp(z_c - m).  If z_c is a maximum,
    # e_c = 1 and 1 - p_c = t / (1 + t) exactly (t excludes one maximal entry).  Otherwise
    # t contains e_c, and 1 + (t - e_c) >= 1 has no cancellation.  Either way 1 - p_c
    # keeps its relative accuracy when p_c is within an ulp of 1.
    e_c = s.e.gather(1, c)
    is_max = z.to(s.m.dtype).gather(1, c) == s.m
    numer = torch.where(is_max, s.t, 1 + (s.t - e_c))
    return p.scatter(1, c, -numer / one_plus_t).to(z.dtype)


def _augment(X: torch.Tensor) -> torch.Tensor:
    """X~ = [X, 1].  (N, d) -> (N, d+1)"""
    return torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype, device=X.device)], dim=1)


def _linear_logits(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """z_n = W x_n + b.  (K, d), (K,), (N, d) -> (N, K)"""
    return torch.addmm(b, X, W.T)


def _weight_mask(k: int, d: int, like: torch.Tensor) -> torch.Tensor:
    """1 at weight coordinates, 0 at bias coordinates, in theta ordering.  -> (K, d+1)"""
    mask = torch.ones(k, d + 1, dtype=like.dtype, device=like.device)
    mask[:, d] = 0
    return mask


def _linear_hessian(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, l2: float) -> torch.Tensor:
    n, d = X.shape
    k, dd = W.shape[0], d + 1
    p = _softmax(_linear_logits(W, b, X), 1)  # (N, K)
    Xt = _augment(X)  # (N, D), D = d + 1
    # Block (c, l) of H = (1/N) sum_n H_n (x) x~_n x~_n^T is (1/N) X~^T diag(p_c delta_cl - p_c p_l) X~.
    # With Z[n, (c, i)] = p_nc x~_ni, the -p_c p_l part of all blocks is one product -Z^T Z
    # (N x KD)^T (N x KD), and the delta_cl part is the block diagonal Z^T X~ (KD x D).
    Z = (p[:, :, None] * Xt[:, None, :]).reshape(n, k * dd)  # (N, KD)
    H = torch.block_diag(*(Z.T @ Xt).reshape(k, dd, dd))  # (KD, KD)
    H = torch.addmm(H, Z.T, Z, beta=1.0 / n, alpha=-1.0 / n)
    H = 0.5 * (H + H.T)  # BLAS does not promise an exactly symmetric product; H is symmetric
    if l2:
        H.diagonal().add_(l2 * _weight_mask(k, d, W).reshape(-1))
    return H


def _linear_hvp(W: torch.Tensor, b: torch.Tensor, X: torch.Tensor, V: torch.Tensor, l2: float) -> torch.Tensor:
    n, d = X.shape
    k = W.shape[0]
    V2 = V.reshape(k, d + 1)
    p = _softmax(_linear_logits(W, b, X), 1)  # (N, K)
    u = torch.addmm(V2[:, d], X, V2[:, :d].T)  # (N, K): u_n = V x~_n
    pu = p * u
    r = pu - p * pu.sum(dim=1, keepdim=True)  # (N, K): H_n u_n = p*u - p (p.u)
    hv = torch.cat([r.T @ X, r.sum(dim=0)[:, None]], dim=1) / n  # (K, d+1)
    if l2:
        hv = hv + l2 * V2 * _weight_mask(k, d, V2)
    return hv.reshape(V.shape)


# ----------------------------------------------------------------------------------
# public API: derivatives in the logits
# ----------------------------------------------------------------------------------


def softmax_jacobian(z: Any) -> torch.Tensor:
    """Jacobian of softmax along the last dim: J = diag(p) - p p^T, J[i, j] = dp_i/dz_j.

    Args:
        z: logits, shape (..., K), K >= 2.

    Returns:
        (..., K, K), symmetric, dtype and device of ``z``.

    Example:
        >>> softmax_jacobian([0.0, 0.0])
        tensor([[ 0.2500, -0.2500],
                [-0.2500,  0.2500]], dtype=torch.float64)

    Derived in: book/01-softmax.md, §The Jacobian of softmax.
    """
    z, d = check_logits(z, "z", dim=-1)
    return _outer_jacobian(_softmax(z, d))


def ce_gradient(logits: Any, target: Any) -> torch.Tensor:
    """Per-sample gradient of the cross-entropy in the logits: dCE_n/dz_n = p_n - y_n.

    Unreduced (no 1/N).  For class indices the entry p_c - 1 is computed as
    -(1 + t - e_c)/(1 + t) (see ``functional``), so it keeps its relative accuracy when
    p_c is within an ulp of 1.

    Args:
        logits: (N, K), K >= 2.
        target: class indices (N,) or probability rows (N, K).

    Returns:
        (N, K), dtype and device of ``logits``; each row sums to 0.

    Example:
        >>> ce_gradient([[0.0, 0.0]], [1])
        tensor([[ 0.5000, -0.5000]], dtype=torch.float64)

    Derived in: book/02-cross-entropy.md, §The gradient p - y.
    """
    z, _ = check_logits(logits, "logits", ndim=2)
    target = check_target(target, z, "target")
    return _ce_gradient(z, target)


def ce_hessian(logits: Any) -> torch.Tensor:
    """Per-sample Hessian of the cross-entropy in the logits: H = diag(p) - p p^T.

    It does not depend on the target.  Symmetric positive semidefinite, 1 (the all-ones
    vector) in its kernel, eigenvalues in [0, 1/2].

    Args:
        logits: (..., K), K >= 2 (typically (N, K) or (K,)).

    Returns:
        (..., K, K), dtype and device of ``logits``.

    Example:
        >>> ce_hessian([[0.0, 0.0]])
        tensor([[[ 0.2500, -0.2500],
                 [-0.2500,  0.2500]]], dtype=torch.float64)

    Derived in: book/02-cross-entropy.md, §The Hessian diag(p) - p p^T.
    """
    z, d = check_logits(logits, "logits", dim=-1)
    return _outer_jacobian(_softmax(z, d))


# ----------------------------------------------------------------------------------
# public API: the linear softmax classifier
# ----------------------------------------------------------------------------------


def linear_ce_loss(W: Any, b: Any, X: Any, y: Any, l2: float = 0.0) -> torch.Tensor:
    """Mean cross-entropy of the linear classifier z = X W^T + b, plus (l2/2) ||W||_F^2.

    Args:
        W: (K, d) weights.  b: (K,) biases.  X: (N, d) inputs.  y: (N,) class indices.
        l2: L2 weight (>= 0) on W only (not on b).

    Returns:
        Scalar tensor, dtype and device of ``W``; differentiable (twice) in W, b and X.

    Example:
        >>> linear_ce_loss([[1.0], [-1.0]], [0.0, 0.0], [[0.0]], [0])
        tensor(0.6931, dtype=torch.float64)

    Derived in: book/04-convexity-weights.md, §The linear softmax classifier.
    """
    W, b, X, y, l2 = check_linear(W, b, X, y, l2)
    loss = _cross_entropy(_linear_logits(W, b, X), y, "mean", 0.0)
    return loss + 0.5 * l2 * (W * W).sum() if l2 else loss


def linear_ce_gradient(W: Any, b: Any, X: Any, y: Any, l2: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient of ``linear_ce_loss``: dW = (1/N) (P - Y)^T X + l2 W,  db = (1/N) sum_n (p_n - y_n).

    Args:
        W: (K, d).  b: (K,).  X: (N, d).  y: (N,) class indices.  l2: >= 0.

    Returns:
        (dW, db) with shapes (K, d) and (K,).

    Example:
        >>> dW, db = linear_ce_gradient([[0.0], [0.0]], [0.0, 0.0], [[2.0]], [0])
        >>> dW, db
        (tensor([[-1.],
                [ 1.]], dtype=torch.float64), tensor([-0.5000,  0.5000], dtype=torch.float64))

    Derived in: book/04-convexity-weights.md, §Gradient and Hessian in the weights.
    """
    W, b, X, y, l2 = check_linear(W, b, X, y, l2)
    g = _ce_gradient(_linear_logits(W, b, X), y) / X.shape[0]  # (N, K)
    dW = g.T @ X
    return (dW + l2 * W if l2 else dW), g.sum(dim=0)


def linear_ce_hessian(W: Any, b: Any, X: Any, y: Any, l2: float = 0.0) -> torch.Tensor:
    """Dense Hessian of ``linear_ce_loss`` in theta, from its Kronecker structure.

    H = (1/N) sum_n (diag(p_n) - p_n p_n^T) (x) x~_n x~_n^T + l2 * (identity on the weight
    coordinates), x~ = [x; 1].  Parameter ordering (class-major):
    theta = torch.cat([W, b[:, None]], dim=1).reshape(-1), so index k (d+1) + i is W[k, i]
    (i < d) or b[k] (i = d).  Block (k, l) is (1/N) X~^T diag(p_k delta_kl - p_k p_l) X~;
    all the -p_k p_l parts come from one (N x K(d+1))^T (N x K(d+1)) product.  It does
    not depend on y (accepted for a uniform signature).
    With l2 = 0 its kernel contains, for every u in R^(d+1), the direction 1 u^T
    (adding the same vector to every class's [w_k; b_k] does not change p).

    Args:
        W: (K, d).  b: (K,).  X: (N, d).  y: (N,) class indices.  l2: >= 0.

    Returns:
        (K(d+1), K(d+1)) symmetric PSD matrix, dtype and device of ``W``.

    Example:
        >>> linear_ce_hessian([[0.0], [0.0]], [0.0, 0.0], [[1.0]], [0])
        tensor([[ 0.2500,  0.2500, -0.2500, -0.2500],
                [ 0.2500,  0.2500, -0.2500, -0.2500],
                [-0.2500, -0.2500,  0.2500,  0.2500],
                [-0.2500, -0.2500,  0.2500,  0.2500]], dtype=torch.float64)

    Derived in: book/04-convexity-weights.md, §The Kronecker Hessian.
    """
    W, b, X, y, l2 = check_linear(W, b, X, y, l2)
    return _linear_hessian(W, b, X, l2)


def linear_ce_hvp(W: Any, b: Any, X: Any, y: Any, V: Any, l2: float = 0.0) -> torch.Tensor:
    """Hessian-vector product H v of ``linear_ce_loss``, matrix-free in O(N d K).

    With V the direction reshaped to (K, d+1) (same ordering as ``linear_ce_hessian``),
    u_n = V x~_n (the change of the logits), H v = (1/N) sum_n (H_n u_n) x~_n^T + l2 [V_W, 0],
    and H_n u = p * u - p (p . u).

    Args:
        W: (K, d).  b: (K,).  X: (N, d).  y: (N,) class indices.
        V: (K(d+1),) or (K, d+1).  l2: >= 0.

    Returns:
        Same shape as ``V``; dtype and device of ``W``.

    Example:
        >>> linear_ce_hvp([[0.0], [0.0]], [0.0, 0.0], [[1.0]], [0], [1.0, 0.0, 0.0, 0.0])
        tensor([ 0.2500,  0.2500, -0.2500, -0.2500], dtype=torch.float64)

    Derived in: book/04-convexity-weights.md, §Hessian-vector products.
    """
    W, b, X, y, l2 = check_linear(W, b, X, y, l2)
    V = check_direction(V, W, "V")
    return _linear_hvp(W, b, X, V, l2)
