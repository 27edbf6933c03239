"""Boundary checks of :mod:`sce_lib.linear`: the parameter layout θ = vec([W b]).

``pack_theta``/``unpack_theta`` check only shapes, dtypes and devices (O(1), no scan of the data,
no host synchronisation), so they also work under ``torch.func`` transforms. The checks of the
loss, gradient, Hessian and HVP arguments (``check_linear``, ``check_direction``) check shapes,
dtypes, devices and ``l2`` always, and scan the data (NaN/inf, label range) only when
:func:`.core.scans_enabled` (not inside ``validation_disabled()``, not under a ``torch.func``
transform).
"""

from __future__ import annotations

from typing import Any

import torch

from .arrays import holds_bool
from .core import (
    _as_float,
    _check_finite,
    _check_ndim,
    _reject_bool_complex,
    _same_device,
    check_target,
    scans_enabled,
    to_tensor,
)
from .scalars import check_int, check_real

__all__ = ["check_pack", "check_unpack", "check_linear", "check_direction", "check_l2"]


def _float_tensor(x: Any, name: str, float_dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Real floating (integer data becomes ``float_dtype``); bool and complex are a TypeError."""
    if holds_bool(x):
        raise TypeError(f"{name}: expected a real floating-point tensor, got a nested list holding bools")
    x = to_tensor(x, name, float_dtype=float_dtype)
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"{name}: expected a real floating-point tensor, got dtype {x.dtype}")
    return x if x.is_floating_point() else x.to(float_dtype)


def check_pack(W: Any, b: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """``W`` (K, d) and ``b`` (K,): real floating, one dtype (W's; integer data takes it), one device.

    Example:
        >>> [tuple(t.shape) for t in check_pack([[1.0, 2.0]], [0.0])]
        [(1, 2), (1,)]
    """
    W = _float_tensor(W, "W")
    if W.dim() != 2:
        raise ValueError(f"W: expected a 2-D tensor of shape (K, d), got shape {tuple(W.shape)}")
    b = _float_tensor(b, "b", W.dtype)
    if b.dim() != 1 or b.shape[0] != W.shape[0]:
        raise ValueError(f"b: expected shape (K,) = ({W.shape[0]},) to match W {tuple(W.shape)}, "
                         f"got {tuple(b.shape)}")
    if b.device != W.device:
        raise ValueError(f"b: expected a tensor on {W.device} (the device of W), got one on {b.device}")
    if b.dtype != W.dtype:
        raise TypeError(f"b: expected dtype {W.dtype} (the dtype of W), got {b.dtype}")
    return W, b


def check_unpack(theta: Any, K: Any, d: Any) -> tuple[torch.Tensor, int, int]:
    """``theta`` of shape (K(d+1),) or (K, d+1), real floating; ``K >= 1`` and ``d >= 0`` ints.

    Example:
        >>> check_unpack([0.0] * 6, 2, 2)[1:]
        (2, 2)
    """
    K = check_int(K, "K", minimum=1)
    d = check_int(d, "d", minimum=0)
    theta = _float_tensor(theta, "theta")
    if tuple(theta.shape) not in ((K * (d + 1),), (K, d + 1)):
        raise ValueError(f"theta: expected shape (K(d+1),) = ({K * (d + 1)},) or (K, d+1) = ({K}, {d + 1}), "
                         f"got {tuple(theta.shape)}")
    return theta, K, d


# ----------------------------------------------------------------------------------
# the loss, gradient, Hessian and HVP of the linear classifier
# ----------------------------------------------------------------------------------


def check_l2(l2: Any) -> float:
    """The L2 weight: a finite real number >= 0.

    Example:
        >>> check_l2(0.5)
        0.5
    """
    return check_real(l2, "l2", minimum=0.0)


def _float_param(x: Any, name: str, ref: torch.Tensor | None, ref_name: str) -> torch.Tensor:
    """Real floating; with ``ref``: its dtype (integer data converted exactly) and device; scanned for NaN/inf."""
    if holds_bool(x):
        raise TypeError(f"{name}: expected a real floating-point tensor, got a nested list holding bools")
    x = to_tensor(x, name, float_dtype=None if ref is None else ref.dtype)
    if ref is None:
        x = _as_float(x, name)
    else:
        _reject_bool_complex(x, name)
        _same_device(x, name, ref, ref_name)
        if x.dtype != ref.dtype:
            if x.is_floating_point():
                raise TypeError(f"{name}: expected dtype {ref.dtype} (the dtype of {ref_name}), got {x.dtype}")
            x = x.to(ref.dtype)  # integer data (e.g. pixel counts) is exact in float
    if scans_enabled(x):
        _check_finite(x, name, allow_neg_inf=False)
    return x


def check_linear(
    W: Any, b: Any, X: Any, y: Any, l2: Any
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """Convert and check the arguments of the linear softmax classifier.

    Shapes: W (K, d) with K >= 2, b (K,), X (N, d) with N >= 1, y (N,) class indices in
    [0, K-1]; W, b and X share one real floating dtype (that of W; lists take it) and one
    device; all finite (scanned only when :func:`.core.scans_enabled`); l2 a finite number >= 0.
    """
    l2 = check_l2(l2)
    W = _float_param(W, "W", None, "")
    _check_ndim(W, "W", 2, "(K, d)")
    k, d = W.shape
    if k < 2:
        raise ValueError(f"W: expected K >= 2 classes (rows), got shape {tuple(W.shape)}")
    b = _float_param(b, "b", W, "W")
    _check_ndim(b, "b", 1, f"(K,) = ({k},)")
    if b.shape[0] != k:
        raise ValueError(f"b: expected shape (K,) = ({k},) to match W {tuple(W.shape)}, got {tuple(b.shape)}")
    X = _float_param(X, "X", W, "W")
    _check_ndim(X, "X", 2, f"(N, d) = (N, {d})")
    if X.shape[1] != d:
        raise ValueError(f"X: expected shape (N, d) = (N, {d}) to match W {tuple(W.shape)}, got {tuple(X.shape)}")
    if X.shape[0] == 0:
        raise ValueError("X: expected at least one sample (N >= 1), got shape (0, d): the mean loss is undefined")
    y = to_tensor(y, "y")
    _reject_bool_complex(y, "y")
    _same_device(y, "y", W, "W")
    _check_ndim(y, "y", 1, f"(N,) = ({X.shape[0]},)")
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y: expected shape (N,) = ({X.shape[0]},) to match X {tuple(X.shape)}, got {tuple(y.shape)}"
        )
    y = check_target(y, torch.empty(X.shape[0], k, dtype=W.dtype, device=W.device), "y")
    return W, b, X, y, l2


def check_direction(V: Any, W: torch.Tensor, name: str = "V") -> torch.Tensor:
    """A direction in parameter space: shape (K(d+1),) or (K, d+1), W's dtype and device, finite."""
    V = _float_param(V, name, W, "W")
    k, d = W.shape
    if tuple(V.shape) not in ((k * (d + 1),), (k, d + 1)):
        raise ValueError(
            f"{name}: expected shape (K(d+1),) = ({k * (d + 1)},) or (K, d+1) = ({k}, {d + 1}), "
            f"got {tuple(V.shape)}"
        )
    return V
