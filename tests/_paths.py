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
# run alone reads whatever build is there.
BUILD_DONE = BUILD / ".strict-build-done"


def _run_id() -> str:
    import os

    return os.environ.get("PYTEST_XDIST_TESTRUNUID", "single-process")


def mark_build_done(ok: bool) -> None:
    """Called by tests/test_book.py once the strict build has finished (ok or not)."""
    BUILD.mkdir(exist_ok=True)
    BUILD_DONE.write_text(f"{_run_id()} {'ok' if ok else 'failed'}\n", encoding="utf-8")


def wait_for_build(timeout_s: float = 2400.0) -> None:
    """Wait until this test run's strict build is done (only under `make test`); fail if it failed."""
    import os
    import time

    import pytest

    if os.environ.get("SCE_TEST_WAIT_FOR_BUILD") != "1":
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if BUILD_DONE.is_file():
            run, _, status = BUILD_DONE.read_text(encoding="utf-8").strip().partition(" ")
            if run == _run_id():
                if status != "ok":
                    pytest.fail("the strict build of this test run failed (see tests/test_book.py)")
                return
        time.sleep(2)
    pytest.fail(f"the strict build of this test run did not finish within {timeout_s:.0f} s")
