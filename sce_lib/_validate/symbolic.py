"""Boundary checks of :mod:`sce_lib.symbolic`: small sizes and evaluation points."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch

from .arrays import as_real_tensor
from .scalars import _kind, check_int

__all__ = ["MAX_K", "MAX_LINEAR_PARAMS", "check_K", "check_Ks", "check_linear_sizes", "check_point"]

# Sizes the symbolic routines accept. Above these SymPy still works, but slowly; the book never
# needs more (K up to 6 for the pattern proof, d = 2, K = 3 for the linear classifier).
MAX_K = 12
MAX_LINEAR_PARAMS = 40


def check_K(K: Any, name: str = "K") -> int:
    """A number of classes, an int in [2, 12] (Python or numpy).

    Example:
        >>> check_K(3)
        3
    """
    return check_int(K, name, minimum=2, maximum=MAX_K)


def check_Ks(Ks: Any) -> list[int]:
    """A non-empty iterable of numbers of classes, each in [2, 12]."""
    if isinstance(Ks, (str, bytes)) or not isinstance(Ks, Iterable):
        raise TypeError(f"Ks: expected an iterable of ints, got {_kind(Ks)}")
    checked = [check_K(K, "Ks") for K in Ks]
    if not checked:
        raise ValueError("Ks: expected at least one K, got an empty iterable")
    return checked


def check_linear_sizes(d: Any, K: Any, N: Any) -> tuple[int, int, int]:
    """``d >= 1``, ``K`` in [2, 12], ``N`` in {1, 2}, and ``K (d + 1) <= 40`` parameters."""
    d = check_int(d, "d", minimum=1, maximum=MAX_LINEAR_PARAMS)
    K = check_K(K)
    N = check_int(N, "N", minimum=1, maximum=2)
    if K * (d + 1) > MAX_LINEAR_PARAMS:
        raise ValueError(f"d, K: expected K*(d+1) <= {MAX_LINEAR_PARAMS} parameters, "
                         f"got K*(d+1) = {K * (d + 1)} (d={d}, K={K})")
    return d, K, N


def check_point(values: Any, symbols: Sequence[Any], name: str) -> torch.Tensor:
    """One finite real value per symbol: a flat float64 CPU tensor (reading it back costs one host
    synchronisation when ``values`` is on a GPU)."""
    flat = as_real_tensor(values, name).detach().to(torch.float64).reshape(-1).cpu()
    if flat.numel() != len(symbols):
        raise ValueError(f"{name}: expected {len(symbols)} values, got {flat.numel()}")
    return flat
