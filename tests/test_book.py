"""The whole book, built as CI builds it, executed under other seeds too (checked in
tests/test_book_seeds.py), then read by a real browser.

Everything that needs the strict build lives in this one file: `make test` distributes tests to its
two pytest-xdist workers file by file (`--dist loadfile`), so the build runs once, on one worker,
and never twice at the same time into the same _build folder.

Every execution goes through tools/execute_book.py, as `make book` runs it: all notebooks of _toc.yml,
as many at a time as there are cores, each in a fresh kernel (one thread) in its own folder, into an
execution cache. Each execution serves several checks:

1. Under the default seed (SCE_SEED as set, else 0), into the cache the book build reads (dropped
   first): no cell raises (a failure names the chapter with its traceback), nothing is written to
   stderr, each chapter stays within its time budget. Then the strict build (`--all -W -n
   --keep-going`) takes every output from that cache: it must execute nothing, print no warning, and
   no kernel may warn about its transport. The site it builds is checked: MathJax served locally, no
   Markdown left unparsed, the status page (execution times, the cold build's wall time) and headless
   Chromium (Debian's package, driven by Playwright),
   which loads every page from a server on 127.0.0.1 and asserts that math was typeset, that no
   request left 127.0.0.1, that no page logged a console error and that no image is broken; a
   screenshot of each page goes to _build/screenshots/. The files that read the built book (the PDF:
   tests/test_pdf.py; the reader notebooks, the student edition, the assignments) wait for this build
   (tests/_paths.py: wait_for_build) and run on the other pytest worker.
2. Under each other seed offset of SCE_TEST_SEEDS (default "1"; `make test TEST_SEEDS="3 7"`), into
   a cache of its own, in the background at a lower priority (nice 10), started here alongside 1 and
   running on while this worker and the other run the browser, PDF, student-edition and grading
   checks: every chapter executes (its assertions are its theorems' checks, and a statement about a
   random experiment must hold for every seed) and writes nothing to stderr. tests/test_book_seeds.py,
   the last file `make test` hands out, waits for these runs and reads their reports, so that no
   worker sits idle waiting for them while other files remain.
3. Under the default seed once more: not here, but in tests/test_grading.py, where otter grades every
   chapter's solution notebook (the whole chapter with check cells) and keeps it as executed; there
   every chapter must print exactly what the build printed (reproducibility: seeds fixed; one thread
   per process fixes the order of floating-point reductions). One execution serves both checks.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from _book import (BUILD, OTHER_SEEDS, execute_book, failure, read_report, run_strict_build, seed_cache, seed_log,
                   seed_of, seed_report)
from _browser import browse_site, chromium_path, html_pages
from _paths import (BOOK, HTML, ROOT, SCREENSHOTS, SEEDS_DONE, SEEDS_STARTED, chapters, mark, mark_build_done,
                    mark_build_started, waiting_for_build)

sys.path.insert(0, str(ROOT / "tools"))
from execute_book import toc_notebooks  # noqa: E402

pytestmark = pytest.mark.build

# Budget per chapter: the guide's, for an idle 2-core machine (60 s; minimisation 45 s; the two
# separability chapters 120 s and 90 s), times CONTENTION = 2, because here each chapter is measured
# while two kernels, the other pytest worker and the other seed's executions (at a lower priority)
# share the two cores. The status page shows the times of a plain `make book`.
IDLE_BUDGET_S = {"05-minimisation": 45, "06-separability": 120, "06b-what-decides-separability": 90}
CONTENTION = 2.0


def budget_s(path: Path) -> float:
    return CONTENTION * IDLE_BUDGET_S.get(path.stem, 60)


SEED = seed_of()


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@dataclass
class LaterRuns:
    """The executions under the other seeds, one after another (each one in parallel), in a thread,
    so that the build, the browser test and the other files run meanwhile: name -> (cache, report,
    seed). Each run's output goes to its log (``seed_log``); when all are done, ``SEEDS_DONE`` says so
    to tests/test_book_seeds.py."""

    runs: dict[str, tuple[Path, Path, str]]
    procs: list[subprocess.Popen] = field(default_factory=list)

    def __post_init__(self) -> None:
        mark(SEEDS_STARTED)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        status = "ok"
        try:
            for _, (cache, report, seed) in self.runs.items():
                proc = execute_book(cache, report, seed, background=True)
                self.procs.append(proc)
                out, _ = proc.communicate()
                seed_log(seed).write_text(f"exit code {proc.returncode}\n{out}", encoding="utf-8")
        except BaseException as exc:  # the waiting file must hear of it, not wait until its timeout
            status = f"failed: {exc!r}"
            raise
        finally:
            mark(SEEDS_DONE, status)

    def finish(self) -> None:
        """At the end of this worker's session: let the runs end (the other worker may be waiting for
        them in tests/test_book_seeds.py), then make sure that nothing is left running."""
        try:
            self.thread.join(timeout=2400)
        finally:
            for proc in self.procs:
                if proc.poll() is None:
                    proc.kill()


@pytest.fixture(scope="module")
def book_runs(request):
    """The strict build (execution under the default seed, then the book build) and, under `make test`
    when tests/test_book_seeds.py is collected, the executions under the other seeds, in the
    background at a lower priority: they take the cores the strict build leaves idle (its last
    notebook, Sphinx) and run on, after this file, while the other files run, until
    tests/test_book_seeds.py reads them. This worker's session waits for them before it ends (run
    alone, tests/test_book_seeds.py executes them itself)."""
    BUILD.mkdir(exist_ok=True)
    mark_build_started()
    if waiting_for_build() and any(item.path.name == "test_book_seeds.py" for item in request.session.items):
        later = LaterRuns({f"seed {k}": (seed_cache(k), seed_report(k), k) for k in OTHER_SEEDS})
        request.config.add_cleanup(later.finish)
    try:
        execution, build = run_strict_build()
    except BaseException:
        mark_build_done(False)
        raise
    mark_build_done(build is not None and build.returncode == 0)
    return execution, build


@pytest.fixture(scope="module")
def strict_build(book_runs):
    """The book build's CompletedProcess (a failed one when the execution before it failed)."""
    execution, build = book_runs
    if build is None:
        return subprocess.CompletedProcess(execution.args, 1, execution.stdout, "")
    return build


