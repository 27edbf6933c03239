"""Real floating tensors for the modules outside the softmax core (convexity, hidden layer, data).

One rule for every such argument, the same as for logits in :mod:`.core`:

* tensors, numpy arrays and nested lists are converted by :func:`.core.to_tensor`;
* integer data becomes float64; a bool tensor, a numpy bool array and a nested list holding
  bools are a ``TypeError`` (a bool is not a real number to compute with, whichever container it
  comes in); complex data is a ``TypeError``;
* NaN and ±inf are a ``ValueError`` naming the first bad index, spelled ``NaN``/``+inf``/``-inf``.

The finiteness scan reads one number back from the tensor's device: on a GPU it costs one host
synchronisation per call. It is skipped inside ``validation_disabled()`` and under a ``torch.func``
transform (``core.scans_enabled``), where a data-dependent check cannot run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .core import holds_bool, scans_enabled, to_tensor

__all__ = ["holds_bool", "as_real_tensor", "check_all_finite"]


def _first_index(mask: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(i) for i in mask.nonzero()[0].tolist())


def check_all_finite(x: torch.Tensor, name: str) -> torch.Tensor:
    """``x`` if every entry is finite; else ``ValueError`` naming the first NaN or infinity.

    Example:
        >>> check_all_finite(torch.tensor([1.0, float("nan")]), "x")
        Traceback (most recent call last):
        ...
        ValueError: x: expected finite values, got NaN at index (1,)
    """
    if not x.is_floating_point() or not scans_enabled(x) or bool(torch.isfinite(x).all()):
        return x
    bad = ~torch.isfinite(x)
    index = _first_index(bad)
    value = float(x[index])
    spelled = "NaN" if value != value else ("+inf" if value > 0 else "-inf")
    raise ValueError(f"{name}: expected finite values, got {spelled} at index {index}")


def as_real_tensor(x: Any, name: str) -> torch.Tensor:
    """Convert ``x`` to a real floating tensor (integers become float64) and check it is finite.

    Example:
        >>> as_real_tensor([[1, 2]], "H")
        tensor([[1., 2.]], dtype=torch.float64)
    """
    if holds_bool(x):
        raise TypeError(f"{name}: expected a real floating-point tensor, got a nested list holding bools")
    x = to_tensor(x, name)
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError(f"{name}: expected a real floating-point tensor, got dtype {x.dtype}")
    if not x.is_floating_point():
        x = x.to(torch.float64)
    return check_all_finite(x, name)
