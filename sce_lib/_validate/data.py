"""Boundary checks of :mod:`sce_lib.data` (the seeded datasets)."""

from __future__ import annotations

from typing import Any

import torch

from .arrays import as_real_tensor
from .scalars import check_bool, check_float_dtype, check_int, check_real

__all__ = ["check_matrix", "check_loader_options", "check_mixture", "check_rows", "check_toy"]


def check_matrix(X: Any, name: str = "X") -> torch.Tensor:
    """A finite real (N, d) matrix with N >= 1 (integer data becomes float64).

    Example:
        >>> check_matrix([[1, 2]]).dtype
        torch.float64
    """
    X = as_real_tensor(X, name)
    if X.dim() != 2 or X.shape[0] < 1:
        raise ValueError(f"{name}: expected a 2-D tensor of shape (N, d) with N >= 1, got shape {tuple(X.shape)}")
    return X


def check_loader_options(standardize: Any, dtype: Any) -> tuple[bool, torch.dtype]:
    """``standardize`` a bool, ``dtype`` a floating torch.dtype."""
    return check_bool(standardize, "standardize"), check_float_dtype(dtype)


def check_mixture(n_per_class: Any, K: Any, d: Any, separation: Any, seed: Any,
                  dtype: Any) -> tuple[int, int, int, float, int, torch.dtype]:
    """The arguments of ``gaussian_mixture``: ints ``n_per_class >= 1``, ``K >= 2``, ``d >= 1``,
    ``seed >= 0``; ``separation`` a finite number >= 0; a floating dtype."""
    return (check_int(n_per_class, "n_per_class", minimum=1), check_int(K, "K", minimum=2),
            check_int(d, "d", minimum=1), check_real(separation, "separation", minimum=0.0),
            check_int(seed, "seed", minimum=0), check_float_dtype(dtype))


def check_toy(seed: Any, n_per_class: Any, K: Any, min_margin: Any,
              dtype: Any) -> tuple[int, int, int, float, torch.dtype]:
    """The arguments of ``separable_toy``: ints ``seed >= 0``, ``n_per_class >= 1``, ``K >= 2``;
    ``min_margin`` in (0, 2) (unit rows of W bound every margin by 2 |x|); a floating dtype."""
    return (check_int(seed, "seed", minimum=0), check_int(n_per_class, "n_per_class", minimum=1),
            check_int(K, "K", minimum=2),
            check_real(min_margin, "min_margin", minimum=0.0, maximum=2.0, strict_min=True, strict_max=True),
            check_float_dtype(dtype))


def check_rows(rows: Any, n: int, name: str = "rows") -> torch.Tensor:
    """Rows of an (n, d) matrix: 1-D distinct integer indices in [0, n - 1], or a boolean mask of length n;
    at least one row. Returns the indices, (m,) int64 sorted as given (a mask: ascending).

    Example:
        >>> check_rows([True, False, True], 3).tolist()
        [0, 2]
    """
    import numpy as np

    if isinstance(rows, (list, tuple)):
        if rows and all(isinstance(r, (bool, np.bool_)) for r in rows):
            rows = torch.tensor(rows, dtype=torch.bool)
        elif all(isinstance(r, (int, np.integer)) and not isinstance(r, (bool, np.bool_)) for r in rows):
            rows = torch.tensor([int(r) for r in rows], dtype=torch.int64)
        else:
            raise TypeError(f"{name}: expected integer row indices or a boolean mask, got a "
                            f"{type(rows).__name__} holding {sorted({type(r).__name__ for r in rows})}")
    elif isinstance(rows, np.ndarray):
        rows = torch.from_numpy(rows)
    if not isinstance(rows, torch.Tensor):
        raise TypeError(f"{name}: expected integer row indices or a boolean mask, got {type(rows).__name__}")
    if rows.dim() != 1:
        raise ValueError(f"{name}: expected a 1-D tensor, got shape {tuple(rows.shape)}")
    if rows.dtype == torch.bool:
        if rows.shape[0] != n:
            raise ValueError(f"{name}: expected a boolean mask of length {n}, got length {rows.shape[0]}")
        rows = rows.nonzero().squeeze(1)
    elif rows.dtype.is_floating_point or rows.dtype.is_complex:
        raise TypeError(f"{name}: expected integer row indices or a boolean mask, got dtype {rows.dtype}")
    rows = rows.to(device="cpu", dtype=torch.int64)
    if rows.numel() == 0:
        raise ValueError(f"{name}: expected at least one row, got none")
    low, high = int(rows.min()), int(rows.max())
    if low < 0 or high >= n:
        raise ValueError(f"{name}: expected indices in [0, {n - 1}], got {low if low < 0 else high}")
    if rows.unique().numel() != rows.numel():
        raise ValueError(f"{name}: expected distinct indices, got {rows.numel() - rows.unique().numel()} repeated")
    return rows
