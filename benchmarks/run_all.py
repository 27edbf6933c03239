"""Run every benchmark, print one table, write benchmarks/results/<name>.json.

Usage: python benchmarks/run_all.py   (``make bench``).  Takes a minute or two on a
2-core CPU.  Benchmarks are not tests: they assert only that both sides compute the
same numbers; the timings and ratios are reported, not enforced.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_cross_entropy  # noqa: E402
import bench_linear_hessian  # noqa: E402
import bench_linear_hvp  # noqa: E402
from _timing import environment, write_result  # noqa: E402

BENCHMARKS = {"cross_entropy": bench_cross_entropy, "linear_hessian": bench_linear_hessian, "linear_hvp": bench_linear_hvp}


def main() -> None:
    print("environment:", environment())
    lines: list[str] = []
    summary = {}
    for name, module in BENCHMARKS.items():
        result = module.main()
        path = write_result(name, result)
        lines += module.table(result)
        summary[name] = str(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)
    print("\n".join(lines))
    print("wrote:", ", ".join(summary.values()))


if __name__ == "__main__":
    main()
