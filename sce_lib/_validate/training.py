"""Boundary checks of :mod:`sce_lib.training`: the data, the schedule of loss targets and the optimiser.

Messages follow the library's rule, ``<name>: expected <what>, got <received>``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from .core import to_tensor

__all__ = ["check_inputs", "check_labels", "check_loss_targets", "check_model"]


def check_model(model: Any, name: str = "model") -> torch.nn.Module:
    """A module with a ``features`` method and a linear ``head`` (the models of sce_lib.training)."""
    if not isinstance(model, torch.nn.Module) or not callable(getattr(model, "features", None)) \
            or not isinstance(getattr(model, "head", None), torch.nn.Linear):
        raise TypeError(f"{name}: expected a torch.nn.Module with a features() method and a torch.nn.Linear "
                        f"head (e.g. sce_lib.training.MLP or CNN1d), got {type(model).__name__}")
    return model


def check_inputs(X: Any, model: torch.nn.Module, name: str = "X") -> torch.Tensor:
    """A finite floating (N, d_in) tensor whose width is the model's input width, N >= 1."""
    X = to_tensor(X, name)
    if not X.is_floating_point():
        raise TypeError(f"{name}: expected a floating tensor, got dtype {X.dtype}")
    d_in = model.d_in
    if X.dim() != 2 or X.shape[0] < 1 or X.shape[1] != d_in:
        raise ValueError(f"{name}: expected a tensor of shape (N, {d_in}) with N >= 1, got shape {tuple(X.shape)}")
    if not bool(torch.isfinite(X).all()):
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return X


def check_labels(y: Any, X: torch.Tensor, K: int, name: str = "y") -> torch.Tensor:
    """Integer class indices of shape (N,) in [0, K-1]; returned as int64 on the device of X."""
    y = to_tensor(y, name)
    if y.dtype == torch.bool or y.is_floating_point() or y.is_complex():
        raise TypeError(f"{name}: expected an integer tensor of class indices, got dtype {y.dtype}")
    if y.dim() != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"{name}: expected shape ({X.shape[0]},) (one label per row of X), got {tuple(y.shape)}")
    if y.device != X.device:
        raise ValueError(f"{name}: expected a tensor on {X.device} (the device of X), got one on {y.device}")
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi > K - 1:
        raise ValueError(f"{name}: expected class indices in [0, {K - 1}], got range [{lo}, {hi}]")
    return y.to(torch.int64)


def check_loss_targets(targets: Any, name: str = "loss_targets") -> tuple[float, ...]:
    """A non-empty sequence of finite numbers > 0, strictly decreasing."""
    if isinstance(targets, (str, bytes)) or not isinstance(targets, Sequence) or len(targets) == 0:
        raise TypeError(f"{name}: expected a non-empty sequence of numbers, got {type(targets).__name__}")
    values = []
    for t in targets:
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t <= 0:
            raise ValueError(f"{name}: expected finite numbers > 0, got {t!r}")
        values.append(float(t))
    if any(b >= a for a, b in zip(values, values[1:])):
        raise ValueError(f"{name}: expected strictly decreasing values, got {values}")
    return tuple(values)

