"""Helpers shared by the tests that execute chapters and build the book.

Every execution of the book goes through tools/execute_book.py (jupyter-cache's parallel executor,
as `make book` runs it): one call per seed, each into its own execution cache, with a JSON report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from _paths import BUILD, ROOT

JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
EXECUTE_BOOK = ROOT / "tools" / "execute_book.py"
CACHE = BUILD / ".jupyter_cache"  # the cache the book build reads
JOBS = int(os.environ.get("JOBS") or os.cpu_count() or 2)


def seed_of(env: dict[str, str] | None = None) -> str:
    return (env or os.environ).get("SCE_SEED") or "0"


OTHER_SEEDS = os.environ.get("SCE_TEST_SEEDS", "1").split()  # executed besides the build's seed
assert seed_of() not in OTHER_SEEDS, f"SCE_TEST_SEEDS={OTHER_SEEDS} must not repeat the build's seed {seed_of()}"


def seed_cache(seed: str) -> Path:
    return BUILD / f".jupyter_cache-seed-{seed}"


def seed_report(seed: str) -> Path:
    return BUILD / f"execution-report-seed-{seed}.json"


def seed_log(seed: str) -> Path:
    return BUILD / f"execution-seed-{seed}.log"


def failure(path: Path, entry: dict | None, what: str, log: str) -> str | None:
    """Why a chapter's entry in an execution report is not a clean success, or None."""
    where = str(path.relative_to(ROOT))
    if entry is None or not entry.get("executed"):
        return f"{where} was not executed {what}; the executor said:\n{log[-3000:]}"
    if entry["error"] is not None and entry["error"].startswith("the executor failed"):  # no kernel, or no cache
        return f"{where} {what}: {entry['error']}; the executor said:\n{log[-3000:]}"
    if entry["error"] is not None:  # name the chapter; the message holds the cell and its traceback
        return f"{where} {what}: a cell raised\n{entry['error']}"
    if entry["stderr"]:
        return f"{where} {what}: cells wrote to stderr (the strict build fails on this):\n" + "\n".join(entry["stderr"])
    return None


def execute_book(cache: Path, report: Path, seed: str | None = None, *, jobs: int = JOBS,
                 background: bool = False) -> subprocess.CompletedProcess | subprocess.Popen:
    """tools/execute_book.py into a fresh `cache` (dropped first), every notebook of _toc.yml,
    `jobs` at a time, under SCE_SEED=`seed` (default: the environment's). A cache other than the
    build's leaves Sphinx's doctrees alone. In the background it runs at a lower priority (nice 10),
    so that the browser test and the PDF, which have timeouts, get the cores first."""
    shutil.rmtree(cache, ignore_errors=True)
    report.unlink(missing_ok=True)
    env = dict(os.environ)
    if seed is not None:
        env["SCE_SEED"] = seed
    cmd = [sys.executable, str(EXECUTE_BOOK), "--jobs", str(jobs), "--cache", str(cache), "--report", str(report)]
    if cache.resolve() != CACHE.resolve():
        cmd.append("--keep-doctrees")
    if background:
        nice = shutil.which("nice")
        return subprocess.Popen([nice, "-n", "10", *cmd] if nice else cmd, cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=3600)


def run_strict_build() -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess | None]:
    """The build CI checks: every notebook executed afresh (the cache is dropped) in parallel by
    tools/execute_book.py, then `jupyter-book build --all -W -n --keep-going`, which must take every
    output from the cache. Returns (the execution, the build or None if the execution failed); the
    logs go to _build/strict-execution.log and _build/strict-build.log."""
    BUILD.mkdir(exist_ok=True)
    execution = execute_book(CACHE, BUILD / "execution-report.json")
    (BUILD / "strict-execution.log").write_text(execution.stdout, encoding="utf-8")
    if execution.returncode != 0:
        return execution, None
    build = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(ROOT), "--all", "-W", "-n", "--keep-going"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )
    log = build.stdout + "\n--- stderr ---\n" + build.stderr
    (BUILD / "strict-build.log").write_text(log, encoding="utf-8")
    return execution, build


def read_report(report: Path) -> dict:
    return json.loads(report.read_text(encoding="utf-8")) if report.is_file() else {}


def cached_notebook(cache: Path, path: Path) -> nbformat.NotebookNode | None:
    """The executed notebook that `cache` holds for this chapter's current code, if any."""
    from jupyter_cache import get_cache
    from myst_nb.core.read import myst_nb_reader_plugin

    if not cache.is_dir():
        return None
    store = get_cache(str(cache))
    try:
        record = store.match_cache_notebook(myst_nb_reader_plugin(str(path)))
    except KeyError:
        return None
    return store.get_cache_bundle(record.pk).nb


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
