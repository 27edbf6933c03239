"""Boundary checks of :mod:`sce_lib.hidden_layer` (the one-hidden-layer network)."""

from __future__ import annotations

from typing import Any

import torch

from .arrays import as_real_tensor
from .scalars import check_int, check_option

__all__ = ["ACTIVATIONS", "check_architecture", "check_theta", "check_network_inputs", "check_unit_index",
           "check_ts"]

ACTIVATIONS = ("tanh", "relu")


def n_params(d: int, n_hidden: int, n_classes: int) -> int:
    """``H d + H + K H + K``."""
    return n_hidden * d + n_hidden + n_classes * n_hidden + n_classes


def check_architecture(d: Any, n_hidden: Any, n_classes: Any) -> tuple[int, int, int]:
    """``d >= 1`` inputs, ``H >= 1`` hidden units, ``K >= 2`` classes (Python or numpy ints).

    Example:
        >>> check_architecture(1, 2, 2)
        (1, 2, 2)
    """
    return (check_int(d, "d", minimum=1), check_int(n_hidden, "n_hidden", minimum=1),
            check_int(n_classes, "n_classes", minimum=2))


def check_theta(theta: Any, d: int, n_hidden: int, n_classes: int, name: str = "theta") -> torch.Tensor:
    """A finite real (P,) vector with ``P = H d + H + K H + K``."""
    theta = as_real_tensor(theta, name)
    expected = n_params(d, n_hidden, n_classes)
    if theta.dim() != 1 or theta.shape[0] != expected:
        raise ValueError(
            f"{name}: expected shape (H*d + H + K*H + K,) = ({expected},) for d={d}, H={n_hidden}, "
            f"K={n_classes}, got {tuple(theta.shape)}")
    return theta


def check_network_inputs(theta: Any, X: Any, n_hidden: Any, n_classes: Any,
                         activation: Any) -> tuple[torch.Tensor, torch.Tensor, int, int, str]:
    """``X`` (N, d) finite, in ``theta``'s dtype and on its device; ``theta`` (P,); the architecture;
    ``activation`` one of ``ACTIVATIONS``. (The targets are checked by ``cross_entropy``.)"""
    activation = check_option(activation, "activation", ACTIVATIONS)
    X = as_real_tensor(X, "X")
    if X.dim() != 2:
        raise ValueError(f"X: expected a 2-D tensor (N, d), got shape {tuple(X.shape)}")
    d, n_hidden, n_classes = check_architecture(X.shape[1], n_hidden, n_classes)
    theta = check_theta(theta, d, n_hidden, n_classes)
    if X.dtype != theta.dtype:
        raise TypeError(f"X: expected dtype {theta.dtype} (that of theta), got {X.dtype}")
    if X.device != theta.device:
        raise ValueError(f"X: expected a tensor on {theta.device} (the device of theta), got one on {X.device}")
    return theta, X, n_hidden, n_classes, activation


def check_unit_index(value: Any, name: str, n_hidden: int) -> int:
    """A hidden-unit index in [0, H - 1].

    Example:
        >>> check_unit_index(1, "i", 2)
        1
    """
    return check_int(value, name, minimum=0, maximum=n_hidden - 1)


def check_ts(ts: Any, like: torch.Tensor) -> torch.Tensor:
    """Positions on a segment: a finite real (T,) vector, returned in ``like``'s dtype and device."""
    ts = as_real_tensor(ts, "ts")
    if ts.dim() != 1:
        raise ValueError(f"ts: expected a 1-D tensor (T,), got shape {tuple(ts.shape)}")
    return ts.to(like)
