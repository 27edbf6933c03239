"""Assignments that check themselves: the student notebooks with otter-grader's check cells, and the
instructor's autograder, from the chapters and the tests in book/exercises/.

    python tools/assignment.py OUT_DIR        (make assignment: OUT_DIR = _build/assignment)

writes

* ``OUT_DIR/student/<chapter>.ipynb``: the student edition of every chapter (tools/student_edition.py)
  with otter's cells added: ``import otter; grader = otter.Notebook(tests_dir="tests")`` before the first
  exercise and ``grader.check("<label>")`` after the answer cell of every graded ⌨ exercise;
  ``OUT_DIR/student/tests/<label>.py``: the *public* test cases, in otter's OK format (a Python file
  defining ``OK_FORMAT = True`` and ``test = {...}`` with doctest cases); ``OUT_DIR/student.zip``: both;
* ``OUT_DIR/autograder/<chapter>-autograder.zip``: otter's autograder for the chapter (``otter generate``:
  public and hidden cases, the pinned requirements, ``sce_lib`` as a support file, an ``otter_config.json``
  naming the assignment), what ``make grade`` (tools/grade.py) reads and what a Gradescope or Docker
  ``otter grade`` takes as it is;
* ``OUT_DIR/solutions/<chapter>.ipynb``: the full chapter (solutions included) with the same check cells
  after each solution: graded, it must score full marks (tests/test_grading.py).

The tests of an exercise live in ``book/exercises/<label>.py`` (one file per ⌨ exercise, keyed by the
exercise's label in the chapter): ``NAMES`` (the names the tests read), ``PUBLIC`` and ``HIDDEN`` (lists
of Python snippets, each one test case: statements that raise, normally with an ``assert``, when the answer
is wrong), or ``UNGRADED`` (why the exercise cannot be autograded). An exercise is worth its number of
stars in points, shared equally by its cases. ✍ exercises (and ungraded ⌨ ones) are graded by hand.

Why our generator and not Otter Assign: Otter Assign reads a master notebook in its own format (questions,
solutions and tests marked by raw cells); the chapters are MyST sources whose exercises and solutions are
Sphinx directives, and their student edition is already made (and tested) by tools/student_edition.py.
Writing otter's own formats (the ``otter.Notebook`` check cells, OK-format test files) and calling otter's
``generate`` for the autograder zip keeps one source for each thing: the chapter for the text, the student
edition tool for what a student sees, book/exercises/ for the tests.
"""

from __future__ import annotations

import ast
import json
import os
import runpy
import re
import shutil
import sys
import tempfile
import textwrap
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reader_notebooks as rn  # noqa: E402
import student_edition as se  # noqa: E402
from site_index import SiteIndex  # noqa: E402

ROOT = se.ROOT
EXERCISES = ROOT / "book" / "exercises"
TESTS_DIR = "tests"
GRADER_CELL = 'import otter\ngrader = otter.Notebook(tests_dir="tests")'
CHECK_CELL = 'grader.check("{label}")'
MARKER = re.compile(r"\{solution-(?P<kind>start|end)\}(?:[ \t]+(?P<label>\S+))?")


@dataclass(frozen=True)
class ExerciseTests:
    """The tests of one ⌨ exercise (book/exercises/<label>.py) and the exercise they belong to."""

    label: str
    chapter: str
    points: int
    names: tuple[str, ...]
    public: tuple[str, ...]
    hidden: tuple[str, ...]
    ungraded: str | None
    blank_fails: str | None

    @property
    def graded(self) -> bool:
        return self.ungraded is None


def keyboard_exercises() -> dict[str, tuple[str, se.Exercise]]:
    """{label: (chapter stem, exercise)} of every ⌨ exercise of the book, in book order."""
    found = {}
    for path in se.chapter_paths():
        for ex in se.exercises(path.read_text(encoding="utf-8")):
            if ex.mark == "⌨":
                found[ex.label] = (path.stem, ex)
    return found


def hand_graded(chapter: str) -> list[str]:
    """Labels of a chapter's exercises graded by hand: every ✍ one and the ⌨ ones without tests."""
    path = se.BOOK / f"{chapter}.md"
    labels = []
    for ex in se.exercises(path.read_text(encoding="utf-8")):
        if ex.mark != "⌨" or not load_tests(ex.label).graded:
            labels.append(ex.label)
    return labels


def load_tests(label: str) -> ExerciseTests:
    """Reads book/exercises/<label>.py (ValueError when the exercise or its file is missing)."""
    exercises = keyboard_exercises()
    if label not in exercises:
        raise ValueError(f"label: expected the label of a ⌨ exercise of the book, got {label!r}")
    path = EXERCISES / f"{label}.py"
    if not path.is_file():
        raise ValueError(f"{label}: no tests in {path.relative_to(ROOT)}")
    spec = runpy.run_path(str(path))
    chapter, ex = exercises[label]
    return ExerciseTests(label, chapter, ex.stars, tuple(spec.get("NAMES", ())),
                         tuple(textwrap.dedent(c).strip() for c in spec.get("PUBLIC", [])),
                         tuple(textwrap.dedent(c).strip() for c in spec.get("HIDDEN", [])),
                         spec.get("UNGRADED"), spec.get("BLANK_FAILS"))


