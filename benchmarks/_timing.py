"""Shared timing helper for the benchmarks: every side in one process, interleaved and rotated.

Each repetition runs every contender once, in turn, so that a slow period of a shared
machine hits all of them alike; the order is rotated from one repetition to the next, so
that no contender always runs first (cold caches) or right after a particular other one.
The report is the minimum, median and maximum over repetitions; ratios are of medians,
printed with the spread of the two sides (``fmt_ratio``).  Times are wall-clock seconds
from ``time.perf_counter`` (CUDA work is synchronised before the clock is read).
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


def compare(contenders: dict[str, Callable[[], Any]], reps: int = 7, warmup: int = 1,
            pause_s: float = 0.0) -> dict[str, dict[str, Any]]:
    """Time each contender over ``reps`` interleaved repetitions, rotating who runs first.

    Repetition r runs the contenders in their given order rotated by r (with three contenders
    A, B, C: ABC, BCA, CAB, ABC, ...).  ``pause_s`` seconds of sleep before each timed run let the
    previous contender's thread pools go idle: OpenBLAS's worker threads (numpy, scikit-learn)
    busy-wait for about 2^28 cycles (~0.1 s) after their last call, and on a 2-core machine a
    spinning thread takes a core from whatever runs next (measured on the digits: torch's
    newton-cg 0.04 s alone, 0.14 s right after a scikit-learn fit).

    Returns:
        {name: {"min_s": float, "median_s": float, "max_s": float, "times_s": [float, ...]}}
        with ``times_s`` in the order of the repetitions.
    """
    names = list(contenders)
    for name in names:
        for _ in range(warmup):
            contenders[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            if pause_s:
                time.sleep(pause_s)
            times[name].append(time_once(contenders[name]))
    return {name: {"min_s": min(ts), "median_s": statistics.median(ts), "max_s": max(ts), "times_s": ts}
            for name, ts in times.items()}


def ratio(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
    """The ratio a / b of two ``compare`` entries: of the medians, and its range from the spreads
    (``lo = a.min / b.max``, ``hi = a.max / b.min``)."""
    return {"median": a["median_s"] / b["median_s"], "lo": a["min_s"] / b["max_s"], "hi": a["max_s"] / b["min_s"]}


def fmt_times(t: dict[str, Any]) -> str:
    """``min / median / max`` of one ``compare`` entry, in milliseconds."""
    return f"{t['min_s'] * 1e3:8.2f} /{t['median_s'] * 1e3:8.2f} /{t['max_s'] * 1e3:8.2f} ms"


def fmt_ratio(r: dict[str, float], goal: str = "", met: bool | None = None) -> str:
    """``1.03x [0.95, 1.12]  goal <= 1.1x: met`` (median ratio, its range, the goal)."""
    text = f"{r['median']:7.3f}x [{r['lo']:.3f}, {r['hi']:.3f}]"
    if goal:
        text += f"  goal {goal}: " + ("met" if met else "NOT met")
    return text


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
