"""The student edition: every chapter as a Jupyter notebook with the solutions taken out.

    python tools/student_edition.py OUT_DIR        (make student: OUT_DIR = _build/student)

writes ``OUT_DIR/<chapter>.ipynb`` for every chapter and ``OUT_DIR/student-edition.zip`` with all of
them. What a student notebook keeps and loses:

* every solution (its text and its code cells, from ``{solution-start}`` to ``{solution-end}``) is
  replaced by one line saying that the solution is in the full edition;
* the exercises stay, as plain Markdown (``**Exercise ⌨ ★★ ...**``) that Jupyter renders without the
  book's Sphinx extensions; after every ⌨ exercise comes one empty code cell, tagged ``exercise``,
  for the student's answer;
* everything else (text, theorems, the chapter's code) is unchanged.

In every chapter the exercises come after the last code cell of the main text, so the code cells of
a student notebook are exactly the first code cells of the chapter, in order, plus comment-only
exercise cells: the strict build's execution of the chapter proves that the student notebook runs
top to bottom (tests/test_student.py checks this property and runs one student notebook).
"""

from __future__ import annotations

import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

SOLUTION = re.compile(r"````\{solution-start\} (?P<label>\S+)\n.*?````\{solution-end\}\n````\n?", re.S)
EXERCISE = re.compile(r"````\{exercise-start\}[ \t]*(?P<head>[^\n]*)\n:label: (?P<label>\S+)\n````\n"
                      r"(?P<text>.*?)````\{exercise-end\}\n````\n?", re.S)
EXERCISE_CELL = "# Exercise {label}: your code here. (This cell is left for you; the book's checks do not run it.)"


@dataclass(frozen=True)
class Exercise:
    """One exercise of a chapter: ``mark`` is ✍ or ⌨, ``stars`` its difficulty (1 to 3)."""

    label: str
    mark: str
    stars: int
    title: str
    text: str


def chapter_paths() -> list[Path]:
    """The numbered chapters, in order (book/0*.md)."""
    return sorted(BOOK.glob("0*.md"))


def exercises(source: str) -> list[Exercise]:
    """The exercises of a chapter's MyST source, in order."""
    found = []
    for m in EXERCISE.finditer(source):
        head = m["head"].strip()
        mark, rest = head[:1], head[1:].strip()
        stars = len(rest) - len(rest.lstrip("★"))
        found.append(Exercise(m["label"], mark, stars, rest.lstrip("★").strip(), m["text"].strip()))
    return found


def solutions(source: str) -> dict[str, str]:
    """{label: the full text of its solution block (Markdown and code)} of a chapter's MyST source."""
    return {m["label"]: m.group(0) for m in SOLUTION.finditer(source)}


def student_source(source: str) -> str:
    """The chapter's MyST source with the solutions removed and the exercises made plain Markdown."""
    marks = {e.label: e.mark for e in exercises(source)}

    def replace_solution(m: re.Match) -> str:
        label = m["label"]
        text = "*The solution is in the full edition of the book.*\n\n"
        if marks.get(label) == "⌨":
            text += f"```{{code-cell}} ipython3\n:tags: [exercise]\n\n{EXERCISE_CELL.format(label=label)}\n```\n\n"
        return text

    def replace_exercise(m: re.Match) -> str:
        return f"**Exercise {m['head'].strip()}** ({m['label']})\n\n{m['text'].strip()}\n\n"

    return EXERCISE.sub(replace_exercise, SOLUTION.sub(replace_solution, source))


def student_notebook(path: Path) -> nbformat.NotebookNode:
    """The student edition of one chapter, as a notebook without outputs."""
    nb = jupytext.reads(student_source(path.read_text(encoding="utf-8")), fmt="md:myst")
    nb.metadata.pop("jupytext", None)
    return nb


def main(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in chapter_paths():
        target = out / f"{path.stem}.ipynb"
        nbformat.write(student_notebook(path), target)
        written.append(target)
    with zipfile.ZipFile(out / "student-edition.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for target in written:
            zf.write(target, arcname=f"student-edition/{target.name}")
    return written


if __name__ == "__main__":
    paths = main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "student")
    print(f"wrote {len(paths)} student notebooks and student-edition.zip to {paths[0].parent}")
