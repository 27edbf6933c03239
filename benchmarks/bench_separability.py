"""sce_lib.separation_probability (exact, all intra x inter pairs) against one torch.cdist pass.

N = 20 000 features in K = 10 balanced classes, dimension d = 10, float32, on the CPU (Gaussian blobs,
unit covariance, class means 1.0 apart along the axes): 2.0e7 intra pairs x 1.8e8 inter pairs.

* time: ``separation_probability`` and ``torch.cdist(X, X)`` (all N² distances, the default
  matrix-product mode) in the same process, interleaved repetitions (``_timing.compare``); ratio of
  medians, with its range [min/max, max/min]. Goals (issues #10, #22): ratio <= 3, time <= 10 s.
* where the time goes: the estimator's phases run once each (intra keys, table build, the inter
  distances alone); the counting is the rest of the median time.
* peak memory: each N in 5 000, 10 000, 20 000, 40 000 runs in a fresh subprocess that prints its
  peak resident set size (``VmHWM`` of /proc/self/status) before (data made, torch imported) and after the
  call; the difference is the estimator's peak (the allocator may keep freed blocks, so this is an
  upper bound of what it holds at once). Goals: peak <= 2 GB at N = 20 000 and at N = 40 000. The
  same runs give the time's growth with N: the pair count grows x4 per doubling; goal (issue #22):
  at most x4.4 from 20 000 to 40 000. Each N runs ``GROWTH_REPS`` times (median; min and max shown).
* a check of the numbers: the exact value agrees with the sampled estimate within 4 standard errors.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from _timing import compare, fmt_s, time_once

N, K, D = 20_000, 10, 10
GROWTH = (5_000, 10_000, 20_000, 40_000)
GOAL_RATIO, GOAL_SECONDS, GOAL_GB, GOAL_DOUBLING = 3.0, 10.0, 2.0, 4.4
GROWTH_REPS = 3


def _data(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % K
    X = torch.randn(n, D, generator=g) + torch.nn.functional.one_hot(y, D).float()
    return X, y


def _vm_hwm_kb() -> float:
    """This process's peak resident set size (VmHWM), in kB. Unlike getrusage's ru_maxrss, which
    Linux carries over from the parent across fork and exec, it starts afresh in a new process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status (the memory figure needs Linux)")


def _subprocess_run(n: int) -> dict[str, float]:
    code = (
        "import json, sys, time; sys.path.insert(0, %r); import bench_separability as b; "
        "import sce_lib; X, y = b._data(%d); r0 = b._vm_hwm_kb(); "
        "t = time.perf_counter(); p = sce_lib.separation_probability(X, y); t = time.perf_counter() - t; "
        "r1 = b._vm_hwm_kb(); "
        "print(json.dumps({'time_s': t, 'rss_before_mb': r0 / 1024, 'rss_peak_mb': r1 / 1024, 'p': p}))"
    ) % (str(Path(__file__).resolve().parent), n)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ}, cwd=Path(__file__).resolve().parents[1])
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["estimator_peak_mb"] = res["rss_peak_mb"] - res["rss_before_mb"]
    return res