def _chromium_or_skip() -> str:
    chromium = chromium_path()
    if chromium is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but Debian's chromium is not installed (make test installs it with apt-get)")
        pytest.skip("SKIPPED THE BROWSER TEST: chromium is not installed (apt-get install chromium)")
    return chromium


def _html_pages() -> list[Path]:
    return html_pages(HTML)


def test_every_notebook_is_executed_by_make_book() -> None:
    """tools/execute_book.py executes the notebooks of _toc.yml; every notebook in book/ is one."""
    assert sorted(toc_notebooks()) == chapters(), "a notebook in book/ is missing from _toc.yml, or the reverse"


def test_strict_build_succeeds(book_runs, strict_build) -> None:
    execution = book_runs[0]
    tail = "\n".join(execution.stdout.splitlines()[-80:])
    assert execution.returncode == 0, f"executing the notebooks failed (log: _build/strict-execution.log):\n{tail}"
    out = strict_build.stdout + strict_build.stderr
    tail = "\n".join(out.splitlines()[-60:])
    assert strict_build.returncode == 0, f"strict book build failed (log: _build/strict-build.log):\n{tail}"
    warnings = [line for line in out.splitlines() if "WARNING:" in line]
    assert warnings == [], "the strict build printed warnings:\n" + "\n".join(warnings)
    assert (HTML / "book" / "intro.html").is_file()


def test_the_build_executes_nothing_and_no_kernel_warns(book_runs, strict_build) -> None:
    """The parallel execution filled the cache with the notebooks myst-nb looks up: the book build
    takes all of them from it. No kernel printed ipykernel's TCP warning (they use IPC)."""
    execution = book_runs[0]
    assert strict_build.returncode == 0
    log = strict_build.stdout + strict_build.stderr
    executed = re.findall(r"^(\S+): Executing notebook", log, flags=re.M)
    assert executed == [], f"the book build executed notebooks itself (cache misses): {executed}"
    cached = set(re.findall(r"^(\S+\.md): Using cached notebook", log, flags=re.M))
    assert cached == {str(p) for p in toc_notebooks()}, "not every notebook came from the cache"
    noise = [line for line in (execution.stdout + log).splitlines() if "without encryption" in line]
    assert noise == [], "a kernel warned about its transport:\n" + "\n".join(noise[:3])


def test_site_serves_mathjax_locally(strict_build) -> None:
    assert strict_build.returncode == 0
    assert (HTML / "_static" / "mathjax" / "tex-mml-chtml.js").is_file(), "MathJax was not copied into the site"
    pages = _html_pages()
    assert pages, "no HTML pages were built"
    loading_mathjax = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', text):
            if src.startswith(("http://", "https://", "//")):
                # Links a reader may click are fine; resources the page loads itself are not.
                pytest.fail(f"{page.relative_to(HTML)} loads a remote resource: {src}")
        for src in re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', text, flags=re.I):
            assert src.split("?")[0].endswith("_static/mathjax/tex-mml-chtml.js"), f"{page.relative_to(HTML)}: {src}"
            loading_mathjax += 1
    assert loading_mathjax > 0, "no page loads MathJax: the math would not render"