def chapter_tests(chapter: str) -> list[ExerciseTests]:
    """The tests of a chapter's ⌨ exercises, in the chapter's order (graded or not)."""
    return [load_tests(label) for label, (stem, _) in keyboard_exercises().items() if stem == chapter]


def to_doctest(code: str) -> str:
    """One test case (Python statements) as a doctest: each top-level statement one example, with no
    expected output (so an example passes exactly when it raises nothing)."""
    lines = code.splitlines()
    out, previous_end = [], 0
    for node in ast.parse(code).body:
        # the statement with the comments above it; blank lines dropped (a blank line ends an example)
        chunk = [ln for ln in lines[previous_end: node.end_lineno] if ln.strip()]
        previous_end = node.end_lineno
        out.append("\n".join([">>> " + chunk[0]] + ["... " + ln for ln in chunk[1:]]))
    return "\n".join(out)


def ok_test(tests: ExerciseTests, *, hidden: bool) -> str:
    """The exercise's test file in otter's OK format: public cases, and the hidden ones when asked."""
    cases = [{"code": to_doctest(c), "hidden": False, "locked": False} for c in tests.public]
    if hidden:
        cases += [{"code": to_doctest(c), "hidden": True, "locked": False} for c in tests.hidden]
    # Points are resolved over the cases in the file: give each case its share of the full exercise, so
    # that the student's copy (public only) and the autograder's (all) agree on every case's value.
    share = tests.points / (len(tests.public) + len(tests.hidden))
    for case in cases:
        case["points"] = share
    header = (f"# Exercise {tests.label} ({tests.chapter}), {tests.points} point(s): "
              f"{'public and hidden' if hidden else 'public'} test cases, in otter-grader's OK format.\n"
              f"# Generated by tools/assignment.py from book/exercises/{tests.label}.py; do not edit.\n")
    rendered = []
    for case in cases:
        assert '"""' not in case["code"] and not case["code"].endswith("\\")
        rendered.append(
            "                {\n"
            f'                    "code": r"""\n{case["code"]}\n""",\n'
            f'                    "hidden": {case["hidden"]},\n'
            f'                    "locked": False,\n'
            f'                    "points": {case["points"]!r},\n'
            "                },\n")
    return (header + "OK_FORMAT = True\n\n"
            "test = {\n"
            f'    "name": {tests.label!r},\n'
            '    "suites": [\n'
            "        {\n"
            '            "cases": [\n' + "".join(rendered) +
            "            ],\n"
            '            "scored": True,\n'
            '            "setup": "",\n'
            '            "teardown": "",\n'
            '            "type": "doctest",\n'
            "        }\n"
            "    ],\n"
            "}\n")


def _insert_otter_cells(nb: nbformat.NotebookNode, after: dict[int, str], chapter: str) -> None:
    """Adds the grader cell before the first check and a check cell after each cell index in ``after``."""
    cells = []
    first = min(after) if after else None
    for i, cell in enumerate(nb.cells):
        if i == first:
            cells.append(nbformat.v4.new_markdown_cell(
                "**Checking your answers.** The cell below loads otter-grader's checker; after each ⌨ exercise, "
                "`grader.check(...)` runs that exercise's public tests on your answer (the grader also runs "
                "hidden ones)."))
            cells.append(nbformat.v4.new_code_cell(GRADER_CELL, metadata={"tags": ["otter"]}))
        cells.append(cell)
        if i in after:
            cells.append(nbformat.v4.new_code_cell(CHECK_CELL.format(label=after[i]), metadata={"tags": ["otter"]}))
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["otter"] = {"assignment_name": chapter, "OK_FORMAT": True}


