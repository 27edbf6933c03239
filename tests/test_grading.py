"""Autograding with otter-grader (tools/assignment.py, tools/grade.py, book/exercises/):

* every ⌨ exercise of the book has a test file, and every test file belongs to a ⌨ exercise (so the two
  cannot drift apart); the tests read names that the chapter's solution defines, and each case reads one
  that the main text does not (so a blank notebook fails it);
* the generated files are otter's own formats: OK-format test files (the student's copy without hidden
  cases) and notebooks with ``otter.Notebook`` / ``grader.check`` cells;
* the reference solutions score full marks (every chapter: its solution notebook is executed and graded),
  and, executed so, every chapter prints what the built book shows (the book's reproducibility check:
  this is its second execution under the build's seed);
* ``make grade`` on a folder holding one chapter's blank notebook, reference solutions, a wrong answer,
  a crashing, a looping and a malformed notebook gives each the score it should, without stopping;
* ``grader.check`` in the student's notebook prints what a student reads, for a right and a wrong answer.
"""

from __future__ import annotations

import ast
import csv
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from _book import CACHE, cached_notebook, printed_text
from _paths import BOOK, ROOT, wait_for_build

sys.path.insert(0, str(ROOT / "tools"))
import assignment as asg  # noqa: E402
import student_edition as se  # noqa: E402

