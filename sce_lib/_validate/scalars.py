"""Shared checks for scalar options: integers, reals, dtypes, option sets, booleans.

Every public sce_lib function checks its scalar arguments with these helpers, so that one mistake
gets one error type and one message everywhere::

    TypeError:  <name>: expected <what>, got <type> (<value>)     wrong kind of object
    ValueError: <name>: expected <what>, got <value>              right kind, bad value

Option checks are O(1) and are *never* switched off by ``validation_disabled()`` (only the O(N·K)
scans of the data are).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

__all__ = ["check_int", "check_real", "check_float_dtype", "check_option", "check_bool"]


def _kind(value: Any) -> str:
    return f"{type(value).__name__} ({value!r})"


def check_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (Python or numpy; not bool) in [minimum, maximum]; returned as int.

    Example:
        >>> check_int(np.int64(3), "K", minimum=2)
        3
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an int{_range_doc(minimum, maximum)}, got {_kind(value)}")
    v = int(value)
    if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
        raise ValueError(f"{name}: expected an int{_range_doc(minimum, maximum)}, got {v}")
    return v


def _range_doc(minimum: float | None, maximum: float | None, *, strict_min: bool = False,
               strict_max: bool = False) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if strict_min else '>='} {minimum:g}")
    if maximum is not None:
        parts.append(f"{'<' if strict_max else '<='} {maximum:g}")
    return (" " + " and ".join(parts)) if parts else ""


def check_real(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
    strict_max: bool = False,
    finite: bool = True,
) -> float:
    """A real number (Python, numpy, or a one-element real tensor; not bool) in the given range.

    NaN is always rejected; ±inf unless ``finite=False``.

    Example:
        >>> check_real(0.5, "l2", minimum=0.0)
        0.5
    """
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_complex() \
            and value.dtype != torch.bool:
        v = float(value)
    elif isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {_kind(value)}")
    else:
        v = float(value)
    what = ("a finite number" if finite else "a number") + _range_doc(
        minimum, maximum, strict_min=strict_min, strict_max=strict_max)
    bad = (
        math.isnan(v)
        or (finite and not math.isfinite(v))
        or (minimum is not None and (v <= minimum if strict_min else v < minimum))
        or (maximum is not None and (v >= maximum if strict_max else v > maximum))
    )
    if bad:
        raise ValueError(f"{name}: expected {what}, got {v!r}")
    return v


def check_float_dtype(dtype: Any, name: str = "dtype") -> torch.dtype:
    """A floating ``torch.dtype``.

    Example:
        >>> check_float_dtype(torch.float32)
        torch.float32
    """
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"{name}: expected a floating torch.dtype (e.g. torch.float64), got {_kind(dtype)}")
    if not dtype.is_floating_point:
        raise ValueError(f"{name}: expected a floating torch.dtype (e.g. torch.float64), got {dtype}")
    return dtype


def check_option(value: Any, name: str, options: Sequence[str]) -> str:
    """One of a fixed set of strings.

    Example:
        >>> check_option("mean", "reduction", ("mean", "sum", "none"))
        'mean'
    """
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected one of {tuple(options)}, got {_kind(value)}")
    if value not in options:
        raise ValueError(f"{name}: expected one of {tuple(options)}, got {value!r}")
    return value


def check_bool(value: Any, name: str) -> bool:
    """A Python or numpy bool.

    Example:
        >>> check_bool(True, "progress")
        True
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a bool, got {_kind(value)}")
    return bool(value)
