"""Boundary checks of ``sce_lib.optim.fit_softmax_regression``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .core import check_target, to_tensor
from .scalars import check_bool, check_int, check_option, check_real

__all__ = ["METHODS", "check_fit_data", "check_fit_options", "check_fit_extras"]

METHODS = ("auto", "gd", "nesterov", "newton", "newton-cg", "lbfgs")


def _device(device: Any) -> torch.device | None:
    if device is None:
        return None
    try:
        return torch.device(device)
    except (TypeError, RuntimeError) as err:
        raise (TypeError if isinstance(err, TypeError) else ValueError)(
            f"device: expected None, a torch.device or a device string like 'cpu' or 'cuda', got {device!r}"
        ) from None


def check_fit_data(X: Any, y: Any, n_classes: Any, device: Any) -> tuple[torch.Tensor, torch.Tensor, int]:
    """X (N, d) real, dense -> floating (integer X becomes float64; float16 and bfloat16 become float32,
    where the solvers can reach a useful tolerance), finite, N >= 1, d >= 1; y (N,) class indices in
    [0, K-1]; K = n_classes, or max(y) + 1 when None, and K >= 2.

    Example:
        >>> X, y, K = check_fit_data([[0.0], [1.0]], [0, 2], None, None)
        >>> tuple(X.shape), y.tolist(), K
        ((2, 1), [0, 2], 3)
    """
    if isinstance(X, torch.Tensor) and X.layout != torch.strided:
        raise TypeError(f"X: expected a dense (strided) tensor, got layout {X.layout}; sparse X is not "
                        "supported, convert it with X.to_dense()")
    if hasattr(X, "toarray") and hasattr(X, "nnz"):
        raise TypeError(f"X: expected a dense array, got the scipy sparse matrix {type(X).__name__}; sparse X "
                        "is not supported, convert it with X.toarray()")
    X = to_tensor(X, "X")
    if X.dtype == torch.bool or X.is_complex():
        raise TypeError(f"X: expected a real tensor, got dtype {X.dtype}")
    if not X.is_floating_point():
        X = X.to(torch.float64)
    elif X.dtype in (torch.float16, torch.bfloat16):
        X = X.to(torch.float32)
    dev = _device(device)
    if dev is not None:
        X = X.to(dev)
    if X.dim() != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X: expected a 2-D tensor of shape (N, d) with N >= 1 and d >= 1, got shape {tuple(X.shape)}")
    if not bool(torch.isfinite(X).all()):
        bad = (~torch.isfinite(X)).nonzero()[0].tolist()
        raise ValueError(f"X: expected finite values, got {float(X[bad[0], bad[1]])} at index {tuple(bad)}")
    y = to_tensor(y, "y").to(X.device)
    if y.dim() != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y: expected shape (N,) = ({X.shape[0]},) to match X {tuple(X.shape)}, got {tuple(y.shape)}")
    if y.is_floating_point() and not bool(torch.isfinite(y).all()):
        raise ValueError("y: expected finite class indices, got NaN or inf")
    if n_classes is None:
        if y.dtype == torch.bool or y.is_complex():
            raise TypeError(f"y: expected integer class indices, got dtype {y.dtype}")
        K = int(y.max()) + 1 if y.numel() else 0
        if K < 2:
            raise ValueError(f"y: expected at least two classes (max label >= 1), got max label {K - 1}")
    else:
        K = check_int(n_classes, "n_classes", minimum=2)
    y = check_target(y, torch.empty(X.shape[0], K, dtype=X.dtype, device=X.device), "y")
    return X, y, K


def check_fit_options(l2: Any, method: Any, tol: Any, max_iter: Any, progress: Any,
                      callback: Any) -> tuple[float, str, float | None, int | None, bool, Callable | None]:
    """l2 >= 0 finite; method in METHODS; tol None or in (0, 1); max_iter None or an int >= 1; progress a bool;
    callback None or callable.

    Example:
        >>> check_fit_options(0.1, "newton", 1e-8, 100, False, None)
        (0.1, 'newton', 1e-08, 100, False, None)
    """
    l2 = check_real(l2, "l2", minimum=0.0)
    method = check_option(method, "method", METHODS)
    if tol is not None:
        tol = check_real(tol, "tol", minimum=0.0, maximum=1.0, strict_min=True, strict_max=True)
    if max_iter is not None:
        max_iter = check_int(max_iter, "max_iter", minimum=1)
    progress = check_bool(progress, "progress")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback: expected None or a callable (t, W, b), got {type(callback).__name__}")
    return l2, method, tol, max_iter, progress, callback  # type: ignore[return-value]


def check_fit_extras(sample_weight: Any, fit_intercept: Any, init: Any, X: torch.Tensor, K: int
                     ) -> tuple[torch.Tensor | None, bool, tuple[torch.Tensor, torch.Tensor] | None]:
    """sample_weight None or (N,) finite, >= 0, with a positive sum; fit_intercept a bool; init None or a
    pair (W (K, d), b (K,)) of finite values (b is ignored without an intercept).  Tensors come back in
    X's dtype and on X's device.

    Example:
        >>> X = torch.zeros(3, 2, dtype=torch.float64)
        >>> w, fi, init = check_fit_extras([1, 0, 2], True, None, X, 2)
        >>> w.tolist(), fi, init
        ([1.0, 0.0, 2.0], True, None)
    """
    fit_intercept = check_bool(fit_intercept, "fit_intercept")
    n, d = X.shape
    w = None
    if sample_weight is not None:
        w = to_tensor(sample_weight, "sample_weight")
        if w.dtype == torch.bool or w.is_complex():
            raise TypeError(f"sample_weight: expected real weights, got dtype {w.dtype}")
        w = w.to(device=X.device, dtype=X.dtype)
        if tuple(w.shape) != (n,):
            raise ValueError(f"sample_weight: expected shape (N,) = ({n},) to match X, got {tuple(w.shape)}")
        if not bool(torch.isfinite(w).all()) or bool((w < 0).any()):
            raise ValueError(f"sample_weight: expected finite weights >= 0, got min {float(w.min())}")
        if not float(w.sum()) > 0:
            raise ValueError("sample_weight: expected a positive sum, got all weights 0")
    if init is not None:
        if not (isinstance(init, (tuple, list)) and len(init) == 2):
            raise TypeError(f"init: expected None or a pair (W, b), got {type(init).__name__}")
        W0 = to_tensor(init[0], "init W").to(device=X.device, dtype=X.dtype)
        b0 = to_tensor(init[1], "init b").to(device=X.device, dtype=X.dtype)
        if tuple(W0.shape) != (K, d) or tuple(b0.shape) != (K,):
            raise ValueError(f"init: expected W of shape (K, d) = ({K}, {d}) and b of shape ({K},), got "
                             f"{tuple(W0.shape)} and {tuple(b0.shape)}")
        if not (bool(torch.isfinite(W0).all()) and bool(torch.isfinite(b0).all())):
            raise ValueError("init: expected finite W and b, got NaN or inf")
        init = (W0, b0)
    return w, fit_intercept, init
