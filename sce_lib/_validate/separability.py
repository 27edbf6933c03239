"""Boundary checks of :mod:`sce_lib.separability`.

The theory functions take float64 array-likes (``L``, ``s``, margins, losses) and an integer ``K``;
the estimators take features (N, d), labels (N,) and an optional matrix (m, d). Each public function
calls the checks below once, at its boundary; errors name the argument, the expected and the
received, e.g.::

    ValueError: L: expected every value in (0, 2.30259) (the valid range min(log K, L0(K)) for K = 10), got 3.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .core import to_tensor
from .scalars import check_int, check_option

__all__ = [
    "check_classes",
    "check_real_array",
    "check_positive_array",
    "check_loss_in_range",
    "check_features_labels",
    "check_weighting",
    "check_diagnostics_inputs",
]


def check_classes(K: Any, name: str = "K") -> int:
    """An int K >= 2 (the number of classes).

    Example:
        >>> check_classes(10)
        10
    """
    return check_int(K, name, minimum=2)


def _as_float64_array(x: Any, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        if x.dtype == torch.bool or x.is_complex():
            raise TypeError(f"{name}: expected real numbers, got dtype {x.dtype}")
        x = x.detach().to("cpu", torch.float64).numpy()
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name}: expected real numbers, got bool")
    try:
        arr = np.asarray(x)
    except Exception as err:  # ragged lists and the like
        raise TypeError(f"{name}: expected real numbers (a scalar or array-like), got {type(x).__name__} ({err})") from None
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name}: expected real numbers (a scalar or array-like), got dtype {arr.dtype}")
    return arr.astype(np.float64)


def check_real_array(x: Any, name: str) -> np.ndarray:
    """A float64 numpy array of finite real numbers (scalars give a 0-d array).

    Example:
        >>> check_real_array([1, 2.5], "s")
        array([1. , 2.5])
    """
    arr = _as_float64_array(x, name)
    if arr.size and not np.isfinite(arr).all():
        bad = float(arr[~np.isfinite(arr)].flat[0])
        raise ValueError(f"{name}: expected finite values, got {bad!r}")
    return arr


def check_positive_array(x: Any, name: str, *, allow_zero: bool = False) -> np.ndarray:
    """A float64 array of finite values > 0 (>= 0 with ``allow_zero``).

    Example:
        >>> check_positive_array(0.5, "L")
        array(0.5)
    """
    arr = check_real_array(x, name)
    bad = arr < 0 if allow_zero else arr <= 0
    if bad.any():
        raise ValueError(f"{name}: expected values {'>= 0' if allow_zero else '> 0'}, got {float(arr[bad].flat[0])!r}")
    return arr


def check_loss_in_range(L: Any, K: int, upper: float, name: str = "L") -> np.ndarray:
    """Loss values in (0, upper), where upper = min(log K, L0(K)) is the bound's valid range."""
    arr = _as_float64_array(L, name)
    bad = ~((arr > 0) & (arr < upper))  # NaN fails both comparisons
    if bad.any():
        raise ValueError(
            f"{name}: expected every value in (0, {upper:g}) (the valid range min(log K, L0(K)) "
            f"for K = {K}), got {float(arr[bad].flat[0])!r}"
        )
    return arr


def check_weighting(weighting: Any, options: Sequence[str] = ("balanced", "pairs")) -> str:
    """One of ``"balanced"`` or ``"pairs"``."""
    return check_option(weighting, "weighting", options)


def _real_tensor(x: Any, name: str, ndim: int, shape_doc: str) -> torch.Tensor:
    """A real tensor with ``ndim`` dims (integers become float64), finite; bool/complex are TypeError."""
    x = to_tensor(x, name)
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"{name}: expected a real floating-point tensor, got dtype {x.dtype}")
    if not x.is_floating_point():
        x = x.to(torch.float64)
    if x.dim() != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D tensor of shape {shape_doc}, got {x.dim()}-D shape {tuple(x.shape)}")
    if x.numel() and not bool(torch.isfinite(x).all()):
        bad = (~torch.isfinite(x)).nonzero()[0].tolist()
        raise ValueError(f"{name}: expected finite values, got {x[tuple(bad)].item()} at index {tuple(bad)}")
    return x


