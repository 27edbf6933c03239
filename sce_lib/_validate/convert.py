"""Conversion of tensors, numpy arrays, nested lists and scalars into tensors (one rule set).

* ``torch.Tensor`` is used as is (no copy, same device, same dtype);
* ``numpy.ndarray`` goes through ``torch.from_numpy`` (float64 stays float64, float32 stays float32);
* nested lists/tuples and Python scalars become float64 tensors when they hold floats (or when a
  float dtype is requested), int64 tensors when they hold only integers, and bool tensors when they
  hold only bools (which every check then rejects, as it rejects a bool tensor); a list mixing
  bools and numbers is a ``TypeError``;
* anything else is a ``TypeError``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

__all__ = ["to_tensor", "holds_bool"]

def _describe(x: Any) -> str:
    if isinstance(x, torch.Tensor):
        return f"a tensor of dtype {x.dtype} and shape {tuple(x.shape)}"
    if isinstance(x, np.ndarray):
        return f"a numpy array of dtype {x.dtype} and shape {x.shape}"
    return f"an object of type {type(x).__name__}"


def _all_bools(x: Any) -> bool:
    if isinstance(x, (list, tuple)):
        return all(_all_bools(v) for v in x)
    return isinstance(x, (bool, np.bool_))


def _all_integers(x: Any) -> bool:
    """True if a nested list/tuple (or scalar) holds only Python/numpy integers (no bools)."""
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, numbers.Integral):
        return True
    if isinstance(x, (list, tuple)):
        return all(_all_integers(v) for v in x)
    return False


def holds_bool(x: Any) -> bool:
    """True if a nested list/tuple (or a scalar) holds a Python or numpy bool anywhere.

    Example:
        >>> holds_bool([[1.0, True]]), holds_bool([[1.0, 2.0]])
        (True, False)
    """
    if isinstance(x, (bool, np.bool_)):
        return True
    if isinstance(x, (list, tuple)):
        return any(holds_bool(v) for v in x)
    return False


def to_tensor(x: Any, name: str, *, float_dtype: torch.dtype | None = None) -> torch.Tensor:
    """Convert ``x`` to a tensor following the module's conversion rules.

    Args:
        x: a tensor, numpy array, nested list/tuple or Python scalar.
        name: the argument's name, used in error messages.
        float_dtype: the dtype given to lists/scalars holding floats (default float64).

    Returns:
        A tensor (the same object when ``x`` already is one).
    """
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, np.ndarray):
        if x.dtype == object or x.dtype.kind in "USV":
            raise TypeError(f"{name}: expected a numeric array, got {_describe(x)}")
        return torch.from_numpy(np.ascontiguousarray(x))
    if isinstance(x, (list, tuple, numbers.Number, np.generic)):
        if holds_bool(x):
            # A bool is not a number to compute with, in a list as in a tensor: the list becomes a
            # bool tensor, which every check then rejects with the same TypeError.
            if not _all_bools(x):
                raise TypeError(f"{name}: expected numbers, got a nested list mixing bools and numbers")
            dtype = torch.bool
        elif _all_integers(x):
            dtype = torch.int64
        else:
            dtype = float_dtype or torch.float64
        try:
            return torch.tensor(x, dtype=dtype)
        except (TypeError, ValueError, RuntimeError) as err:
            raise (TypeError if isinstance(err, TypeError) else ValueError)(
                f"{name}: expected a rectangular nested list of numbers, got {type(x).__name__} "
                f"that torch cannot convert ({err})"
            ) from None
    raise TypeError(
        f"{name}: expected a torch.Tensor, numpy.ndarray or nested list of numbers, "
        f"got {_describe(x)}"
    )