def test_no_markdown_left_unparsed_in_the_pages(strict_build) -> None:
    """Markdown that the parser did not see as Markdown reaches the page as text: a role after a line
    that breaks the paragraph (a line starting with "+ " is a list item), or a whole section swallowed
    by a code block (a fence whose title holds backticks cannot open a directive, so its closing fence
    opens a code block instead). Neither may be on any page."""
    assert strict_build.returncode == 0
    role = re.compile(r"\{(?:ref|doc|numref|eq|cite(?::[tp])?|prf:ref|glue(?::text)?)\}`")
    heading_in_code = re.compile(r"<pre>[^<]*(?:<[^/][^>]*>[^<]*</[^>]*>[^<]*)*?\n#{1,3} [A-Z]")
    found = []
    for page in _html_pages():
        text = page.read_text(encoding="utf-8")
        found += [f"{page.relative_to(HTML)}: literal role {m.group(0)}" for m in role.finditer(text)]
        found += [f"{page.relative_to(HTML)}: a Markdown heading inside a code block" for _ in heading_in_code.finditer(text)]
    assert found == [], "\n".join(found)


def test_status_page_has_execution_table(strict_build) -> None:
    assert strict_build.returncode == 0
    status = (HTML / "book" / "status.html").read_text(encoding="utf-8")
    rows = re.findall(r'<span class="doc">(book/[^<]+)</span></a></p></td>(.*?)</tr>', status, flags=re.S)
    listed = {doc: body for doc, body in rows}
    expected = {str(p.relative_to(ROOT).with_suffix("")) for p in chapters()}
    assert expected <= set(listed), f"chapters missing from the execution table: {sorted(expected - set(listed))}"
    failed = [doc for doc, body in listed.items() if "✅" not in body]
    assert failed == [], f"the execution table reports failures: {failed}"
    assert "torch       2.13.0" in status and "GPU used:" in status
    # The cold build: this build's execution (every notebook), its wall time, and each notebook's time.
    report = read_report(BUILD / "execution-report.json")
    cold = report["cold"]
    assert cold["started"] == report["started"] and cold["executed"] == len(toc_notebooks())
    assert 0 < cold["wall_s"] <= cold["sum_s"] * 1.05 + 5, "the parallel execution took longer than one after another"
    assert (f"executed all {cold['executed']} notebooks on {cold['jobs']} processes" in status
            and f"in {cold['wall_s']:.1f} s of wall time" in status), "the status page lacks the execution's wall time"
    assert cold["wall_s"] < cold.get("build_wall_s", 0) < 3600
    assert (f"The whole cold build, from the start of the execution to the last page written, took "
            f"{cold['build_wall_s']:.1f} s.") in status, "the status page lacks the cold build's total wall time"
    for name, entry in cold["notebooks"].items():
        assert re.search(rf"<p>{re.escape(name)}</p></td>\s*<td[^>]*><p>{entry['seconds']:.1f}</p>", status), (
            f"the status page lacks {name}'s execution time")


@pytest.mark.browser
def test_every_page_renders_offline_in_chromium(strict_build) -> None:
    assert strict_build.returncode == 0, "the site was not built"
    report = browse_site(HTML, SCREENSHOTS, _chromium_or_skip())
    assert report.pages == len(_html_pages()) > 0
    assert report.math_pages >= 8, "fewer pages with math than chapters: the math check checked little"
    assert report.downloads == 2 * len([p for p in chapters() if p.name.startswith("0")])
    figures = sum(len(re.findall(r'<img[^>]+src="[^"]*_images/', page.read_text(encoding="utf-8")))
                  for page in _html_pages())
    assert report.dark_images == figures >= 10, "the dark-mode check did not see every figure"
    assert report.problems == [], "browser check failed:\n" + "\n".join(report.problems)
    shots = {sub: len(list((SCREENSHOTS / sub).glob("*.jpg"))) for sub in ("desktop", "phone")}
    assert shots == {"desktop": report.pages, "phone": report.pages}


@pytest.mark.chapter
@pytest.mark.parametrize("path", chapters(), ids=lambda p: str(p.relative_to(BOOK)))
def test_chapter_executes_within_its_budget(path: Path, book_runs) -> None:
    execution = book_runs[0]
    entry = read_report(BUILD / "execution-report.json").get("notebooks", {}).get(_rel(path))
    problem = failure(path, entry, f"under SCE_SEED={SEED}", execution.stdout)
    if problem:
        pytest.fail(problem, pytrace=False)
    assert entry["seconds"] < budget_s(path), (f"{path.name} took {entry['seconds']:.1f} s, over its budget of "
                                                f"{budget_s(path):.0f} s here ({IDLE_BUDGET_S.get(path.stem, 60)} s idle)")


