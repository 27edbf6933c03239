"""Where sce_lib computes: every function runs on its input's device; this picks a default."""

from __future__ import annotations

import torch

__all__ = ["default_device"]


def default_device() -> torch.device:
    """The device chapters put their tensors on: CUDA if available, else the CPU.

    sce_lib never moves data itself: each function computes on the device of its
    inputs, so the same code gives the same results (up to rounding) on every device.
    (Apple's MPS is not chosen: it has no float64, which the book's checks rely on.)

    Returns:
        ``torch.device("cuda")`` or ``torch.device("cpu")``.

    Example:
        >>> default_device().type in {"cuda", "cpu"}
        True

    Derived in: book/intro.md, §How to run it.
    """
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
