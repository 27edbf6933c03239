"""The student edition (`make student`, tools/student_edition.py): no solution leaks, every exercise
is still there, and every student notebook runs top to bottom."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from _paths import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import student_edition as se  # noqa: E402

CHAPTERS = se.chapter_paths()


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student")
    proc = subprocess.run(["make", "-s", "student", f"STUDENT_DIR={out}"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def _text(nb: nbformat.NotebookNode) -> str:
    return "\n".join(cell.source for cell in nb.cells)


def test_one_notebook_per_chapter_and_a_zip(edition: Path) -> None:
    names = sorted(p.name for p in edition.glob("*.ipynb"))
    assert names == [f"{p.stem}.ipynb" for p in CHAPTERS] and len(names) >= 8
    with zipfile.ZipFile(edition / "student-edition.zip") as zf:
        assert sorted(Path(n).name for n in zf.namelist()) == names
        assert zf.testzip() is None


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_solution_leaks_and_every_exercise_is_kept(edition: Path, path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    student = _text(nbformat.read(edition / f"{path.stem}.ipynb", as_version=4))
    solutions = se.solutions(source)
    exercises = se.exercises(source)
    assert len(solutions) == len(exercises) >= 2 and {e.label for e in exercises} == set(solutions)
    outside = se.SOLUTION.sub("", source)  # the full edition without its solutions
    for label, solution in solutions.items():
        # Lines that only the solution has: a leak of any of them is a leak of the solution.
        own = [ln.strip() for ln in solution.splitlines()[2:-2]
               if len(ln.strip()) >= 20 and ln.strip() not in outside]
        assert own, f"{label}: the solution has no line of its own to look for"
        leaked = [ln for ln in own if ln in student]
        assert leaked == [], f"{path.name}, {label}: solution text in the student edition: {leaked[:3]}"
        assert "{solution-start}" not in student and "{solution-end}" not in student
    for ex in exercises:
        assert f"**Exercise {ex.mark} {'★' * ex.stars} {ex.title}** ({ex.label})" in student
        missing = [ln for ln in ex.text.splitlines() if ln.strip() and ln.strip() not in student]
        assert missing == [], f"{path.name}, {ex.label}: exercise text lost: {missing[:3]}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_student_code_is_a_prefix_of_the_chapter(edition: Path, path: Path) -> None:
    """The code cells of a student notebook are the chapter's first code cells, unchanged and in order,
    plus comment-only cells for the ⌨ exercises: since the strict build executes the chapter, the
    student notebook executes top to bottom."""
    full = [c.source for c in jupytext.read(path).cells if c.cell_type == "code"]
    cells = [c for c in nbformat.read(edition / f"{path.stem}.ipynb", as_version=4).cells if c.cell_type == "code"]
    theirs = [c for c in cells if "exercise" in c.metadata.get("tags", [])]
    kept = [c.source for c in cells if c not in theirs]
    assert kept == full[: len(kept)] and len(kept) >= 1
    assert all(line.startswith("#") for c in theirs for line in c.source.splitlines())
    n_keyboard = sum(e.mark == "⌨" for e in se.exercises(path.read_text(encoding="utf-8")))
    assert len(theirs) == n_keyboard


def test_a_student_notebook_runs(edition: Path) -> None:
    nb = nbformat.read(edition / "01-softmax.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "book")}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
