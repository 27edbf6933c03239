"""Boundary checks of :mod:`sce_lib.separability.collapse`: features, labels and an optional last layer.

Messages follow the library's rule, ``<name>: expected <what>, got <received>``.
"""

from __future__ import annotations

from typing import Any

import torch

from .core import to_tensor

__all__ = ["check_collapse_inputs", "check_separation_inputs"]


def _features(h: Any) -> torch.Tensor:
    h = to_tensor(h, "h")
    if h.dtype == torch.bool or h.is_complex():
        raise TypeError(f"h: expected a real floating-point tensor, got dtype {h.dtype}")
    if not h.is_floating_point():
        h = h.to(torch.float64)
    if h.dim() != 2 or h.shape[0] < 1 or h.shape[1] < 1:
        raise ValueError(f"h: expected a tensor of shape (N, d) with N, d >= 1, got shape {tuple(h.shape)}")
    if not bool(torch.isfinite(h).all()):
        raise ValueError("h: expected finite values, got NaN or inf")
    return h


def _labels(y: Any, h: torch.Tensor) -> torch.Tensor:
    y = to_tensor(y, "y")
    if y.dtype == torch.bool or y.is_floating_point() or y.is_complex():
        raise TypeError(f"y: expected an integer tensor of class indices, got dtype {y.dtype}")
    if tuple(y.shape) != (h.shape[0],):
        raise ValueError(f"y: expected shape (N,) = ({h.shape[0]},) to match h {tuple(h.shape)}, got {tuple(y.shape)}")
    if y.device != h.device:
        raise ValueError(f"y: expected a tensor on {h.device} (the device of h), got one on {y.device}")
    if int(y.min()) < 0:
        raise ValueError(f"y: expected class indices >= 0, got min {int(y.min())}")
    return y.to(torch.int64)


def _matrix(x: Any, name: str, shape: tuple[int, ...], h: torch.Tensor) -> torch.Tensor:
    x = to_tensor(x, name)
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"{name}: expected a real tensor, got dtype {x.dtype}")
    if tuple(x.shape) != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {tuple(x.shape)}")
    if x.device != h.device:
        raise ValueError(f"{name}: expected a tensor on {h.device} (the device of h), got one on {x.device}")
    if not bool(torch.isfinite(x.to(torch.float64)).all()):
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return x


def check_collapse_inputs(h: Any, y: Any, W: Any = None, b: Any = None
                          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None, int]:
    """h (N, d) finite, y (N,) in [0, K-1] with every class present, K >= 2; optional W (K, d), b (K,).

    K is W's number of rows when W is given, else max(y) + 1. ``b`` needs ``W``.

    Returns:
        (h, y as int64, W or None, b or None, K).

    Example:
        >>> check_collapse_inputs(torch.zeros(4, 2), torch.tensor([0, 1, 0, 1]))[-1]
        2
    """
    h = _features(h)
    y = _labels(y, h)
    if b is not None and W is None:
        raise ValueError("b: expected None when W is None (the decision argmax(W h + b) needs W), got a bias")
    if W is not None:
        W = to_tensor(W, "W")
        if W.dim() != 2 or W.shape[1] != h.shape[1]:
            raise ValueError(f"W: expected shape (K, d) = (K, {h.shape[1]}) to match h {tuple(h.shape)}, got {tuple(W.shape)}")
        K = int(W.shape[0])
        W = _matrix(W, "W", (K, h.shape[1]), h)
        if b is not None:
            b = _matrix(b, "b", (K,), h)
    else:
        K = int(y.max()) + 1
    if K < 2:
        raise ValueError(f"y: expected at least two classes (K >= 2), got K = {K}")
    if int(y.max()) > K - 1:
        raise ValueError(f"y: expected class indices in [0, {K - 1}] (K = W.shape[0]), got max {int(y.max())}")
    counts = torch.bincount(y, minlength=K)
    if bool((counts == 0).any()):
        c = int((counts == 0).nonzero()[0])
        raise ValueError(f"y: expected every class 0..{K - 1} present (each needs a mean), got none of class {c}")
    return h, y, W, b, K


def check_separation_inputs(h: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """h (N, d) finite with no zero row, y (N,) non-negative integers with at least two classes present.

    Example:
        >>> tuple(check_separation_inputs(torch.ones(2, 3), torch.tensor([0, 1]))[1].tolist())
        (0, 1)
    """
    h = _features(h)
    y = _labels(y, h)
    zero = h.norm(dim=1) == 0
    if bool(zero.any()):
        raise ValueError(f"h: expected no zero row (its cosine is undefined), got row {int(zero.nonzero()[0])} equal to 0")
    if torch.unique(y).numel() < 2:
        raise ValueError(f"y: expected at least two classes present, got {torch.unique(y).numel()}")
    return h, y
