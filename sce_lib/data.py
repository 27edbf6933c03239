"""Seeded datasets the chapters use.

* :func:`digits`: scikit-learn's 8x8 handwritten digits (1797 images, 64 pixels, 10 classes; ships
  with scikit-learn, nothing is downloaded), standardised column by column, with the statistics of
  all images or (``train_rows``) of a training split only.
* :func:`mnist1d`: MNIST-1D (Greydanus, 2020), 4 000 training and 1 000 test signals of length 40 in 10
  classes, generated offline by the pinned ``mnist1d`` package with its default arguments (seed 42).
* :func:`gaussian_mixture`: K Gaussian blobs with identity covariance whose neighbouring means are
  ``separation`` apart.
* :func:`separable_toy`: a small 2-D, 3-class set that a known linear classifier separates with a
  positive margin, returned with that classifier.

Every generator is a ``torch.Generator`` on the CPU seeded by the ``seed`` argument, so the numbers
are identical on every run and every device (the tensors are moved after they are drawn).
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path
from typing import Any, NamedTuple

import torch

from ._types import TensorLike
from ._validate.data import check_loader_options, check_matrix, check_mixture, check_rows, check_toy

__all__ = ["digits", "mnist1d", "MNIST1D", "gaussian_mixture", "separable_toy", "SeparableToy",
           "standardize_columns"]


# ----------------------------------------------------------------------------------------------
# Standardisation
# ----------------------------------------------------------------------------------------------
def standardize_columns(X: TensorLike) -> torch.Tensor:
    """Centre each column and divide by its standard deviation; constant columns become 0.

    ``X_std[:, j] = (X[:, j] - mean_j) / s_j`` with ``s_j`` the population standard deviation
    (divisor N), and ``s_j := 1`` where the column is constant (``s_j = 0``), so no division by
    zero: such a column is all zeros afterwards.

    Args:
        X: (N, d) real data, N >= 1, finite (integer data becomes float64).

    Returns:
        (N, d) tensor, same (floating) dtype and device; every non-constant column has mean 0 and standard
        deviation 1 (to rounding), every constant column is 0.

    Validation scans the data (NaN/inf): on a GPU that costs one host synchronisation; ``validation_disabled()`` skips it.

    Example:
        >>> standardize_columns(torch.tensor([[1.0, 5.0], [3.0, 5.0]]))
        tensor([[-1.,  0.],
                [ 1.,  0.]])
    """
    X = check_matrix(X, "X")
    mean = X.mean(dim=0)
    std = X.std(dim=0, correction=0)
    std = torch.where(std > 0, std, torch.ones_like(std))
    return (X - mean) / std


# ----------------------------------------------------------------------------------------------
# Datasets
# ----------------------------------------------------------------------------------------------
def digits(standardize: bool = True, dtype: torch.dtype = torch.float64,
           device: torch.device | str | None = None,
           train_rows: TensorLike | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's handwritten digits: 1797 images of 8x8 pixels (0..16), classes 0..9.

    Args:
        standardize: centre every pixel column and scale it to unit standard deviation
            (see :func:`standardize_columns`; the always-blank pixels become columns of zeros).
            ``False`` returns the raw pixel counts 0..16.
        dtype: floating dtype of ``X`` (default float64).
        device: where the tensors live (default CPU).
        train_rows: ``None`` (default) standardises with the mean and standard deviation of all
            1797 images. Otherwise the rows of a training split, as 1-D integer indices in
            [0, 1796] (distinct, at least one) or a boolean mask of length 1797 (at least one
            ``True``): the mean and standard deviation are computed on those rows only, and the
            same affine map is applied to every row, so nothing about the held-out rows enters
            the features. A column that is constant on the training rows is only centred. Needs
            ``standardize=True``.

    Returns:
        ``(X, y)``: X (1797, 64) of ``dtype``, y (1797,) int64 in [0, 9]; rows in scikit-learn's order
        whatever ``train_rows`` is.

    Raises:
        ValueError: ``train_rows`` with ``standardize=False``, or rows out of range, repeated or empty.
        TypeError: ``train_rows`` is not integer indices or a boolean mask.

    Example:
        >>> X, y = digits()
        >>> tuple(X.shape), tuple(y.shape), int(y.max())
        ((1797, 64), (1797,), 9)
        >>> X, y = digits(train_rows=torch.arange(1000))
        >>> bool(X[:1000].mean(dim=0).abs().max() < 1e-12), bool(X[1000:].mean(dim=0).abs().max() > 0.01)
        (True, True)

    Derived in: book/04-convexity-weights.md, §The Hessian on real data.
    """
    from sklearn.datasets import load_digits  # imported here: scikit-learn is slow to import

    standardize, dtype = check_loader_options(standardize, dtype)
    raw = load_digits()
    X = torch.as_tensor(raw.data, dtype=torch.float64)
    y = torch.as_tensor(raw.target, dtype=torch.int64)
    if train_rows is not None:
        if not standardize:
            raise ValueError("train_rows: expected None when standardize=False (the rows only choose the "
                             "standardisation statistics), got rows")
        rows = check_rows(train_rows, X.shape[0], "train_rows")
        mean, std = _column_statistics(X[rows])
        X = (X - mean) / std
    elif standardize:
        X = standardize_columns(X)
    return X.to(device=device, dtype=dtype), y.to(device=device)


