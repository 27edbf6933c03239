"""Helpers shared by the tests that execute chapters and build the book."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

from _paths import BUILD, ROOT

JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


def run_strict_build() -> subprocess.CompletedProcess:
    """The build CI checks: every chapter re-executed (the execution cache is dropped, because it
    does not notice changes in sce_lib), warnings are errors. The log goes to _build/strict-build.log."""
    shutil.rmtree(BUILD / ".jupyter_cache", ignore_errors=True)
    proc = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(ROOT), "--all", "-W", "-n", "--keep-going"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    BUILD.mkdir(exist_ok=True)
    log = proc.stdout + "\n--- stderr ---\n" + proc.stderr
    (BUILD / "strict-build.log").write_text(log, encoding="utf-8")
    return proc


def execute_chapter(path: Path) -> tuple[nbformat.NotebookNode, float]:
    """Run a chapter's MyST source in a fresh kernel whose working directory is the chapter's folder,
    as the book build runs it. Raises nbclient's CellExecutionError on the first failing cell."""
    nb = jupytext.read(path)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def built_notebook(path: Path) -> nbformat.NotebookNode | None:
    """The notebook the last build executed for this chapter, if there is one."""
    executed = BUILD / "jupyter_execute" / path.relative_to(ROOT).with_suffix(".ipynb")
    return nbformat.read(executed, as_version=4) if executed.is_file() else None


def printed_text(nb: nbformat.NotebookNode) -> list[str]:
    """What each code cell shows as text: its stdout joined (stream chunking varies between runs)
    and its plain-text, LaTeX and Markdown results. Images are left out (PNG bytes carry metadata)."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = cell.get("outputs", [])
        stdout = "".join(o["text"] for o in outputs if o.get("name") == "stdout")
        results = [
            o["data"][kind]
            for o in outputs
            if o.get("output_type") in ("execute_result", "display_data")
            for kind in ("text/plain", "text/latex", "text/markdown")
            if kind in o.get("data", {})
        ]
        cells.append(stdout + "\n".join(results))
    return cells
