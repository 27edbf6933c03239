"""Boundary checks of :mod:`sce_lib.training`: the data, the schedule of loss targets and the optimiser.

Messages follow the library's rule, ``<name>: expected <what>, got <received>``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from .core import to_tensor

__all__ = ["check_inputs", "check_labels", "check_loss_targets", "check_model", "check_checkpoint_steps",
           "check_loss_choice", "LOSSES"]

LOSSES = ("cross_entropy", "label_smoothing", "squared_error", "sigmoid", "logit_penalty")
_LOSS_PARAM_DEFAULT = {"label_smoothing": 0.1, "logit_penalty": 1e-3}


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


def check_loss_targets(targets: Any, name: str = "loss_targets", *, allow_empty: bool = False) -> tuple[float, ...]:
    """A non-empty sequence of finite numbers > 0, strictly decreasing (empty allowed with ``allow_empty``)."""
    if isinstance(targets, (str, bytes)) or not isinstance(targets, Sequence) or (len(targets) == 0 and not allow_empty):
        raise TypeError(f"{name}: expected a non-empty sequence of numbers, got {type(targets).__name__}")
    values = []
    for t in targets:
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t <= 0:
            raise ValueError(f"{name}: expected finite numbers > 0, got {t!r}")
        values.append(float(t))
    if any(b >= a for a, b in zip(values, values[1:])):
        raise ValueError(f"{name}: expected strictly decreasing values, got {values}")
    return tuple(values)



def check_checkpoint_steps(steps: Any, name: str = "checkpoint_steps") -> tuple[int, ...]:
    """A (possibly empty) strictly increasing sequence of ints >= 1.

    Example:
        >>> check_checkpoint_steps([10, 100])
        (10, 100)
    """
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence):
        raise TypeError(f"{name}: expected a sequence of ints, got {type(steps).__name__}")
    values = []
    for t in steps:
        if isinstance(t, bool) or not isinstance(t, int) or t < 1:
            raise ValueError(f"{name}: expected ints >= 1, got {t!r}")
        values.append(int(t))
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"{name}: expected strictly increasing steps, got {values}")
    return tuple(values)


def check_loss_choice(loss: Any, loss_param: Any) -> tuple[str, float | None]:
    """One of LOSSES and its parameter: label smoothing's epsilon in (0, 1) (default 0.1), the logit
    penalty's rho > 0 (default 1e-3), None for the others.

    Example:
        >>> check_loss_choice("label_smoothing", None), check_loss_choice("squared_error", None)
        (('label_smoothing', 0.1), ('squared_error', None))
    """
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"loss: expected one of {', '.join(LOSSES)}, got {loss!r}")
    if loss not in _LOSS_PARAM_DEFAULT:
        if loss_param is not None:
            raise ValueError(f"loss_param: expected None for loss={loss!r} (it has no parameter), got {loss_param!r}")
        return loss, None
    if loss_param is None:
        return loss, _LOSS_PARAM_DEFAULT[loss]
    if isinstance(loss_param, bool) or not isinstance(loss_param, (int, float)) or not math.isfinite(loss_param):
        raise TypeError(f"loss_param: expected a finite real number, got {loss_param!r}")
    value = float(loss_param)
    if loss == "label_smoothing" and not 0.0 < value < 1.0:
        raise ValueError(f"loss_param: expected epsilon in (0, 1) for label smoothing, got {value!r}")
    if loss == "logit_penalty" and not value > 0.0:
        raise ValueError(f"loss_param: expected rho > 0 for the logit penalty, got {value!r}")
    return loss, value