def _same_device(x: torch.Tensor, name: str, ref: torch.Tensor) -> None:
    if x.device != ref.device:
        raise ValueError(f"{name}: expected a tensor on {ref.device} (the device of features), got one on {x.device}")


def check_features_labels(
    features: Any, labels: Any, matrix: Any = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Features (N, d) finite floating, labels (N,) integers, optional matrix (m, d) on the same device.

    Every class present must hold at least two samples (an intra-class pair) and at least two
    classes must be present (an inter-class pair).

    Returns:
        (features, labels as int64, matrix in the features' dtype or None).
    """
    X = _real_tensor(features, "features", 2, "(N, d)")
    y = to_tensor(labels, "labels")
    if y.dtype == torch.bool or y.is_complex():
        raise TypeError(f"labels: expected integer class labels, got dtype {y.dtype}")
    _same_device(y, "labels", X)
    if y.dim() != 1:
        raise ValueError(f"labels: expected a 1-D tensor of shape (N,) = ({X.shape[0]},), got {y.dim()}-D shape {tuple(y.shape)}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(
            f"labels: expected shape (N,) = ({X.shape[0]},) to match features {tuple(X.shape)}, got {tuple(y.shape)}"
        )
    if y.is_floating_point():
        if not bool(torch.isfinite(y).all()) or bool((y != torch.round(y)).any()):
            raise ValueError("labels: expected integer class labels, got non-integral values")
    y = y.to(torch.int64)
    classes, counts = torch.unique(y, return_counts=True)
    if classes.numel() < 2:
        raise ValueError(
            f"labels: expected at least two classes present (an inter-class pair), got {classes.numel()}"
        )
    small = counts < 2
    if bool(small.any()):
        c = int(classes[small][0])
        raise ValueError(
            f"labels: expected at least two samples in every class (an intra-class pair), "
            f"got class {c} with {int(counts[small][0])}"
        )
    M = None
    if matrix is not None:
        M = _real_tensor(matrix, "matrix", 2, f"(m, d) = (m, {X.shape[1]})")
        _same_device(M, "matrix", X)
        if M.shape[1] != X.shape[1]:
            raise ValueError(
                f"matrix: expected shape (m, d) = (m, {X.shape[1]}) to match features {tuple(X.shape)}, "
                f"got {tuple(M.shape)}"
            )
        M = M.to(X.dtype)
    return X, y, M


def check_diagnostics_inputs(
    logits: Any, labels: Any, weight: Any = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Logits (N, K) finite with N >= 1 and K >= 2, labels (N,) in [0, K-1], optional weight (K, d).

    Returns:
        (logits, labels as int64, weight or None), on the logits' device.
    """
    z = _real_tensor(logits, "logits", 2, "(N, K)")
    n, k = z.shape
    if n < 1 or k < 2:
        raise ValueError(f"logits: expected shape (N, K) with N >= 1 and K >= 2, got {tuple(z.shape)}")
    y = to_tensor(labels, "labels")
    if y.dtype == torch.bool or y.is_floating_point() or y.is_complex():
        raise TypeError(f"labels: expected integer class indices, got dtype {y.dtype}")
    _same_device(y, "labels", z)
    if tuple(y.shape) != (n,):
        raise ValueError(f"labels: expected shape (N,) = ({n},) to match logits {tuple(z.shape)}, got {tuple(y.shape)}")
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi > k - 1:
        raise ValueError(f"labels: expected class indices in [0, {k - 1}], got min {lo} and max {hi}")
    W = None
    if weight is not None:
        W = _real_tensor(weight, "weight", 2, f"(K, d) = ({k}, d)")
        _same_device(W, "weight", z)
        if W.shape[0] != k:
            raise ValueError(f"weight: expected shape (K, d) = ({k}, d) to match logits {tuple(z.shape)}, got {tuple(W.shape)}")
    return z, y.to(torch.int64), W
