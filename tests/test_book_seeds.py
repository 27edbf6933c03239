"""Every chapter executes under the other seed offsets of SCE_TEST_SEEDS (default "1") too.

Its assertions are its theorems' checks, and a statement about a random experiment must hold for
every seed (its text is glued from what it prints), so each chapter must run without an error and
without writing to stderr on other draws as well.

Under `make test` the executions are started by tests/test_book.py, in the background at a lower
priority, as soon as the strict build starts; this file is the last one handed out (tests/conftest.py,
FILE_ORDER), so that the worker that runs it waits only once nothing else is left, and reads the
reports the runs wrote. Run alone (`pytest tests/test_book_seeds.py`), it executes them itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from _book import OTHER_SEEDS, execute_book, failure, read_report, seed_cache, seed_log, seed_report
from _paths import BOOK, ROOT, SEEDS_DONE, SEEDS_STARTED, chapters, wait_for, waiting_for_build

pytestmark = pytest.mark.build


@pytest.fixture(scope="module")
def seed_runs() -> dict[str, tuple[dict, str]]:
    """seed -> (its execution report, its executor's log)."""
    if waiting_for_build():
        status = wait_for(SEEDS_DONE, SEEDS_STARTED, "the executions under the other seeds")
        if status != "ok":
            pytest.fail(f"the executions under the other seeds stopped: {status}")
    else:
        for seed in OTHER_SEEDS:
            run = execute_book(seed_cache(seed), seed_report(seed), seed)
            seed_log(seed).write_text(f"exit code {run.returncode}\n{run.stdout}", encoding="utf-8")
    logs = {seed: seed_log(seed).read_text(encoding="utf-8") if seed_log(seed).is_file() else "no log was written"
            for seed in OTHER_SEEDS}
    return {seed: (read_report(seed_report(seed)), logs[seed]) for seed in OTHER_SEEDS}


@pytest.mark.chapter
@pytest.mark.parametrize("seed", OTHER_SEEDS, ids=lambda k: f"SCE_SEED={k}")
@pytest.mark.parametrize("path", chapters(), ids=lambda p: str(p.relative_to(BOOK)))
def test_chapter_executes_under_another_seed(path: Path, seed: str, seed_runs) -> None:
    """Every assertion of the chapter holds on other draws too (and its text is glued from them)."""
    report, log = seed_runs[seed]
    problem = failure(path, report.get("notebooks", {}).get(str(path.relative_to(ROOT))),
                      f"under SCE_SEED={seed}", log)
    if problem:
        pytest.fail(problem, pytrace=False)
