"""The book's one seed switch: every random draw in every chapter derives from ``SCE_SEED``.

A chapter never writes ``torch.Generator().manual_seed(3)``; it writes ``torch_generator(3)``. The
number 3 is the draw's *base* seed, fixed in the text; the environment variable ``SCE_SEED`` (a
non-negative integer, default 0) moves every base seed of the book at once::

    seed(base) = base + STRIDE * offset        (offset = int(SCE_SEED), STRIDE = 100 003)

so ``SCE_SEED=0`` reproduces the seeds written in the chapters, and each other offset gives every
draw a seed that no other (base, offset) pair uses (bases are below ``STRIDE``). A statement about a
random experiment must hold for every offset: ``SCE_SEED=k make book`` re-runs the whole book on
fresh draws, and its assertions must pass.

``SCE_FULL=1`` (read by :func:`full_run`) switches the chapters to their longer runs.

Example:
    >>> import os
    >>> os.environ.pop("SCE_SEED", None) is None or True
    True
    >>> seed(3)
    3
    >>> os.environ["SCE_SEED"] = "2"
    >>> seed(3)
    200009
    >>> torch_generator(3).initial_seed()
    200009
    >>> del os.environ["SCE_SEED"]
"""

from __future__ import annotations

import os

import numpy as np
import torch

__all__ = ["SEED_ENV", "FULL_ENV", "STRIDE", "seed_offset", "seed", "torch_generator", "numpy_rng",
           "full_run"]

SEED_ENV = "SCE_SEED"
FULL_ENV = "SCE_FULL"
STRIDE = 100_003  # a prime above every base seed the book uses


def seed_offset() -> int:
    """The offset read from ``SCE_SEED`` (default 0).

    Raises:
        ValueError: ``SCE_SEED`` is set but is not a non-negative integer in decimal.

    Example:
        >>> seed_offset() >= 0
        True
    """
    raw = os.environ.get(SEED_ENV, "").strip()
    if raw == "":
        return 0
    if not raw.isdigit():
        raise ValueError(f"{SEED_ENV}: expected a non-negative integer (e.g. SCE_SEED=3), got {raw!r}")
    return int(raw)


def seed(base: int) -> int:
    """The seed of the draw whose base seed is ``base``, under the current ``SCE_SEED`` offset.

    Args:
        base: the draw's base seed, an int in [0, STRIDE).

    Returns:
        ``base + STRIDE * seed_offset()``, a non-negative int.

    Raises:
        TypeError: ``base`` is not an int. ValueError: it is outside [0, STRIDE).

    Example:
        >>> seed(0) % STRIDE
        0
    """
    from ._validate.scalars import check_int

    base = check_int(base, "base", minimum=0, maximum=STRIDE - 1)
    return base + STRIDE * seed_offset()


def torch_generator(base: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with :func:`seed` ``(base)``.

    Example:
        >>> torch.equal(torch.randn(3, generator=torch_generator(5)),
        ...             torch.randn(3, generator=torch_generator(5)))
        True
    """
    return torch.Generator().manual_seed(seed(base))


def numpy_rng(base: int) -> np.random.Generator:
    """A numpy ``Generator`` (PCG64) seeded with :func:`seed` ``(base)``.

    Example:
        >>> float(numpy_rng(5).random()) == float(numpy_rng(5).random())
        True
    """
    return np.random.default_rng(seed(base))


def full_run() -> bool:
    """True when ``SCE_FULL=1``: the chapters run their longer experiments.

    Raises:
        ValueError: ``SCE_FULL`` is set to something other than ``0``, ``1`` or the empty string.

    Example:
        >>> isinstance(full_run(), bool)
        True
    """
    raw = os.environ.get(FULL_ENV, "").strip()
    if raw not in {"", "0", "1"}:
        raise ValueError(f"{FULL_ENV}: expected 0 or 1, got {raw!r}")
    return raw == "1"
