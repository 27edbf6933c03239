"""Boundary checks of :mod:`sce_lib.reference` (the mpmath oracle).

The oracle reads its inputs back to the host as Python floats (one host synchronisation per
argument when they are on a GPU); it is for tests and measurements, never for a hot loop.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .arrays import holds_bool
from .core import to_tensor
from .scalars import check_int, check_real

__all__ = ["MIN_DIGITS", "check_digits", "logit_rows", "target_rows", "check_smoothing", "as_floats",
           "real_tensor"]

MIN_DIGITS = 20


def check_digits(digits: Any) -> int:
    """Working precision in significant decimal digits: an int >= 20.

    Example:
        >>> check_digits(50)
        50
    """
    return check_int(digits, "digits", minimum=MIN_DIGITS)


def real_tensor(x: Any, name: str) -> torch.Tensor:
    """A real tensor (integers become float64; bool/complex a TypeError); NaN/inf are *not* checked."""
    if holds_bool(x):
        raise TypeError(f"{name}: expected a real floating-point tensor, got a nested list holding bools")
    t = to_tensor(x, name)
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"{name}: expected a real floating-point tensor, got dtype {t.dtype}")
    return t if t.is_floating_point() else t.to(torch.float64)


def _as_float64(x: Any, name: str) -> torch.Tensor:
    return real_tensor(x, name).detach().to(device="cpu", dtype=torch.float64)  # exact for every real dtype


def target_rows(target: Any, n: int, k: int, name: str = "target") -> list[list[float]]:
    """Class indices (N,) as one-hot rows, or probability rows (N, K) as given."""
    if _as_float64(target, name).dim() == 2:
        return check_soft_rows(target, n, k, name)
    return [[1.0 if j == c else 0.0 for j in range(k)] for c in check_class_indices(target, n, k, name)]


def logit_rows(z: Any, name: str = "z") -> tuple[list[list[float]], bool]:
    """Logits as rows of Python floats along the last dimension: ``(rows, was_1d)``.

    1-D (K,) or 2-D (N, K), K >= 1; -inf allowed (probability 0), NaN and +inf not, and not a row
    made only of -inf.
    """
    t = _as_float64(z, name)
    if t.dim() not in (1, 2) or t.shape[-1] < 1:
        raise ValueError(f"{name}: expected a 1-D (K,) or 2-D (N, K) array with K >= 1, got shape {tuple(t.shape)}")
    rows = t.reshape(-1, t.shape[-1]).tolist()
    for r, row in enumerate(rows):
        for k, v in enumerate(row):
            if math.isnan(v) or v == math.inf:
                raise ValueError(f"{name}: expected finite values or -inf, got {'NaN' if math.isnan(v) else '+inf'} "
                                 f"at row {r}, class {k}")
        if all(v == -math.inf for v in row):
            raise ValueError(f"{name}: expected at least one finite logit in every row, got all -inf in row {r}")
    return rows, t.dim() == 1


def as_floats(x: Any, name: str) -> list[float]:
    """A flat list of Python floats (any real array or number)."""
    return _as_float64(x, name).reshape(-1).tolist()


def check_class_indices(target: Any, n: int, k: int, name: str = "target") -> list[int]:
    """(N,) integer class indices in [0, K-1]."""
    t = _as_float64(target, name)
    if tuple(t.shape) != (n,):
        raise ValueError(f"{name}: expected class indices of shape (N,) = ({n},), got shape {tuple(t.shape)}")
    values = t.tolist()
    for i, v in enumerate(values):
        if not (math.isfinite(v) and v == int(v) and 0 <= v <= k - 1):
            raise ValueError(f"{name}: expected class indices in [0, {k - 1}], got {v!r} at index {i}")
    return [int(v) for v in values]


def check_soft_rows(target: Any, n: int, k: int, name: str = "target") -> list[list[float]]:
    """(N, K) finite probabilities >= 0 (rows are used as given, not renormalised)."""
    t = _as_float64(target, name)
    if tuple(t.shape) != (n, k):
        raise ValueError(f"{name}: expected probability rows of shape (N, K) = ({n}, {k}), got shape {tuple(t.shape)}")
    rows = t.tolist()
    for r, row in enumerate(rows):
        for j, v in enumerate(row):
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"{name}: expected finite probabilities >= 0, got {v!r} at index ({r}, {j})")
    return rows


def check_smoothing(label_smoothing: Any) -> float:
    """A number in [0, 1]."""
    return check_real(label_smoothing, "label_smoothing", minimum=0.0, maximum=1.0)