def _phases(X: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """The estimator's steps, timed one by one (the same code as ``_exact_counts``, balanced classes)."""
    from sce_lib.separability import estimator as est

    Z, starts, sizes = est._prepare(X, y, None)
    blocks = [Z[s:s + n] for s, n in zip(starts, sizes)]
    t = time.perf_counter()
    keys = torch.cat([est._intra_keys(b) for b in blocks])
    intra = time.perf_counter() - t
    t = time.perf_counter()
    counter = est._IntraCounter(keys)
    build = time.perf_counter() - t

    def inter_distances() -> None:  # the same tiles as the estimator, without the counting
        for a in range(len(blocks)):
            for b in range(a + 1, len(blocks)):
                step = max(1, est._TILE // blocks[b].shape[0])
                for r0 in range(0, blocks[a].shape[0], step):
                    est.pair_distances(blocks[a][r0:r0 + step], blocks[b])

    return {"intra keys (distances + triangle)": intra, "look-up table build": build,
            "inter distances alone": time_once(inter_distances),
            "table entries": counter.width if counter.lut is not None else 0,
            "intra keys below the table": counter.prefix.numel() if counter.lut is not None else -1}


def _growth_point(n: int, reps: int) -> dict[str, Any]:
    """``reps`` fresh-process runs at N = n: the median time and peak, their ranges, and P."""
    runs = [_subprocess_run(n) for _ in range(reps)]
    times = sorted(r["time_s"] for r in runs)
    peaks = sorted(r["estimator_peak_mb"] for r in runs)
    assert len({r["p"] for r in runs}) == 1, runs  # the same exact number every time
    return {"time_s": statistics.median(times), "time_min_s": times[0], "time_max_s": times[-1],
            "estimator_peak_mb": statistics.median(peaks), "peak_max_mb": peaks[-1], "p": runs[0]["p"],
            "runs": runs}


def main(reps: int = 3, growth_reps: int = GROWTH_REPS) -> dict[str, Any]:
    import sce_lib

    X, y = _data(N)
    growth = {n: _growth_point(n, growth_reps) for n in GROWTH}
    timings = compare({"torch.cdist(X, X)": lambda: torch.cdist(X, X),
                       "separation_probability": lambda: sce_lib.separation_probability(X, y)},
                      reps=reps, warmup=0)
    ratio = timings["separation_probability"]["median_s"] / timings["torch.cdist(X, X)"]["median_s"]
    ratio_range = [timings["separation_probability"]["min_s"] / timings["torch.cdist(X, X)"]["max_s"],
                   timings["separation_probability"]["max_s"] / timings["torch.cdist(X, X)"]["min_s"]]
    exact = growth[N]["p"]  # computed in the subprocess (the same function, the same data)
    sampled = sce_lib.sampled_separation_probability(X, y, n_pairs=200_000, seed=0)
    assert abs(sampled.estimate - exact) < 4 * sampled.stderr, (exact, sampled)
    phases = _phases(X, y)
    phases["inter counting (the rest of the median)"] = timings["separation_probability"]["median_s"] - sum(
        v for k, v in phases.items() if k.endswith(("triangle)", "build", "alone")))
    return {
        "N": N, "K": K, "d": D, "dtype": "float32", "device": "cpu", "threads": torch.get_num_threads(),
        "probability": exact, "sampled": sampled._asdict(),
        "timings": timings, "ratio_to_cdist": ratio, "ratio_range": ratio_range,
        "phases_s": phases,
        "growth": {str(n): g for n, g in growth.items()},
        "goals": {"ratio": GOAL_RATIO, "seconds": GOAL_SECONDS, "peak_gb": GOAL_GB, "doubling": GOAL_DOUBLING},
        "maxrss_this_process_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def table(r: dict[str, Any]) -> list[str]:
    t = r["timings"]
    ours = t["separation_probability"]["median_s"]
    g = r["goals"]
    lo, hi = r["ratio_range"]
    lines = [
        f"separation_probability N={r['N']} K={r['K']} d={r['d']} float32 cpu ({r['threads']} threads): "
        f"P = {r['probability']:.6f} (sampled {r['sampled']['estimate']:.4f} ± {r['sampled']['stderr']:.4f})",
        f"  torch.cdist(X, X)        {fmt_s(t['torch.cdist(X, X)']['median_s'])}",
        f"  separation_probability   {fmt_s(ours)}   ratio {r['ratio_to_cdist']:.2f} [{lo:.2f}, {hi:.2f}]  "
        f"goal <= {g['ratio']:g}: {_met(r['ratio_to_cdist'] <= g['ratio'])};  "
        f"time goal <= {g['seconds']:g} s: {_met(ours <= g['seconds'])}",
    ]
    lines += [f"  phase: {k:<36} {fmt_s(v) if isinstance(v, float) else v}" for k, v in r["phases_s"].items()]
    lines.append("  growth (fresh process per run, median [min, max] of the runs; the pair count grows x4 per doubling):")
    prev = None
    for n, gr in r["growth"].items():
        step = ""
        if prev is not None:
            f = gr["time_s"] / prev["time_s"]
            step = f"x{f:4.2f} per doubling"
            if int(n) == 2 * r["N"]:
                step += f" (goal <= x{g['doubling']:g}: {_met(f <= g['doubling'])})"
        peak_gb = gr["estimator_peak_mb"] / 1024
        mem = f"peak +{gr['estimator_peak_mb']:5.0f} MB"
        if int(n) in (r["N"], 2 * r["N"]):
            mem += f" (goal <= {g['peak_gb']:g} GB: {_met(peak_gb <= g['peak_gb'])})"
        lines.append(f"    N={int(n):>6}: {fmt_s(gr['time_s'])} [{gr['time_min_s']:.2f}, {gr['time_max_s']:.2f} s]  "
                     f"{step:<44} {mem}")
        prev = gr
    return lines


if __name__ == "__main__":
    from _timing import write_result

    res = main()
    print("\n".join(table(res)))
    print("wrote", write_result("separability", res))
