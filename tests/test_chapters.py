"""Each chapter executes top to bottom without error and without writing to stderr, and prints
exactly what the strict build printed when it executed the same chapter.

The chapter is read from its MyST source with jupytext and run by nbclient in a fresh kernel whose
working directory is the chapter's folder, exactly as the book build runs it. Any assertion a chapter
makes about a theorem therefore fails this test if the theorem's numerical check fails. Comparing
this second, independent execution with the build's is the reproducibility check (seeds fixed; one
thread per process fixes the order of floating-point reductions). These tests share the strict build
with tests/test_book.py, so they run after it, in the same xdist group.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from nbclient.exceptions import CellExecutionError

from _book import built_notebook, execute_chapter, printed_text
from _paths import BOOK, chapters

pytestmark = [pytest.mark.chapter, pytest.mark.xdist_group("book")]

# Budget per chapter on a 2-core CPU (the guide asks for well under two minutes; chapters aim at 60 s).
BUDGET_S = 120


def _stderr_of(nb) -> list[str]:
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append(f"cell {i}: {cell.source[:60]!r} wrote to stderr: {out['text'][:500]}")
    return found


@pytest.mark.parametrize("path", chapters(), ids=lambda p: str(p.relative_to(BOOK)))
def test_chapter_executes_and_reproduces_the_build(path: Path, strict_build) -> None:
    try:
        nb, elapsed = execute_chapter(path)
    except CellExecutionError as exc:  # name the chapter; nbclient's message holds the traceback
        pytest.fail(f"{path.relative_to(BOOK)}: a cell raised\n{exc}", pytrace=False)
    stderr = _stderr_of(nb)
    assert not stderr, f"{path.name}: cells wrote to stderr (the strict build fails on this):\n" + "\n".join(stderr)
    assert elapsed < BUDGET_S, f"{path.name} took {elapsed:.1f} s, over the {BUDGET_S} s budget per chapter"

    built = built_notebook(path)
    assert strict_build.returncode == 0 and built is not None, "the strict build did not execute this chapter"
    first, second = printed_text(built), printed_text(nb)
    assert len(first) == len(second), f"{path.name}: the build and this run have different code cells"
    differing = [
        f"code cell {i}:\n  build: {a[:300]!r}\n  again: {b[:300]!r}"
        for i, (a, b) in enumerate(zip(first, second)) if a != b
    ]
    assert differing == [], f"{path.name}: output differs between two executions:\n" + "\n".join(differing)
