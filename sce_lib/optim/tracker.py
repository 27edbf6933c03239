"""Bookkeeping shared by the solvers: history, the stopping rule, the progress bar, the callback."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["Tracker"]


class Tracker:
    """Records (f, ||grad f||, elapsed time) per iteration and decides convergence.

    The stopping rule is relative: stop at the first iterate with
    ||grad f(theta_t)|| <= tol * ||grad f(theta_0)||  (theta_0 = 0).
    """

    def __init__(self, tol: float, max_iter: int, progress: bool, method: str,
                 callback: Callable[[int, torch.Tensor, torch.Tensor], Any] | None, d: int) -> None:
        self.tol, self.max_iter, self.callback, self.d = tol, max_iter, callback, d
        self.history: dict[str, list[float]] = {"loss": [], "grad_norm": [], "time": []}
        self.threshold = 0.0
        self.start = time.perf_counter()
        self.bar = None
        if progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=max_iter, desc=f"fit ({method})", file=sys.stderr, leave=False)

    @property
    def n_iter(self) -> int:
        return len(self.history["loss"]) - 1

    def record(self, V: torch.Tensor, f: float, grad_norm: float) -> bool:
        """Append one iterate; True when it meets the stopping rule."""
        h = self.history
        h["loss"].append(f)
        h["grad_norm"].append(grad_norm)
        h["time"].append(time.perf_counter() - self.start)
        if len(h["loss"]) == 1:
            self.threshold = self.tol * grad_norm
        elif self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{f:.6g}", rel_grad=f"{grad_norm / max(h['grad_norm'][0], 1e-300):.1e}")
        if self.callback is not None:
            self.callback(self.n_iter, V[:, : self.d], V[:, self.d])
        return grad_norm <= self.threshold

    def done(self) -> bool:
        return self.n_iter >= self.max_iter

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
