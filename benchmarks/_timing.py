"""Shared timing helper for the benchmarks: both sides in one process, interleaved.

Each repetition runs every contender once, in turn, so that a slow period of a shared
machine hits all of them alike; the report is the median over repetitions and the
ratio of medians.  Times are wall-clock seconds from ``time.perf_counter`` (CUDA work
is synchronised before the clock is read).
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

RESULTS = Path(__file__).resolve().parent / "results"


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def time_once(fn: Callable[[], Any]) -> float:
    _sync()
    start = time.perf_counter()
    fn()
    _sync()
    return time.perf_counter() - start


def compare(contenders: dict[str, Callable[[], Any]], reps: int = 7, warmup: int = 1) -> dict[str, dict[str, Any]]:
    """Median time of each contender over ``reps`` interleaved repetitions.

    Returns:
        {name: {"median_s": float, "times_s": [float, ...]}}
    """
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(reps):
        for name, fn in contenders.items():
            times[name].append(time_once(fn))
    return {name: {"median_s": statistics.median(ts), "times_s": ts} for name, ts in times.items()}


def environment() -> dict[str, Any]:
    return {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
    }


def write_result(name: str, result: dict[str, Any]) -> Path:
    """Write ``result`` (plus the environment) to benchmarks/results/<name>.json."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({**result, "environment": environment()}, indent=2) + "\n")
    return path


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1e3:9.2f} ms"