KEYBOARD = asg.keyboard_exercises()
CHAPTERS = [p.stem for p in se.chapter_paths()]
BATCH_CHAPTER = "01-softmax"          # the chapter whose notebooks the batch test grades (fast to execute)
CODE_CELL = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)\n```", re.S)


def _loaded(code: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


@pytest.fixture(scope="module")
def assignment(tmp_path_factory) -> Path:
    """`make assignment` into a temporary folder (made from the built book)."""
    wait_for_build()
    out = tmp_path_factory.mktemp("assignment")
    proc = subprocess.run(["make", "-s", "assignment", f"ASSIGNMENT_DIR={out}"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


# --- the tests and the exercises cannot drift apart ------------------------------------------------------

def test_every_keyboard_exercise_has_tests_and_every_test_file_an_exercise() -> None:
    files = {p.stem for p in asg.EXERCISES.glob("*.py")}
    assert len(KEYBOARD) >= 20
    assert sorted(set(KEYBOARD) - files) == [], "⌨ exercises without book/exercises/<label>.py"
    assert sorted(files - set(KEYBOARD)) == [], "test files naming no ⌨ exercise of the book"
    graded = [label for label in KEYBOARD if asg.load_tests(label).graded]
    assert len(graded) >= len(KEYBOARD) - 2


@pytest.mark.parametrize("label", sorted(KEYBOARD))
def test_exercise_tests_read_what_the_solution_defines(label: str) -> None:
    tests = asg.load_tests(label)
    if not tests.graded:
        assert len(tests.ungraded) > 20 and not tests.public and not tests.hidden
        return
    chapter, ex = KEYBOARD[label]
    source = (se.BOOK / f"{chapter}.md").read_text(encoding="utf-8")
    solution = se.solutions(source)[label]
    main_text = se.SOLUTION.sub("", source)
    defined = set().union(*(asg._bound(c) for c in CODE_CELL.findall(solution)))
    in_main = set().union(*(asg._bound(c) for c in CODE_CELL.findall(main_text)))
    assert tests.names and set(tests.names) <= defined, f"{label}: names the solution does not define"
    assert tests.points == ex.stars and len(tests.public) >= 1 and len(tests.hidden) >= 1
    for case in tests.public + tests.hidden:
        asg.to_doctest(case)                                   # parses, converts
        read = _loaded(case) & set(tests.names)
        assert read, f"{label}: a case reads none of {tests.names}: {case[:80]}"
        if tests.blank_fails is None:
            assert read - in_main, (f"{label}: a case reads only names the main text defines too, so a blank "
                                    f"notebook might pass it (or say why not in BLANK_FAILS): {case[:80]}")


@pytest.mark.parametrize("label", sorted(KEYBOARD))
def test_exercise_statement_names_what_the_checks_read(label: str) -> None:
    """The exercise's statement (on the site, in the PDF, in the student notebook) names, in backticks, every
    variable the checks read (asg.names_read): a student learns them from the exercise, not the solution."""
    tests = asg.load_tests(label)
    if not tests.graded:
        return
    statement = KEYBOARD[label][1].text
    names = asg.names_read(tests)
    assert names, f"{label}: the checks read no name the solution defines"
    missing = [name for name in names if f"`{name}`" not in statement]
    assert missing == [], f"{label}: the exercise's statement does not name {missing} in backticks"


@pytest.mark.filterwarnings("ignore:Traits should be given as instances:DeprecationWarning")  # otter's import
def test_ok_format_files_load_in_otter(tmp_path: Path) -> None:
    from otter.test_files import OKTestFile

    for label in KEYBOARD:
        tests = asg.load_tests(label)
        if not tests.graded:
            continue
        full, public = tmp_path / f"{label}.py", tmp_path / f"{label}-public.py"
        full.write_text(asg.ok_test(tests, hidden=True), encoding="utf-8")
        public.write_text(asg.ok_test(tests, hidden=False), encoding="utf-8")
        t_full, t_public = OKTestFile.from_file(str(full)), OKTestFile.from_file(str(public))
        assert t_full.name == label and abs(t_full.possible - tests.points) < 1e-12
        assert len(t_full.test_cases) == len(tests.public) + len(tests.hidden)
        assert [c.hidden for c in t_public.test_cases] == [False] * len(tests.public)
        for case in tests.hidden:                                  # no hidden case reaches the student
            assert asg.to_doctest(case) not in public.read_text(encoding="utf-8")


def test_assignment_files(assignment: Path) -> None:
    student = assignment / "student"
    assert sorted(p.stem for p in student.glob("*.ipynb")) == sorted(CHAPTERS)
    graded = sorted(label for label in KEYBOARD if asg.load_tests(label).graded)
    assert sorted(p.stem for p in (student / "tests").glob("*.py")) == graded
    with zipfile.ZipFile(assignment / "student.zip") as zf:
        assert f"student/tests/{graded[0]}.py" in zf.namelist() and zf.testzip() is None
    for chapter in CHAPTERS:
        nb = nbformat.read(student / f"{chapter}.ipynb", as_version=4)
        expected = [t.label for t in asg.chapter_tests(chapter) if t.graded]
        sources = [c.source for c in nb.cells if c.cell_type == "code"]
        checks = [s for s in sources if s.startswith("grader.check(")]
        assert checks == [asg.CHECK_CELL.format(label=label) for label in expected]
        if expected:
            assert sources.count(asg.GRADER_CELL) == 1
            assert sources.index(asg.GRADER_CELL) < sources.index(checks[0])
        for i, cell in enumerate(nb.cells):                # each check right after its answer cell
            if cell.source in checks:
                label = cell.source.split('"')[1]
                assert nb.cells[i - 1].metadata.get("exercise") == label
        assert nb.metadata["otter"]["assignment_name"] == chapter
        with zipfile.ZipFile(assignment / "autograder" / f"{chapter}-autograder.zip") as zf:
            names = zf.namelist()
            assert sorted(n[6:-3] for n in names if n.startswith("tests/")) == sorted(expected)
            assert "otter_config.json" in names and "files/sce_lib/__init__.py" in names
            assert json.loads(zf.read("otter_config.json"))["assignment_name"] == chapter


# --- grading -------------------------------------------------------------------------------------------

def _grade(folder: Path, assignment: Path, *extra: str) -> list[dict[str, str]]:
    proc = subprocess.run(["make", "-s", "grade", f"SUBMISSIONS={folder}", f"ASSIGNMENT_DIR={assignment}",
                           f"GRADE_ARGS={' '.join(extra)}"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(folder / "grades.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    files = sorted(p for p in folder.rglob("*.ipynb"))
    assert [f"[{i}/{len(files)}]" in proc.stdout for i in range(1, len(files) + 1)] == [True] * len(files)
    return rows


@pytest.fixture(scope="module")
def graded_solutions(assignment: Path, tmp_path_factory) -> tuple[dict[str, dict[str, str]], Path]:
    """Every chapter's solution notebook, graded in one batch (two at a time) under the build's seed:
    ({chapter: its row of grades.csv}, the folder of the notebooks as otter executed them). This is the
    book's second execution under the default seed, so it also serves the reproducibility check."""
    subs, executed = tmp_path_factory.mktemp("solutions"), tmp_path_factory.mktemp("executed")
    for chapter in CHAPTERS:
        nbformat.write(nbformat.read(assignment / "solutions" / f"{chapter}.ipynb", as_version=4),
                       subs / f"reference-{chapter}.ipynb")
    rows = _grade(subs, assignment, "--jobs 2", f"--executed {executed}")
    return {row["chapter"]: row for row in rows}, executed


@pytest.mark.chapter
@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_reference_solutions_score_full_marks(graded_solutions, chapter: str) -> None:
    """The chapter with its solutions, graded: every ⌨ exercise full marks."""
    row = graded_solutions[0][chapter]
    graded = {t.label: t.points for t in asg.chapter_tests(chapter) if t.graded}
    assert row["error"] == "" and {label: float(row[label]) for label in graded} == graded
    assert float(row["total"]) == float(row["possible"]) == sum(graded.values())


@pytest.mark.chapter
@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_reproduces_the_build(assignment: Path, graded_solutions, chapter: str) -> None:
    """Executed again under the build's seed (by the grader, with its check cells in between), every code
    cell of the chapter prints exactly what the site shows: seeds fixed, one thread per process."""
    built = cached_notebook(CACHE, BOOK / f"{chapter}.md")            # what the site shows
    assert built is not None, f"{chapter}: the strict build's cache does not hold this chapter"
    solution = nbformat.read(assignment / "solutions" / f"{chapter}.ipynb", as_version=4)
    own = [c.id for c in solution.cells if c.cell_type == "code" and "otter" not in c.metadata.get("tags", [])]
    executed = nbformat.read(graded_solutions[1] / f"reference-{chapter}.ipynb", as_version=4)
    by_id = {c.get("id"): c for c in executed.cells}
    assert set(own) <= set(by_id), f"{chapter}: the grader's notebook lost cells of the chapter"
    again = nbformat.v4.new_notebook(cells=[by_id[i] for i in own])
    first, second = printed_text(built), printed_text(again)
    assert len(first) == len(second), f"{chapter}: the build and the solution notebook have different code cells"
    differing = [
        f"code cell {i}:\n  build: {a[:300]!r}\n  again: {b[:300]!r}"
        for i, (a, b) in enumerate(zip(first, second)) if a != b
    ]
    assert differing == [], f"{chapter}: output differs between two executions:\n" + "\n".join(differing)


def _with_answers(student: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The student notebook with the given code in the answer cells of the given exercises."""
    nb = nbformat.from_dict(json.loads(json.dumps(student)))
    for cell in nb.cells:
        for label, code in answers.items():
            if cell.cell_type == "code" and cell.metadata.get("exercise") == label:
                cell.source = code
    return nb


def _solution_code(chapter: str, label: str) -> str:
    source = (se.BOOK / f"{chapter}.md").read_text(encoding="utf-8")
    return "\n\n".join(CODE_CELL.findall(se.solutions(source)[label]))


@pytest.mark.chapter
@pytest.mark.slow
def test_a_batch_is_graded_without_stopping(assignment: Path, tmp_path: Path) -> None:
    """One chapter's notebooks: the reference solutions (in a sub-folder), blank, a wrong answer, a crash, a
    loop and a malformed file (every chapter's reference solutions: test_reference_solutions_score_full_marks)."""
    jac, bf16 = "sm-ex-log-softmax-jacobian", "sm-ex-bfloat16"
    assert [t.label for t in asg.chapter_tests(BATCH_CHAPTER)] == [jac, bf16]
    student = nbformat.read(assignment / "student" / f"{BATCH_CHAPTER}.ipynb", as_version=4)
    right = {label: _solution_code(BATCH_CHAPTER, label) for label in (jac, bf16)}
    # the transposed Jacobian I - p 1^T: a plausible slip, and a deliberate error in one exercise only
    wrong_jac = right[jac].replace("torch.ones(5, 1, dtype=F64) * p[None, :]", "p[:, None] * torch.ones(1, 5, dtype=F64)")
    assert wrong_jac != right[jac]
    wrong_jac = "\n".join(ln for ln in wrong_jac.splitlines() if not ln.startswith("assert"))
    subs = tmp_path / "submissions"
    (subs / "alice").mkdir(parents=True)                      # a submission in a folder of its own
    nbformat.write(nbformat.read(assignment / "solutions" / f"{BATCH_CHAPTER}.ipynb", as_version=4),
                   subs / "alice" / f"{BATCH_CHAPTER}.ipynb")
    nbformat.write(student, subs / f"blank-{BATCH_CHAPTER}.ipynb")
    nbformat.write(_with_answers(student, {jac: wrong_jac, bf16: right[bf16]}), subs / f"wrong-{BATCH_CHAPTER}.ipynb")
    nbformat.write(_with_answers(student, {jac: right[jac], bf16: "raise RuntimeError('my code crashes')"}),
                   subs / f"crash-{BATCH_CHAPTER}.ipynb")
    nbformat.write(_with_answers(student, {jac: "import time\nwhile True:\n    time.sleep(0.05)", bf16: right[bf16]}),
                   subs / f"loop-{BATCH_CHAPTER}.ipynb")
    (subs / f"malformed-{BATCH_CHAPTER}.ipynb").write_text('{"cells": [', encoding="utf-8")

    rows = {r["submission"]: r for r in _grade(subs, assignment, "--jobs 2", "--cell-timeout 15")}
    score = {name: (float(r[jac]), float(r[bf16]), float(r["total"])) for name, r in rows.items()}
    # The slip earns the cases it passes (I - p 1^T has the right shape, spectrum and idempotence, not the
    # right entries); everything else is all or nothing here.
    wrong = score.pop(f"wrong-{BATCH_CHAPTER}.ipynb")
    assert 0 <= wrong[0] < 1 and wrong[1:] == (2, wrong[0] + 2), wrong
    assert score == {
        f"alice/{BATCH_CHAPTER}.ipynb": (1, 2, 3),
        f"blank-{BATCH_CHAPTER}.ipynb": (0, 0, 0),
        f"crash-{BATCH_CHAPTER}.ipynb": (1, 0, 1),
        f"loop-{BATCH_CHAPTER}.ipynb": (0, 2, 2),
        f"malformed-{BATCH_CHAPTER}.ipynb": (0, 0, 0),
    }
    assert rows[f"loop-{BATCH_CHAPTER}.ipynb"]["error"] == "" and rows[f"crash-{BATCH_CHAPTER}.ipynb"]["error"] == ""
    assert rows[f"malformed-{BATCH_CHAPTER}.ipynb"]["error"].startswith("malformed")
    assert all(r["possible"] == "3" and r["chapter"] == BATCH_CHAPTER for r in rows.values())
    hand = [e.label for e in se.exercises((se.BOOK / f"{BATCH_CHAPTER}.md").read_text(encoding="utf-8")) if e.mark == "✍"]
    assert hand and all(r[label] == "to grade by hand" for r in rows.values() for label in hand)


def test_grader_check_prints_what_a_student_reads(assignment: Path, tmp_path: Path) -> None:
    """In the student folder (public tests only), the notebook's own grader and check cells, after a right
    and after a wrong answer to the Jacobian exercise."""
    label = "sm-ex-log-softmax-jacobian"
    student = nbformat.read(assignment / "student" / f"{BATCH_CHAPTER}.ipynb", as_version=4)
    sources = [c.source for c in student.cells if c.cell_type == "code"]
    check = asg.CHECK_CELL.format(label=label)
    assert asg.GRADER_CELL in sources and check in sources
    right = "import torch\nfrom sce_lib import log_softmax, softmax\nfrom sce_lib.seeds import torch_generator\nF64 = torch.float64\n" + _solution_code(BATCH_CHAPTER, label)
    wrong = right.replace("torch.ones(5, 1, dtype=F64) * p[None, :]", "p[:, None] * torch.ones(1, 5, dtype=F64)")
    wrong = "\n".join(ln for ln in wrong.splitlines() if not ln.startswith("assert"))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in (asg.GRADER_CELL, right, check, wrong, check)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder = assignment / "student"
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    printed = ["".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in c.outputs
                       if o.output_type in ("execute_result", "display_data")) for c in nb.cells]
    assert printed[2] == f"{label} results: All test cases passed!"
    assert printed[4].startswith(f"{label} results:") and "❌ Test case failed" in printed[4]
    assert "AssertionError" in printed[4] and "A.sum(dim=1)" in printed[4]      # the failing public case
    assert not any(o.output_type == "error" for c in nb.cells for o in c.outputs)


def test_time_limit_per_notebook_and_files_that_name_no_chapter(assignment: Path, tmp_path: Path) -> None:
    """A notebook past its time limit (here 3 s: the kernel alone takes longer to start) scores zero with
    the reason; a notebook of no known chapter and a file that is not JSON are listed; the batch goes on."""
    tiny = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time\ntime.sleep(60)")])
    nbformat.write(tiny, tmp_path / f"slow-{BATCH_CHAPTER}.ipynb")
    nbformat.write(tiny, tmp_path / "no-chapter.ipynb")
    (tmp_path / f"junk-{BATCH_CHAPTER}.ipynb").write_text("not a notebook", encoding="utf-8")
    rows = {r["submission"]: r for r in _grade(tmp_path, assignment, "--timeout 3")}
    assert rows[f"slow-{BATCH_CHAPTER}.ipynb"]["error"] == "timed out after 3 s"
    assert rows["no-chapter.ipynb"]["error"].startswith("unknown chapter")
    assert rows[f"junk-{BATCH_CHAPTER}.ipynb"]["error"].startswith("malformed: NotJSONError")
    assert {r["total"] for r in rows.values()} == {"0"}
