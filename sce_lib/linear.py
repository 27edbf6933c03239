"""The linear softmax classifier: loss, gradient, Hessian and Hessian-vector product in the weights.

For z_n = W x_n + b, write x~_n = [x_n; 1] (length d+1) and collect the parameters class-major,
theta = vec([W b]) = torch.cat([W, b[:, None]], dim=1).reshape(-1) (:func:`pack_theta`; the inverse
is :func:`unpack_theta`), so theta[k (d+1) + i] is W[k, i] for i < d and b[k] for i = d.  Then, with
L(theta) = (1/N) sum_n CE(z_n, y_n) + (l2/2) ||W||_F^2,

    grad   = (1/N) sum_n (p_n - y_n) x~_n^T  + l2 [W, 0]                     (K, d+1)
    H      = (1/N) sum_n H_n (x) x~_n x~_n^T + l2 diag([1]*d + [0]) per class  (K(d+1), K(d+1))
    H v    = (1/N) sum_n (H_n V x~_n) x~_n^T + l2 [V_W, 0]                  (K, d+1), O(N d K)

where (x) is the Kronecker product and H_n = diag(p_n) - p_n p_n^T (:mod:`sce_lib.derivatives`).
"""

from __future__ import annotations

import torch

from ._types import TensorLike
from ._validate.linear import check_direction, check_linear, check_pack, check_unpack
from .derivatives import _ce_gradient
from .functional import _cross_entropy, _softmax

__all__ = [
    "pack_theta",
    "unpack_theta",
    "linear_ce_loss",
    "linear_ce_gradient",
    "linear_ce_hessian",
    "linear_ce_hvp",
]


# ----------------------------------------------------------------------------------
# the parameter layout theta = vec([W b])
# ----------------------------------------------------------------------------------


def pack_theta(W: TensorLike, b: TensorLike) -> torch.Tensor:
    """The parameter vector theta = vec([W b]), class-major: ``cat([W, b[:, None]], 1).reshape(-1)``.

    ``theta[k (d+1) + i]`` is ``W[k, i]`` for ``i < d`` and ``b[k]`` for ``i = d``: the ordering
    of :func:`linear_ce_hessian` and :func:`linear_ce_hvp`. Differentiable, and free of data
    scans (it works under ``torch.func`` transforms and costs no host synchronisation).

    Args:
        W: (K, d) weights.  b: (K,) biases, W's dtype and device (integer data takes W's dtype).

    Returns:
        (K(d+1),) tensor, dtype and device of ``W``.

    Example:
        >>> pack_theta([[1.0, 2.0], [3.0, 4.0]], [5.0, 6.0])
        tensor([1., 2., 5., 3., 4., 6.], dtype=torch.float64)

    Derived in: book/04-convexity-weights.md, §The linear softmax classifier.
    """
    W, b = check_pack(W, b)
    return torch.cat([W, b[:, None]], dim=1).reshape(-1)


