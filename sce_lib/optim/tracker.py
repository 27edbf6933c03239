"""Bookkeeping shared by the solvers: history, the stopping rule, the progress bar, the callback."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["Tracker"]


class Tracker:
    """Records (f, ||grad f||, elapsed time) per iteration and decides when to stop.

    The stopping rule is relative to the gradient at zero, whatever the starting point:
    stop at the first iterate with ||grad f(theta_t)|| <= tol * ||grad f(0)||  (``g_ref``).
    A non-finite f or gradient norm stops the run too (``failure`` says so); ``last_finite``
    is then the last iterate whose f and gradient were finite.
    """

    def __init__(self, tol: float, max_iter: int, progress: bool, method: str,
                 callback: Callable[[int, torch.Tensor, torch.Tensor], Any] | None,
                 split: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]], g_ref: float) -> None:
        self.tol, self.max_iter, self.callback, self.split = tol, max_iter, callback, split
        self.g_ref = g_ref
        self.threshold = tol * g_ref
        self.history: dict[str, list[float]] = {"loss": [], "grad_norm": [], "time": []}
        self.failure: str | None = None
        self.last_finite: torch.Tensor | None = None
        self.start = time.perf_counter()
        self.bar = None
        if progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=max_iter, desc=f"fit ({method})", file=sys.stderr, leave=False)

    @property
    def n_iter(self) -> int:
        return len(self.history["loss"]) - 1

    def record(self, V: torch.Tensor, f: float, grad_norm: float) -> bool:
        """Append one iterate; True when the run must stop here (stopping rule met, or non-finite)."""
        h = self.history
        h["loss"].append(f)
        h["grad_norm"].append(grad_norm)
        h["time"].append(time.perf_counter() - self.start)
        if not (math.isfinite(f) and math.isfinite(grad_norm)):
            self.failure = (f"iteration {self.n_iter} gave a non-finite objective or gradient "
                            f"(f = {f}, ||grad|| = {grad_norm})")
            return True
        self.last_finite = V.detach().clone()
        if self.bar is not None and len(h["loss"]) > 1:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{f:.6g}", rel_grad=f"{grad_norm / max(self.g_ref, 1e-300):.1e}")
        if self.callback is not None:
            self.callback(self.n_iter, *self.split(V))
        return grad_norm <= self.threshold

    def done(self) -> bool:
        return self.n_iter >= self.max_iter

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
