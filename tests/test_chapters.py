"""Each chapter executes top to bottom without error and without writing to stderr.

The chapter is read from its MyST source with jupytext and run by nbclient in a fresh kernel whose
working directory is the chapter's folder, exactly as the book build runs it. Any assertion a chapter
makes about a theorem therefore fails this test if the theorem's numerical check fails.
"""

from __future__ import annotations

import time
from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from _paths import BOOK, chapters

# Budget per chapter on a 2-core CPU (the guide asks for well under two minutes; chapters aim at 60 s).
BUDGET_S = 120


def _stderr_of(nb) -> list[str]:
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append(f"cell {i}: {cell.source[:60]!r} wrote to stderr: {out['text'][:500]}")
    return found


@pytest.mark.chapter
@pytest.mark.parametrize("path", chapters(), ids=lambda p: str(p.relative_to(BOOK)))
def test_chapter_executes(path: Path) -> None:
    nb = jupytext.read(path)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as exc:  # name the chapter; nbclient's message holds the traceback
        pytest.fail(f"{path.relative_to(BOOK)}: a cell raised\n{exc}", pytrace=False)
    elapsed = time.perf_counter() - start
    stderr = _stderr_of(nb)
    assert not stderr, f"{path.name}: cells wrote to stderr (the strict build fails on this):\n" + "\n".join(stderr)
    assert elapsed < BUDGET_S, f"{path.name} took {elapsed:.1f} s, over the {BUDGET_S} s budget per chapter"
