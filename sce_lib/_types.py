"""Type aliases of the public signatures.

``TensorLike`` is what every public function accepts where it says "tensor": a ``torch.Tensor``
(used as is, on its device), a ``numpy.ndarray``, a nested list/tuple of numbers, or a Python or
numpy number. The conversion rules are those of ``sce_lib._validate.core.to_tensor``.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, TypeAlias, Union

import numpy as np
import torch

__all__ = ["TensorLike"]

TensorLike: TypeAlias = Union[torch.Tensor, np.ndarray, Sequence[Any], numbers.Real, np.generic]
