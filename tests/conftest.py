"""Shared test configuration for the library tests.

* hypothesis runs a fixed, modest number of derandomised examples without deadlines,
  so that CI is reproducible and the unit suite stays fast on a 2-core machine;
* ``gpu`` tests (marked ``@pytest.mark.gpu``) are skipped unless CUDA is available;
* the files run in the order `make test` needs (see ``FILE_ORDER``).
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, settings

settings.register_profile(
    "sce",
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("sce")


# `make test` hands out whole files to two workers in the order of collection (pytest-xdist's
# --dist loadfile --no-loadscope-reorder). tests/test_book.py comes first: it starts the strict build,
# which the files that read the built book wait for. The files that need no build come next, while
# the build runs; then those that read it, longest first (grading ~150 s, the PDF ~130 s, the student
# edition ~100 s: a fresh venv installed from the zip's README, the reader notebooks ~40 s, the
# instructor guide ~5 s), so that the file a worker finishes alone at the end is a short one. (In
# alphabetical order the student edition came last and ran alone for its last minute.) Last comes
# tests/test_book_seeds.py, which waits for the executions under the other seeds that test_book.py
# started in the background: a worker waits there only when no other file is left. (When the seed
# tests were part of test_book.py, their worker waited three minutes for them while the student
# edition and the reader notebooks queued behind it, and the other worker idled for the last 90 s.)
FILE_ORDER = ("test_book.py", None, "test_grading.py", "test_pdf.py", "test_student.py", "test_reader_notebooks.py",
              "test_instructor_guide.py", "test_book_seeds.py")


def _file_rank(item: pytest.Item) -> int:
    name = item.path.name
    return FILE_ORDER.index(name) if name in FILE_ORDER else FILE_ORDER.index(None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_file_rank)  # stable: the tests of a file keep their order
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (torch.cuda.is_available() is False)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def gen() -> torch.Generator:
    """A seeded CPU generator, fresh for every test."""
    return torch.Generator().manual_seed(20240611)