def unpack_theta(theta: TensorLike, K: int, d: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The inverse of :func:`pack_theta`: ``(W (K, d), b (K,))`` from theta.

    Args:
        theta: (K(d+1),) or (K, d+1) parameters in the class-major layout.
        K: classes, >= 1.  d: features, >= 0.

    Returns:
        ``(W, b)``: views of ``theta`` when it is a floating tensor (no copy; differentiable).

    Example:
        >>> W, b = unpack_theta(torch.tensor([1.0, 2.0, 5.0, 3.0, 4.0, 6.0]), 2, 2)
        >>> W.tolist(), b.tolist()
        ([[1.0, 2.0], [3.0, 4.0]], [5.0, 6.0])

    Derived in: book/04-convexity-weights.md, §The linear softmax classifier.
    """
    theta, K, d = check_unpack(theta, K, d)
    T = theta.reshape(K, d + 1)
    return T[:, :d], T[:, d]


# ----------------------------------------------------------------------------------
# private, unvalidated helpers
# ----------------------------------------------------------------------------------


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
# public API
# ----------------------------------------------------------------------------------


def linear_ce_loss(W: TensorLike, b: TensorLike, X: TensorLike, y: TensorLike, l2: float = 0.0) -> torch.Tensor:
    """Mean cross-entropy of the linear classifier z = X W^T + b, plus (l2/2) ||W||_F^2.

    Args:
        W: (K, d) weights.  b: (K,) biases.  X: (N, d) inputs.  y: (N,) class indices.
        l2: L2 weight (>= 0) on W only (not on b).

    Returns:
        Scalar tensor, dtype and device of ``W``; differentiable (twice) in W, b and X.

    Validation scans W, b, X and y (NaN/inf, class range): on a GPU, a few host
    synchronisations per call (also in the gradient, Hessian and HVP below);
    ``validation_disabled()`` skips them.

    Example:
        >>> linear_ce_loss([[1.0], [-1.0]], [0.0, 0.0], [[0.0]], [0])
        tensor(0.6931, dtype=torch.float64)

    Derived in: book/04-convexity-weights.md, §The linear softmax classifier.
    """
    W, b, X, y, l2 = check_linear(W, b, X, y, l2)
    loss = _cross_entropy(_linear_logits(W, b, X), y, "mean", 0.0)
    return loss + 0.5 * l2 * (W * W).sum() if l2 else loss


def linear_ce_gradient(W: TensorLike, b: TensorLike, X: TensorLike, y: TensorLike, l2: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradient of ``linear_ce_loss``: dW = (1/N) (P - Y)^T X + l2 W,  db = (1/N) sum_n (p_n - y_n).

    Args:
        W: (K, d).  b: (K,).  X: (N, d).  y: (N,) class indices.  l2: >= 0.

    Returns:
        (dW, db) with shapes (K, d) and (K,).

    Validation scans the data (NaN/inf, class range): on a GPU that costs a few host synchronisations; ``validation_disabled()`` skips it.

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


def linear_ce_hessian(W: TensorLike, b: TensorLike, X: TensorLike, y: TensorLike, l2: float = 0.0) -> torch.Tensor:
    """Dense Hessian of ``linear_ce_loss`` in theta, from its Kronecker structure.

    H = (1/N) sum_n (diag(p_n) - p_n p_n^T) (x) x~_n x~_n^T + l2 * (identity on the weight
    coordinates), x~ = [x; 1].  Parameter ordering (class-major): theta = pack_theta(W, b),
    so index k (d+1) + i is W[k, i] (i < d) or b[k] (i = d).  Block (k, l) is (1/N) X~^T diag(p_k delta_kl - p_k p_l) X~;
    all the -p_k p_l parts come from one (N x K(d+1))^T (N x K(d+1)) product.  It does
    not depend on y (accepted for a uniform signature).
    With l2 = 0 its kernel contains, for every u in R^(d+1), the direction 1 u^T
    (adding the same vector to every class's [w_k; b_k] does not change p).

    Args:
        W: (K, d).  b: (K,).  X: (N, d).  y: (N,) class indices.  l2: >= 0.

    Returns:
        (K(d+1), K(d+1)) symmetric PSD matrix, dtype and device of ``W``.

    Validation scans the data (NaN/inf, class range): on a GPU that costs a few host synchronisations; ``validation_disabled()`` skips it.

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


def linear_ce_hvp(W: TensorLike, b: TensorLike, X: TensorLike, y: TensorLike, V: TensorLike, l2: float = 0.0) -> torch.Tensor:
    """Hessian-vector product H v of ``linear_ce_loss``, matrix-free in O(N d K).

    With V the direction reshaped to (K, d+1) (same ordering as ``linear_ce_hessian``),
    u_n = V x~_n (the change of the logits), H v = (1/N) sum_n (H_n u_n) x~_n^T + l2 [V_W, 0],
    and H_n u = p * u - p (p . u).

    Args:
        W: (K, d).  b: (K,).  X: (N, d).  y: (N,) class indices.
        V: (K(d+1),) or (K, d+1).  l2: >= 0.

    Returns:
        Same shape as ``V``; dtype and device of ``W``.

    Validation scans the data (NaN/inf, class range): on a GPU that costs a few host synchronisations; ``validation_disabled()`` skips it.

    Example:
        >>> linear_ce_hvp([[0.0], [0.0]], [0.0, 0.0], [[1.0]], [0], [1.0, 0.0, 0.0, 0.0])
        tensor([ 0.2500,  0.2500, -0.2500, -0.2500], dtype=torch.float64)

    Derived in: book/04-convexity-weights.md, §Hessian-vector products.
    """
    W, b, X, y, l2 = check_linear(W, b, X, y, l2)
    V = check_direction(V, W, "V")
    return _linear_hvp(W, b, X, V, l2)