_CODE_CELL = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)\n```", re.S)


def _bound(code: str) -> set[str]:
    """Names a piece of code binds (assignments, loop targets, definitions, imports)."""
    code = "\n".join(ln for ln in code.splitlines() if not ln.startswith((":", "%")))
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def names_read(tests: ExerciseTests) -> list[str]:
    """The names an exercise's cases read that its solution in the chapter defines, in order of first use:
    what a student's answer must define for the checks to see it."""
    source = (se.BOOK / f"{tests.chapter}.md").read_text(encoding="utf-8")
    bound = set().union(*(_bound(c) for c in _CODE_CELL.findall(se.solutions(source)[tests.label])))
    order = []
    for case in tests.public + tests.hidden:
        local = _bound(case)                                   # the case's own helper variables
        for node in ast.walk(ast.parse(case)):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in bound - local:
                if node.id not in order:
                    order.append(node.id)
    return order


def student_notebook(path: Path, site: SiteIndex) -> nbformat.NotebookNode:
    """The chapter's student edition with a check cell after each graded ⌨ exercise's answer cell, whose
    comment names what the checks read."""
    graded = {t.label: t for t in chapter_tests(path.stem) if t.graded}
    nb = se.student_notebook(path, site)
    after = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "answer" in cell.metadata.get("tags", []):
            label = cell.metadata.get("exercise")
            if label in graded:
                after[i] = label
                names = ", ".join(names_read(graded[label]))
                cell.source += (f"\n# The check below reads the names {names} (tests/{label}.py shows how);"
                                f"\n# the grader also runs hidden tests on them.")
    _insert_otter_cells(nb, after, path.stem)
    return nb


def solution_notebook(path: Path) -> nbformat.NotebookNode:
    """The full chapter with a check cell after the last code cell of each graded ⌨ solution."""
    graded = {t.label for t in chapter_tests(path.stem) if t.graded}
    nb = jupytext.read(path)
    nb.metadata.pop("jupytext", None)
    after, current, last_code = {}, None, None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and current is not None:
            last_code = i
        if cell.cell_type != "markdown":
            continue
        for m in MARKER.finditer(cell.source):   # one Markdown cell may close a solution and open the next
            if m["kind"] == "end" and current is not None:
                if current in graded and last_code is not None:
                    after[last_code] = current
                current = None
            elif m["kind"] == "start":
                current, last_code = m["label"], None
    missing = graded - set(after.values())
    if missing:
        raise ValueError(f"{path.name}: no solution code cell found for {sorted(missing)}")
    _insert_otter_cells(nb, after, path.stem)
    return nb


@contextmanager
def _cwd(path: Path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def autograder_zip(chapter: str, target: Path) -> Path:
    """otter's autograder for one chapter (``otter generate``), written to ``target``."""
    from otter.generate import main as otter_generate

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / TESTS_DIR).mkdir()
        for tests in chapter_tests(chapter):
            if tests.graded:
                (work / TESTS_DIR / f"{tests.label}.py").write_text(ok_test(tests, hidden=True), encoding="utf-8")
        (work / "otter_config.json").write_text(json.dumps(
            {"lang": "python", "assignment_name": chapter, "pdf": False, "show_stdout": True}), encoding="utf-8")
        shutil.copy(ROOT / "requirements.txt", work / "requirements.txt")
        shutil.copytree(ROOT / "sce_lib", work / "sce_lib", ignore=shutil.ignore_patterns("__pycache__"))
        with _cwd(work):
            otter_generate(tests_dir=TESTS_DIR, output_path="autograder.zip", config="otter_config.json",
                           requirements="requirements.txt", no_environment=True, files=["sce_lib"],
                           python_version="3.11")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / "autograder.zip", target)
    return target


def main(out: Path, chapters: list[str] | None = None) -> dict[str, list[Path]]:
    """Writes the student, autograder and solution files for the chapters (all by default)."""
    paths = [p for p in se.chapter_paths() if chapters is None or p.stem in chapters]
    site = SiteIndex.read(rn.BUILD / "html", rn.chapter_docs(ROOT))  # the site's numbering (make book first)
    student, autograder, solutions = out / "student", out / "autograder", out / "solutions"
    for folder in (student, autograder, solutions):
        shutil.rmtree(folder, ignore_errors=True)
    (student / TESTS_DIR).mkdir(parents=True)
    solutions.mkdir(parents=True)
    written: dict[str, list[Path]] = {"student": [], "autograder": [], "solutions": []}
    for path in paths:
        for tests in chapter_tests(path.stem):
            if tests.graded:
                target = student / TESTS_DIR / f"{tests.label}.py"
                target.write_text(ok_test(tests, hidden=False), encoding="utf-8")
                written["student"].append(target)
        nbformat.write(student_notebook(path, site), student / f"{path.stem}.ipynb")
        nbformat.write(solution_notebook(path), solutions / f"{path.stem}.ipynb")
        written["student"].append(student / f"{path.stem}.ipynb")
        written["solutions"].append(solutions / f"{path.stem}.ipynb")
        written["autograder"].append(autograder_zip(path.stem, autograder / f"{path.stem}-autograder.zip"))
    with zipfile.ZipFile(out / "student.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for target in sorted(student.rglob("*")):
            if target.is_file():
                zf.write(target, arcname=f"student/{target.relative_to(student)}")
    return written


if __name__ == "__main__":
    args = sys.argv[1:]
    out_dir = Path(args[0]) if args else ROOT / "_build" / "assignment"
    result = main(out_dir, args[1:] or None)
    n_tests = sum(p.suffix == ".py" for p in result["student"])
    print(f"wrote {len(result['solutions'])} student notebooks with {n_tests} public test files "
          f"({out_dir / 'student'}, {out_dir / 'student.zip'}), "
          f"{len(result['autograder'])} autograder zips ({out_dir / 'autograder'}) "
          f"and the solution notebooks ({out_dir / 'solutions'})")
