"""Paths shared by the tests that look at the book (not at the library)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
BUILD = ROOT / "_build"
HTML = BUILD / "html"
SCREENSHOTS = BUILD / "screenshots"


def is_notebook(path: Path) -> bool:
    """A MyST notebook carries a jupytext header with a kernelspec."""
    head = path.read_text(encoding="utf-8")[:3000]
    return head.startswith("---") and "kernelspec:" in head


def book_sources() -> list[Path]:
    return sorted(p for p in BOOK.rglob("*.md") if "_build" not in p.parts)


def chapters() -> list[Path]:
    """Every executable page of the book (chapters and the status page)."""
    return [p for p in book_sources() if is_notebook(p)]


# `make test` runs the strict build in tests/test_book.py on one pytest-xdist worker while the other
# worker runs the other files; the files that read the built book (the PDF, the reader notebooks, the
# student edition, the assignments) wait here for that build, so that a fresh clone never finds
# them reading a half-written or missing _build. The Makefile sets SCE_TEST_WAIT_FOR_BUILD=1; a file
# run alone reads whatever build is there. tests/test_book.py also starts the executions under the
# other seeds, in the background; tests/test_book_seeds.py, the last file, waits for them the same way.
BUILD_DONE = BUILD / ".strict-build-done"
BUILD_STARTED = BUILD / ".strict-build-started"
SEEDS_DONE = BUILD / ".seed-runs-done"
SEEDS_STARTED = BUILD / ".seed-runs-started"
STARTS_WITHIN_S = 300.0  # the strict build and the seed runs are the first things tests/test_book.py starts


def waiting_for_build() -> bool:
    """True under `make test` (SCE_TEST_WAIT_FOR_BUILD=1), where tests/test_book.py runs the build."""
    import os

    return os.environ.get("SCE_TEST_WAIT_FOR_BUILD") == "1"


def _run_id() -> str:
    import os

    return os.environ.get("PYTEST_XDIST_TESTRUNUID", "single-process")


def mark(marker: Path, status: str = "") -> None:
    """Write this run's id (and a status) into ``marker``: a build or a run has started or is done."""
    BUILD.mkdir(exist_ok=True)
    marker.write_text(f"{_run_id()} {status}".rstrip() + "\n", encoding="utf-8")


def mark_build_started() -> None:
    """Called by tests/test_book.py when the strict build starts."""
    mark(BUILD_STARTED)


def _this_run(marker: Path) -> str | None:
    """What ``marker`` says after this run's id, or None if it is from another run (or absent)."""
    if not marker.is_file():
        return None
    run, _, rest = marker.read_text(encoding="utf-8").strip().partition(" ")
    return rest if run == _run_id() else None


def mark_build_done(ok: bool) -> None:
    """Called by tests/test_book.py once the strict build has finished (ok or not)."""
    mark(BUILD_DONE, "ok" if ok else "failed")


def wait_for(done: Path, started: Path, what: str, timeout_s: float = 2400.0) -> str:
    """Wait until ``done`` holds this test run's id, and return the status it holds; fail if ``started``
    does not within STARTS_WITHIN_S: then tests/test_book.py was not scheduled first (`make test` runs
    pytest with --no-loadscope-reorder, so that the file that starts the build comes first, in the
    order of collection), and the worker would otherwise wait for something nobody runs."""
    import time

    import pytest

    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        status = _this_run(done)
        if status is not None:
            return status
        if _this_run(started) is None and time.monotonic() - start > STARTS_WITHIN_S:
            pytest.fail(f"{what} of this test run did not start within {STARTS_WITHIN_S:.0f} s: "
                        "tests/test_book.py must run first (make test passes --no-loadscope-reorder)")
        time.sleep(2)
    pytest.fail(f"{what} of this test run did not finish within {timeout_s:.0f} s")


def wait_for_build(timeout_s: float = 2400.0) -> None:
    """Wait until this test run's strict build is done (only under `make test`); fail if it failed."""
    import pytest

    if not waiting_for_build():
        return
    if wait_for(BUILD_DONE, BUILD_STARTED, "the strict build", timeout_s) != "ok":
        pytest.fail("the strict build of this test run failed (see tests/test_book.py)")