def _column_statistics(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Column means and population standard deviations of X (N, d), constant columns given s = 1: two (d,)."""
    std = X.std(dim=0, correction=0)
    return X.mean(dim=0), torch.where(std > 0, std, torch.ones_like(std))


class MNIST1D(NamedTuple):
    """MNIST-1D split into training and test sets. Unpacks as ``X, y, X_test, y_test = mnist1d()``.

    Attributes:
        X: (4000, 40) training signals. y: (4000,) int64 in [0, 9].
        X_test: (1000, 40) test signals. y_test: (1000,) int64 in [0, 9].
    """

    X: torch.Tensor
    y: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor


_MNIST1D_KEYS = ("x", "y", "x_test", "y_test")


def _cache_dir() -> Path:
    """Where generated datasets are kept between processes: ``$SCE_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/sce_lib`` (``~/.cache/sce_lib``)."""
    if os.environ.get("SCE_CACHE_DIR"):
        return Path(os.environ["SCE_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sce_lib"


@functools.lru_cache(maxsize=1)
def _mnist1d_arrays() -> tuple[Any, Any, Any, Any]:
    # The package's own generator with its published default arguments (seed 42): no download.
    # Generating takes a few seconds, so the arrays are also kept on disk, under a name that
    # carries the package's version; a file that cannot be read is generated again.
    import importlib.metadata

    import numpy as np
    from mnist1d.data import get_dataset_args, make_dataset

    path = _cache_dir() / f"mnist1d-{importlib.metadata.version('mnist1d')}-default.npz"
    try:
        with np.load(path) as cached:
            return tuple(cached[k] for k in _MNIST1D_KEYS)
    except (OSError, KeyError, ValueError):
        pass
    data = make_dataset(get_dataset_args())
    arrays = tuple(np.asarray(data[k]) for k in _MNIST1D_KEYS)
    try:  # write to a temporary name, then rename: concurrent readers never see half a file
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, **dict(zip(_MNIST1D_KEYS, arrays)))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: generate every time
    return arrays


def mnist1d(standardize: bool = True, dtype: torch.dtype = torch.float64,
            device: torch.device | str | None = None) -> MNIST1D:
    """MNIST-1D: 10 classes of 1-D signals of length 40, 4 000 for training and 1 000 for testing.

    Generated (not downloaded) by ``mnist1d.data.make_dataset(get_dataset_args())``, the
    package's defaults, which fix the seed. The generation takes a few seconds, so the arrays
    are kept for the process and in ``$SCE_CACHE_DIR`` (default ``~/.cache/sce_lib``) between
    processes; the test suite compares them with a fresh generation.

    Args:
        standardize: centre and scale every column with the *training* set's mean and standard
            deviation (the same affine map is applied to the test set); ``False`` returns the
            raw signals.
        dtype: floating dtype of the signals (default float64).
        device: where the tensors live (default CPU).

    Returns:
        An :class:`MNIST1D` ``(X (4000, 40), y (4000,), X_test (1000, 40), y_test (1000,))``.

    Example:
        >>> X, y, X_test, y_test = mnist1d()
        >>> tuple(X.shape), tuple(X_test.shape), int(y.min()), int(y.max())
        ((4000, 40), (1000, 40), 0, 9)

    Derived in: book/05-minimisation.md, §Experiments.
    """
    standardize, dtype = check_loader_options(standardize, dtype)
    x, y, x_test, y_test = (torch.as_tensor(a) for a in _mnist1d_arrays())
    X, X_test = x.to(torch.float64), x_test.to(torch.float64)
    if standardize:
        mean, std = X.mean(dim=0), X.std(dim=0, correction=0)
        std = torch.where(std > 0, std, torch.ones_like(std))
        X, X_test = (X - mean) / std, (X_test - mean) / std
    return MNIST1D(X.to(device=device, dtype=dtype), y.to(device=device, dtype=torch.int64),
                   X_test.to(device=device, dtype=dtype), y_test.to(device=device, dtype=torch.int64))


def _class_means(K: int, d: int, separation: float) -> torch.Tensor:
    """K means, (K, d): equally spaced on a circle (d >= 2) or a line (d = 1), neighbours ``separation`` apart."""
    means = torch.zeros(K, d, dtype=torch.float64)
    if d == 1:
        means[:, 0] = separation * (torch.arange(K, dtype=torch.float64) - (K - 1) / 2)
        return means
    radius = separation / (2 * math.sin(math.pi / K))  # chord between neighbours = separation
    angles = 2 * math.pi * torch.arange(K, dtype=torch.float64) / K
    means[:, 0] = radius * torch.cos(angles)
    means[:, 1] = radius * torch.sin(angles)
    return means


def gaussian_mixture(n_per_class: int, K: int = 3, d: int = 2, separation: float = 3.0, seed: int = 0,
                     dtype: torch.dtype = torch.float64,
                     device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """K Gaussian classes ``x | y=k ~ N(mu_k, I_d)`` with neighbouring means ``separation`` apart.

    The means lie equally spaced on a circle in the plane of the first two coordinates (on a
    line when d = 1), centred at 0; for K = 2 they are ``separation`` apart, for K = 3 they form
    an equilateral triangle of side ``separation``. Rows are ordered by class: y = [0]*n, [1]*n, ...

    Args:
        n_per_class: samples per class, >= 1.
        K: classes, >= 2.
        d: features, >= 1.
        separation: distance between neighbouring means, >= 0 (0: all classes identical).
        seed: seed of the CPU ``torch.Generator`` that draws the noise.
        dtype: floating dtype of ``X`` (drawn in float64, then cast).
        device: where the tensors live (default CPU).

    Returns:
        ``(X, y)``: X (K * n_per_class, d), y (K * n_per_class,) int64.

    Example:
        >>> X, y = gaussian_mixture(50, K=3, d=2, separation=4.0, seed=1)
        >>> tuple(X.shape), y.bincount().tolist()
        ((150, 2), [50, 50, 50])

    Derived in: book/05-minimisation.md, §Experiments.
    """
    n_per_class, K, d, separation, seed, dtype = check_mixture(n_per_class, K, d, separation, seed, dtype)
    generator = torch.Generator().manual_seed(seed)
    means = _class_means(K, d, separation)
    y = torch.arange(K).repeat_interleave(n_per_class)
    noise = torch.randn(K * n_per_class, d, generator=generator, dtype=torch.float64)
    X = means[y] + noise
    return X.to(device=device, dtype=dtype), y.to(device=device)


class SeparableToy(NamedTuple):
    """A linearly separable dataset and a classifier that separates it.

    Unpacks as ``X, y, W, b = separable_toy()``.

    Attributes:
        X: (N, 2) inputs. y: (N,) int64 classes in [0, K-1].
        W: (K, 2) and b: (K,): ``argmax_k (W x_n + b)_k == y_n`` for every n, with margin.
    """

    X: torch.Tensor
    y: torch.Tensor
    W: torch.Tensor
    b: torch.Tensor

    def margins(self) -> torch.Tensor:
        """Per-sample margin ``z_{n, y_n} - max_{k != y_n} z_{n, k}`` with ``z = X W^T + b``: (N,)."""
        z = self.X @ self.W.T + self.b
        true = z.gather(1, self.y[:, None]).squeeze(1)
        others = z.scatter(1, self.y[:, None], float("-inf")).amax(dim=1)
        return true - others

    @property
    def margin(self) -> float:
        """The smallest per-sample margin (> 0: every point is classified correctly)."""
        return float(self.margins().min())


def separable_toy(seed: int = 0, n_per_class: int = 10, K: int = 3, min_margin: float = 0.5,
                  dtype: torch.dtype = torch.float64,
                  device: torch.device | str | None = None) -> SeparableToy:
    """A small 2-D dataset that the linear classifier ``(W, b)`` separates with a margin.

    ``W``'s rows are unit vectors at angles ``2 pi k / K`` and ``b = 0``, so class k is the cone
    of directions closest to angle ``2 pi k / K``. Points are drawn around ``3 W_k`` (standard
    normal noise) and kept only if ``(W, b)`` puts them in class k with logit margin at least
    ``min_margin``; drawing continues (deterministically, from the seeded generator) until each
    class has ``n_per_class`` points. The result is checked before it is returned.

    Args:
        seed: seed of the CPU ``torch.Generator``.
        n_per_class: points per class, >= 1.
        K: classes, >= 2.
        min_margin: the smallest allowed margin ``z_y - max_{k != y} z_k``, > 0, below ~2.
        dtype: floating dtype (default float64).
        device: where the tensors live (default CPU).

    Returns:
        A :class:`SeparableToy` ``(X (K n, 2), y (K n,), W (K, 2), b (K,))``, rows ordered by class.

    Example:
        >>> X, y, W, b = separable_toy(seed=0)
        >>> bool(((X @ W.T + b).argmax(dim=1) == y).all())
        True

    Derived in: book/06-separability.md, §A separable example.
    """
    seed, n_per_class, K, min_margin, dtype = check_toy(seed, n_per_class, K, min_margin, dtype)
    generator = torch.Generator().manual_seed(seed)
    angles = 2 * math.pi * torch.arange(K, dtype=torch.float64) / K
    W = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)  # (K, 2), unit rows
    b = torch.zeros(K, dtype=torch.float64)

    blocks = []
    for k in range(K):
        kept = torch.empty(0, 2, dtype=torch.float64)
        for _ in range(1000):  # acceptance is high (> 30 %); the cap only guards against bugs
            candidates = 3.0 * W[k] + torch.randn(4 * n_per_class, 2, generator=generator, dtype=torch.float64)
            labels = torch.full((candidates.shape[0],), k, dtype=torch.int64)
            ok = SeparableToy(candidates, labels, W, b).margins() >= min_margin
            kept = torch.cat([kept, candidates[ok]])
            if kept.shape[0] >= n_per_class:
                break
        else:
            raise RuntimeError(f"separable_toy: could not draw {n_per_class} points of class {k}")
        blocks.append(kept[:n_per_class])
    toy = SeparableToy(torch.cat(blocks), torch.arange(K).repeat_interleave(n_per_class), W, b)
    if not toy.margin >= min_margin:  # by construction; raise rather than return a wrong set
        raise RuntimeError(f"separable_toy: margin {toy.margin} below {min_margin}")
    return SeparableToy(*(t.to(device=device, dtype=dtype) if t.is_floating_point() else t.to(device=device)
                          for t in toy))
