"""Derivatives of softmax cross-entropy in the logits.

In the logits z of one sample (p = softmax(z), y the target distribution):

    d softmax / dz = diag(p) - p p^T          (the softmax Jacobian, K x K)
    d CE / dz      = p - y
    d^2 CE / dz^2  = diag(p) - p p^T          (the same matrix: symmetric, PSD, 1 in its kernel)

The linear classifier built on them (loss, gradient, Hessian, HVP in the weights, and the
parameter layout) is :mod:`sce_lib.linear`; its functions are re-exported here for the old
import path.

Validation scans the logits (and targets) for NaN/inf and ranges: on a GPU that is one or two
host synchronisations per call; ``validation_disabled()`` skips them.
"""

from __future__ import annotations

import torch

from ._types import TensorLike
from ._validate import check_logits, check_target
from ._shifted import _shift
from .functional import _softmax

__all__ = [
    "softmax_jacobian",
    "ce_gradient",
    "ce_hessian",
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


# ----------------------------------------------------------------------------------
# public API: derivatives in the logits
# ----------------------------------------------------------------------------------


def softmax_jacobian(z: TensorLike) -> torch.Tensor:
    """Jacobian of softmax along the last dim: J = diag(p) - p p^T, J[i, j] = dp_i/dz_j.

    Args:
        z: logits, shape (..., K), K >= 2.

    Returns:
        (..., K, K), symmetric, dtype and device of ``z``.

    Validation scans the data (NaN/inf): on a GPU that costs one host synchronisation; ``validation_disabled()`` skips it.

    Example:
        >>> softmax_jacobian([0.0, 0.0])
        tensor([[ 0.2500, -0.2500],
                [-0.2500,  0.2500]], dtype=torch.float64)

    Derived in: book/01-softmax.md, §The Jacobian of softmax.
    """
    z, d = check_logits(z, "z", dim=-1)
    return _outer_jacobian(_softmax(z, d))


def ce_gradient(logits: TensorLike, target: TensorLike) -> torch.Tensor:
    """Per-sample gradient of the cross-entropy in the logits: dCE_n/dz_n = p_n - y_n.

    Unreduced (no 1/N).  For class indices the entry p_c - 1 is computed as
    -(1 + t - e_c)/(1 + t) (see ``functional``), so it keeps its relative accuracy when
    p_c is within an ulp of 1.

    Args:
        logits: (N, K), K >= 2.
        target: class indices (N,) or probability rows (N, K).

    Returns:
        (N, K), dtype and device of ``logits``; each row sums to 0.

    Validation scans the data (NaN/inf, class range, row sums): on a GPU that costs a few host synchronisations; ``validation_disabled()`` skips it.

    Example:
        >>> ce_gradient([[0.0, 0.0]], [1])
        tensor([[ 0.5000, -0.5000]], dtype=torch.float64)

    Derived in: book/02-cross-entropy.md, §The gradient p - y.
    """
    z, _ = check_logits(logits, "logits", ndim=2)
    target = check_target(target, z, "target")
    return _ce_gradient(z, target)


def ce_hessian(logits: TensorLike) -> torch.Tensor:
    """Per-sample Hessian of the cross-entropy in the logits: H = diag(p) - p p^T.

    It does not depend on the target.  Symmetric positive semidefinite, 1 (the all-ones
    vector) in its kernel, eigenvalues in [0, 1/2].

    Args:
        logits: (..., K), K >= 2 (typically (N, K) or (K,)).

    Returns:
        (..., K, K), dtype and device of ``logits``.

    Validation scans the data (NaN/inf): on a GPU that costs one host synchronisation; ``validation_disabled()`` skips it.

    Example:
        >>> ce_hessian([[0.0, 0.0]])
        tensor([[[ 0.2500, -0.2500],
                 [-0.2500,  0.2500]]], dtype=torch.float64)

    Derived in: book/02-cross-entropy.md, §The Hessian.
    """
    z, d = check_logits(logits, "logits", dim=-1)
    return _outer_jacobian(_softmax(z, d))



# The linear classifier moved to sce_lib.linear; its names stay importable from here (resolved on
# first use: sce_lib.linear itself imports _ce_gradient from this module).
_MOVED = ("linear_ce_loss", "linear_ce_gradient", "linear_ce_hessian", "linear_ce_hvp")


def __getattr__(name: str) -> object:
    if name in _MOVED:
        from . import linear

        return getattr(linear, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
