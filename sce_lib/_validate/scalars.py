"""Shared checks for scalar options: integers, reals, dtypes, option sets, booleans, callables.

Every public sce_lib function checks its scalar arguments with these helpers, so that one mistake
gets one error type and one message everywhere::

    TypeError:  <name>: expected <what>, got <type> (<value>)     wrong kind of object
    ValueError: <name>: expected <what>, got <value>              right kind, bad value

Rules shared by every module: a Python or numpy integer is an int (a bool is not); a Python or
numpy real, or a one-element real tensor, is a real number; NaN is always rejected and spelled
``NaN`` (infinities ``+inf``/``-inf``); a dtype object that is not a floating ``torch.dtype`` is a
``TypeError`` (the wrong kind of dtype, as a bool tensor is the wrong kind of tensor).

Option checks are O(1) and are *never* switched off by ``validation_disabled()`` (only the O(N·K)
scans of the data are). They cost no host synchronisation, except reading a one-element tensor
passed as a real number (``check_real``), which waits for the GPU once.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

__all__ = ["check_int", "check_real", "check_float_dtype", "check_option", "check_bool",
           "check_callable", "check_generator", "fmt_number"]


def fmt_number(value: float) -> str:
    """A float as the messages print it: ``NaN``, ``+inf``, ``-inf``, else ``repr``.

    Example:
        >>> fmt_number(float("nan")), fmt_number(float("-inf")), fmt_number(0.5)
        ('NaN', '-inf', '0.5')
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    return repr(value)


def _kind(value: Any) -> str:
    if isinstance(value, float):
        return f"float ({fmt_number(value)})"
    return f"{type(value).__name__} ({value!r})"


def _range_doc(minimum: float | None, maximum: float | None, *, strict_min: bool = False,
               strict_max: bool = False) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if strict_min else '>='} {minimum:g}")
    if maximum is not None:
        parts.append(f"{'<' if strict_max else '<='} {maximum:g}")
    return (" " + " and ".join(parts)) if parts else ""


def check_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (Python or numpy; not bool) in [minimum, maximum]; returned as int.

    Raises:
        TypeError: not an integer (a float, even 3.0, a bool, a string).
        ValueError: outside [minimum, maximum].

    Example:
        >>> check_int(np.int64(3), "K", minimum=2)
        3
    """
    what = f"an int{_range_doc(minimum, maximum)}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected {what}, got {_kind(value)}")
    v = int(value)
    if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
        raise ValueError(f"{name}: expected {what}, got {v}")
    return v


def check_real(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
    strict_max: bool = False,
    finite: bool = True,
    optional: bool = False,
) -> float | None:
    """A real number (Python, numpy, or a one-element real tensor; not bool) in the given range.

    NaN is always rejected; ±inf unless ``finite=False``. With ``optional=True``, ``None`` is
    accepted and returned as is. A one-element tensor is read with one host synchronisation.

    Example:
        >>> check_real(0.5, "l2", minimum=0.0)
        0.5
        >>> check_real(None, "tol", minimum=0.0, optional=True) is None
        True
    """
    if optional and value is None:
        return None
    what = ("None or " if optional else "") + ("a finite number" if finite else "a number") + _range_doc(
        minimum, maximum, strict_min=strict_min, strict_max=strict_max)
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_complex() \
            and value.dtype != torch.bool:
        v = float(value)
    elif isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        kind = "None or a real number" if optional else "a real number"
        raise TypeError(f"{name}: expected {kind}, got {_kind(value)}")
    else:
        v = float(value)
    bad = (
        math.isnan(v)
        or (finite and not math.isfinite(v))
        or (minimum is not None and (v <= minimum if strict_min else v < minimum))
        or (maximum is not None and (v >= maximum if strict_max else v > maximum))
    )
    if bad:
        raise ValueError(f"{name}: expected {what}, got {fmt_number(v)}")
    return v


def check_float_dtype(dtype: Any, name: str = "dtype") -> torch.dtype:
    """A floating ``torch.dtype``; anything else (``torch.int64``, ``"float64"``) is a TypeError.

    Example:
        >>> check_float_dtype(torch.float32)
        torch.float32
    """
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        got = str(dtype) if isinstance(dtype, torch.dtype) else _kind(dtype)
        raise TypeError(f"{name}: expected a floating torch.dtype (e.g. torch.float64), got {got}")
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


def check_callable(value: Any, name: str, what: str = "a callable") -> Callable[..., Any]:
    """A callable object.

    Example:
        >>> check_callable(abs, "f") is abs
        True
    """
    if not callable(value):
        raise TypeError(f"{name}: expected {what}, got {_kind(value)}")
    return value


def check_generator(value: Any, name: str = "generator") -> torch.Generator | None:
    """``None`` or a ``torch.Generator``.

    Example:
        >>> check_generator(None) is None
        True
    """
    if value is not None and not isinstance(value, torch.Generator):
        raise TypeError(f"{name}: expected a torch.Generator or None, got {_kind(value)}")
    return value
