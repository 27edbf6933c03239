"""Boundary checks of :mod:`sce_lib.convexity` (``is_psd``, ``convexity_violations``)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from .arrays import as_real_tensor
from .scalars import _kind, check_callable, check_generator, check_int, check_real, fmt_number

__all__ = ["check_square_matrix", "check_tolerance", "check_chord_test", "check_scalar_output"]


def check_square_matrix(H: Any, name: str = "H") -> torch.Tensor:
    """A real, finite (n, n) matrix with n >= 1 (integers become float64).

    Example:
        >>> check_square_matrix([[1, 0], [0, 1]]).dtype
        torch.float64
    """
    H = as_real_tensor(H, name)
    if H.dim() != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"{name}: expected a square 2-D matrix (n, n), got shape {tuple(H.shape)}")
    if H.shape[0] == 0:
        raise ValueError(f"{name}: expected a matrix of size n >= 1, got shape (0, 0)")
    return H


def check_tolerance(tol: Any, name: str = "tol") -> float | None:
    """``None`` or a finite real number >= 0.

    Example:
        >>> check_tolerance(0), check_tolerance(None)
        (0.0, None)
    """
    return check_real(tol, name, minimum=0.0, optional=True)


def check_chord_test(f: Any, points: Any, n_segments: Any, n_t: Any, generator: Any,
                     tol: Any) -> tuple[Any, torch.Tensor, int, int, torch.Generator | None, float | None]:
    """The arguments of ``convexity_violations``: ``f`` callable, ``points`` (M, P) with M >= 2,
    P >= 1, finite; ``n_segments``, ``n_t`` ints >= 1; ``generator`` None or a torch.Generator;
    ``tol`` None or a finite number >= 0."""
    f = check_callable(f, "f", "a callable mapping a (P,) tensor to a scalar")
    points = as_real_tensor(points, "points")
    if points.dim() != 2 or points.shape[0] < 2 or points.shape[1] < 1:
        raise ValueError(f"points: expected a 2-D tensor (M, P) with M >= 2 and P >= 1, "
                         f"got shape {tuple(points.shape)}")
    return (f, points, check_int(n_segments, "n_segments", minimum=1), check_int(n_t, "n_t", minimum=1),
            check_generator(generator), check_tolerance(tol))


def check_scalar_output(value: Any, theta: torch.Tensor, name: str = "f") -> torch.Tensor:
    """``f``'s output at ``theta``: one finite real number, returned as a 0-D tensor in theta's
    dtype on theta's device (reading it costs one host synchronisation on a GPU)."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name}: expected a scalar output, got a tensor of shape {tuple(value.shape)}")
        if value.dtype == torch.bool or value.is_complex():
            raise TypeError(f"{name}: expected a real scalar output, got a tensor of dtype {value.dtype}")
        value = value.detach().reshape(())
    elif isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        value = torch.tensor(float(value), dtype=theta.dtype, device=theta.device)
    else:
        raise TypeError(f"{name}: expected a scalar tensor or real number as output, got {_kind(value)}")
    v = float(value)
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError(f"{name}: expected a finite output, got {fmt_number(v)} at theta = {theta.tolist()}")
    return value.to(device=theta.device, dtype=theta.dtype)
