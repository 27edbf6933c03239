"""Run every benchmark, print one table, write benchmarks/results/<name>.json.

Usage: python benchmarks/run_all.py [name ...]   (``make bench``; ``make bench ONLY="fit"``).
Every ``benchmarks/bench_<name>.py`` with ``main()`` and ``table(result)`` is run, in name order.  Takes a minute or two on a
2-core CPU.  Benchmarks are not tests: they assert only that both sides compute the
same numbers; the timings and ratios are reported, not enforced.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _timing import environment, write_result  # noqa: E402

NAMES = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main() -> None:
    wanted = sys.argv[1:] or NAMES
    unknown = sorted(set(wanted) - set(NAMES))
    if unknown:
        sys.exit(f"run_all.py: unknown benchmark(s) {unknown}; known: {NAMES}")
    BENCHMARKS = {name: importlib.import_module(f"bench_{name}") for name in NAMES if name in wanted}
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
