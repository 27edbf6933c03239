"""Execute chapters in fresh kernels, as the build does, and write what they printed to a JSON file.

Run as a script by tests/test_book.py *while* the strict build runs, so that the reproducibility
check (the same printed output twice) costs no extra wall-clock time on a 2-core machine: the build
executes one kernel at a time, this script another.

    python tests/_reexecute.py OUT.json CHAPTER.md [CHAPTER.md ...]

For each chapter: ``{"error": str | None, "elapsed_s": float, "stderr": [str], "printed": [str]}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nbclient.exceptions import CellExecutionError  # noqa: E402

from _book import execute_chapter, printed_text  # noqa: E402


def stderr_of(nb) -> list[str]:
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append(f"cell {i}: {cell.source[:60]!r} wrote to stderr: {out['text'][:500]}")
    return found


def main(out: Path, paths: list[Path]) -> None:
    results: dict[str, dict] = {}
    for path in paths:
        try:
            nb, elapsed = execute_chapter(path)
        except CellExecutionError as exc:  # nbclient's message holds the traceback
            results[str(path)] = {"error": str(exc), "elapsed_s": 0.0, "stderr": [], "printed": []}
        else:
            results[str(path)] = {"error": None, "elapsed_s": elapsed, "stderr": stderr_of(nb),
                                  "printed": printed_text(nb)}
        out.write_text(json.dumps(results, indent=1), encoding="utf-8")  # partial results survive a crash


if __name__ == "__main__":
    main(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
