"""tools/execute_book.py, the parallel execution behind `make book`, on small books in a temporary
folder built with the project's own _config.yml and extensions (tests/test_build_failures.py):

* a failing cell stops it with the chapter's name and the traceback, and no kernel warns about its
  transport;
* the book build then takes every notebook from the cache (it executes nothing), each notebook ran
  in its own folder, the page with the ``{execution-report}`` directive (the status page) shows the
  cold build's wall time, and a second run executes nothing;
* a change of SCE_SEED or of sce_lib empties the cache, and every notebook runs again;
* an execution started at a lower priority runs its kernels at that priority, and a notebook whose
  kernel did not start is tried once more.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from _book import JUPYTER_BOOK, cached_notebook
from _paths import ROOT
from test_build_failures import NOTEBOOK_HEADER, _mini_book

pytestmark = pytest.mark.build

TOOL = ROOT / "tools" / "execute_book.py"


def _cell(code: str) -> str:
    return f"\n```{{code-cell}} ipython3\n{code}\n```\n"


def _execute(root: Path, **env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SCE_CACHE_DIR": str(root / "sce-cache"), **env}  # the order hint stays in tmp_path
    return subprocess.run([sys.executable, str(TOOL), "--root", str(root), "--jobs", "2"], cwd=root,
                          capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture
def small_book(tmp_path: Path) -> Path:
    root = _mini_book(tmp_path, {
        "start": "# Start\n\n```{execution-report}\n```\n",
        "first": NOTEBOOK_HEADER + "\n# First\n" + _cell(
            "import os\nfrom pathlib import Path\nassert Path.cwd().name == 'book', Path.cwd()\n"
            "print('seed', os.environ.get('SCE_SEED', '0'))"),
        "second": NOTEBOOK_HEADER + "\n# Second\n" + _cell("print(sum(range(10)))"),
    })
    # tools/ (the downloads extension writes reader notebooks and a student edition with it) comes with _mini_book
    (root / "sce_lib").mkdir()
    (root / "sce_lib" / "x.py").write_text("X = 1\n", encoding="utf-8")
    return root


def test_failing_cell_stops_the_execution_naming_the_chapter(tmp_path: Path) -> None:
    root = _mini_book(tmp_path, {
        "start": "# Start\n\nText.\n",
        "fine_chapter": NOTEBOOK_HEADER + "\n# Fine\n" + _cell("print(1)"),
        "broken_chapter": NOTEBOOK_HEADER + "\n# Broken\n" + _cell("1 / 0"),
    })
    proc = _execute(root)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, "a raising cell must stop make book"
    assert "book/broken_chapter.md FAILED" in out and "ZeroDivisionError" in out, out[-3000:]
    assert "book/fine_chapter.md" in out and "without encryption" not in out, out[-3000:]


def test_the_build_takes_every_notebook_from_the_cache(small_book: Path) -> None:
    first = _execute(small_book)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "executing 2 of 2 notebooks on 2 processes" in first.stdout
    assert "without encryption" not in first.stdout + first.stderr
    build = subprocess.run([str(JUPYTER_BOOK), "build", str(small_book), "--all", "-W", "-n", "--keep-going"],
                           cwd=small_book, capture_output=True, text=True, timeout=600)
    log = build.stdout + build.stderr
    assert build.returncode == 0, log[-3000:]
    assert "Executing notebook" not in log and log.count("Using cached notebook") == 2, log[-3000:]
    built = cached_notebook(small_book / "_build" / ".jupyter_cache", small_book / "book" / "first.md")
    assert built is not None and "seed 0" in [c for c in built.cells if c.cell_type == "code"][-1].outputs[0]["text"]
    start = (small_book / "_build" / "html" / "book" / "start.html").read_text(encoding="utf-8")
    assert "executed all 2 notebooks on 2 processes" in start  # the status page's directive
    assert re.search(r"The whole cold build, from the start of the execution to the last page written, took "
                     r"\d+\.\d s\.", start), "the cold build's total wall time is not on the page"
    again = _execute(small_book)
    assert again.returncode == 0 and "nothing to execute" in again.stdout, again.stdout + again.stderr
    # A rebuild with nothing changed keeps the downloads (book/_ext/downloads.py: made only when an input changed)
    zip_path = small_book / "_build" / "html" / "_downloads" / "student-edition.zip"
    made = zip_path.stat().st_mtime_ns
    rebuild = _build(small_book)  # the first rebuild after the cold build: it reads no page again (not
    assert rebuild.returncode == 0 and zip_path.stat().st_mtime_ns == made, "unchanged inputs: remade"
    assert "0 added, 0 changed, 0 removed" in rebuild.stdout, rebuild.stdout[-3000:]  # even the status page)
    second = small_book / "book" / "second.md"  # a change of code: that notebook, and only it, runs again
    second.write_text(second.read_text(encoding="utf-8").replace("range(10)", "range(11)"), encoding="utf-8")
    changed = _execute(small_book)
    assert changed.returncode == 0 and "executing 1 of 2 notebooks" in changed.stdout, changed.stdout + changed.stderr
    report = json.loads((small_book / "_build" / "execution-report.json").read_text(encoding="utf-8"))
    assert report["executed"] == 1 and report["cold"]["executed"] == 2 and report["cold"]["jobs"] == 2
    assert report["cold"]["wall_s"] < report["cold"]["build_wall_s"] < 600
    assert set(report["cold"]["notebooks"]) == {"book/first.md", "book/second.md"}
    assert _build(small_book).returncode == 0 and zip_path.stat().st_mtime_ns != made, "a chapter changed: not remade"


def _build(root: Path) -> subprocess.CompletedProcess:
    """`jupyter-book build` as `make book` runs it (incremental)."""
    return subprocess.run([str(JUPYTER_BOOK), "build", str(root), "-W", "-n", "--keep-going"],
                          cwd=root, capture_output=True, text=True, timeout=600)


def test_a_new_seed_or_library_empties_the_cache(small_book: Path) -> None:
    assert _execute(small_book).returncode == 0
    (small_book / "_build" / ".doctrees").mkdir()
    seeded = _execute(small_book, SCE_SEED="5")
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    assert "changed since the cache was filled: SCE_SEED" in seeded.stdout
    assert "executing 2 of 2 notebooks" in seeded.stdout
    assert not (small_book / "_build" / ".doctrees").exists(), "Sphinx would keep the pages of the old outputs"
    nb = cached_notebook(small_book / "_build" / ".jupyter_cache", small_book / "book" / "first.md")
    assert nb is not None and "seed 5" in [c for c in nb.cells if c.cell_type == "code"][-1].outputs[0]["text"]
    (small_book / "sce_lib" / "x.py").write_text("X = 2\n", encoding="utf-8")
    changed = _execute(small_book, SCE_SEED="5")
    assert "changed since the cache was filled: sce_lib" in changed.stdout and "executing 2 of 2" in changed.stdout


@pytest.mark.skipif(not Path("/proc/self/autogroup").is_file(), reason="no Linux autogroup here: niceness works as is")
def test_a_niced_execution_runs_its_kernels_niced(tmp_path: Path) -> None:
    """`make test` runs the execution under a second seed at nice 10, so that the strict build gets the
    cores first. jupyter_client starts each kernel in a session of its own, and Linux's autogroup then
    gives every kernel an equal share whatever its niceness: tools/kernels.py lowers the kernel's group."""
    root = _mini_book(tmp_path, {
        "start": "# Start\n\nText.\n",
        "nice": NOTEBOOK_HEADER + "\n# Nice\n" + _cell(
            "import os\nprint('group', open('/proc/self/autogroup').read().split()[-1], 'nice', os.nice(0))"),
    })
    env = {**os.environ, "SCE_CACHE_DIR": str(root / "sce-cache")}
    proc = subprocess.run(["nice", "-n", "10", sys.executable, str(TOOL), "--root", str(root), "--jobs", "1"],
                          cwd=root, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    nb = cached_notebook(root / "_build" / ".jupyter_cache", root / "book" / "nice.md")
    assert nb is not None
    assert [c for c in nb.cells if c.cell_type == "code"][-1].outputs[0]["text"].split() == ["group", "10", "nice", "10"]


def test_a_notebook_whose_kernel_did_not_start_is_tried_once_more(tmp_path: Path, monkeypatch) -> None:
    """jupyter-cache's code 2 (the executor failed before the notebook ran: a kernel that did not start
    in time, a cache database that stayed locked) is not the notebook's fault: tools/parallel_executor.py
    tries it once more; a second failure is reported."""
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    import execute_book
    import parallel_executor

    root = _mini_book(tmp_path, {"start": "# Start\n\nText.\n",
                                 "flaky": NOTEBOOK_HEADER + "\n# Flaky\n" + _cell("print('ran')")})
    monkeypatch.setenv("SCE_CACHE_DIR", str(root / "sce-cache"))
    failures = tmp_path / "failures"
    real = parallel_executor.Worker.execute

    def fail_first(project_nb, data):  # the pool's processes are forked: they see this function
        with open(failures, "a", encoding="utf-8") as f:
            f.write("x")
        if failures.read_text(encoding="utf-8") in allowed:
            raise RuntimeError("Kernel didn't respond in 60 seconds")
        return real(project_nb, data)

    def cancelled_first(project_nb, data):  # nbclient's kernel start cancelled: a BaseException
        with open(failures, "a", encoding="utf-8") as f:
            f.write("c")
        if failures.read_text(encoding="utf-8") == "c":
            def start(*args, **kwargs):
                raise asyncio.CancelledError()
            monkeypatch.setattr(parallel_executor, "single_nb_execution", start)
        else:
            monkeypatch.setattr(parallel_executor, "single_nb_execution", real_run)
        return real(project_nb, data)

    real_run = parallel_executor.single_nb_execution
    monkeypatch.setattr(parallel_executor.Worker, "execute", staticmethod(cancelled_first))
    result: list[int] = []  # in a thread: with the cancellation uncaught the pool would wait forever
    thread = threading.Thread(target=lambda: result.append(execute_book.execute_book(
        1, root / "_build" / ".jupyter_cache", root / "_build" / "report.json", None, root=root,
        log=lambda *a, **k: None)), daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert result == [0] and failures.read_text(encoding="utf-8") == "cc"
    failures.unlink()
    shutil.rmtree(root / "_build")

    monkeypatch.setattr(parallel_executor.Worker, "execute", staticmethod(fail_first))
    lines: list[str] = []
    allowed = {"x"}  # the first attempt fails, the second runs
    assert execute_book.execute_book(1, root / "_build" / ".jupyter_cache", root / "_build" / "report.json", None,
                                     root=root, log=lambda *a, **k: lines.append(" ".join(map(str, a)))) == 0
    assert failures.read_text(encoding="utf-8") == "xx" and any("book/flaky.md" in ln and " s" in ln for ln in lines)
    failures.unlink()
    allowed = {"x", "xx"}  # both fail: reported, not retried forever
    shutil.rmtree(root / "_build")
    assert execute_book.execute_book(1, root / "_build" / ".jupyter_cache", root / "_build" / "report.json", None,
                                     root=root, log=lambda *a, **k: lines.append(" ".join(map(str, a)))) == 1
    assert failures.read_text(encoding="utf-8") == "xx"
    report = json.loads((root / "_build" / "report.json").read_text(encoding="utf-8"))
    assert report["notebooks"]["book/flaky.md"]["error"].startswith("the executor failed before the notebook ran")
