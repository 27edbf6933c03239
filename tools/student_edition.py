"""The student edition: every chapter as a reader notebook without solutions, in a zip that runs alone.

    python tools/student_edition.py OUT_DIR        (make student: OUT_DIR = _build/student; needs make book)

writes ``OUT_DIR/<chapter>.ipynb`` for every chapter of ``_toc.yml`` and ``OUT_DIR/student-edition.zip``:

    student-edition/
      README.md                       what this is, and the two commands that set it up
      requirements.txt                the book's pinned set (the one the book is built and tested with)
      requirements-lab.txt            JupyterLab, pinned
      sce_lib-<version>-py3-none-any.whl   the book's library, built from this checkout
      <chapter>.ipynb ...

A student notebook is the chapter's reader notebook (``tools/reader_notebooks.py``: numbered as on
the site, references and glued numbers filled in, the macros defined) made from the chapter's source
with every solution (its text and its code cells, from ``{solution-start}`` to ``{solution-end}``)
replaced by an answer cell: a Markdown cell for a ✍ exercise, a code cell for a ⌨ one, both tagged
``answer``. It has no outputs: a student runs it.

In every chapter the exercises come after the last code cell of the main text, so the code cells of
a student notebook are exactly the first code cells of the chapter, in order, plus the comment-only
answer cells: the strict build's execution of the chapter proves that the student notebook runs top
to bottom (tests/test_student.py checks this property, and runs a chapter from the unpacked zip).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reader_notebooks as rn  # noqa: E402
from site_index import SiteIndex  # noqa: E402

ROOT = rn.ROOT
BOOK = ROOT / "book"

SOLUTION = re.compile(r"````\{solution-start\} (?P<label>\S+)\n.*?````\{solution-end\}\n````\n?", re.S)
EXERCISE = re.compile(r"````\{exercise-start\}[ \t]*(?P<head>[^\n]*)\n:label: (?P<label>\S+)\n````\n"
                      r"(?P<text>.*?)````\{exercise-end\}\n````\n?", re.S)
ANSWER_CODE = "# Your answer to {exercise}. (This cell is yours; the book's checks do not run it.)"
ANSWER_TEXT = "*Your answer to {{numref}}`{label}` (double-click this cell to write it):*"
WHEEL_README = """# Softmax Cross-Entropy, Executed: student edition

Every chapter of the book as a Jupyter notebook, with the exercises and without their solutions. After
each exercise comes a cell for your answer: a Markdown cell for a ✍ (paper) exercise, a code cell
for a ⌨ (code) one. The notebooks import the book's library, `sce_lib`, which comes with them as a
wheel. You need Python 3.11 (3.11.5 or newer). In this folder, set up and open the notebooks with:

```bash
python3.11 -m venv .venv && .venv/bin/pip install -r requirements.txt -r requirements-lab.txt {wheel}
.venv/bin/jupyter lab
```

(On Windows: `py -3.11 -m venv .venv`, then `.venv\\Scripts\\pip ...` and `.venv\\Scripts\\jupyter lab`.)
Run a notebook from its first cell: each chapter runs top to bottom in about a minute on a laptop.
The numbers, theorems, equations and exercises carry the numbers of the book's website. The
website shows the solutions (folded): your instructor may ask you not to look.
"""


@dataclass(frozen=True)
class Exercise:
    """One exercise of a chapter: ``mark`` is ✍ or ⌨, ``stars`` its difficulty (1 to 3)."""

    label: str
    mark: str
    stars: int
    title: str
    text: str


def chapter_paths() -> list[Path]:
    """The numbered chapters, in the order of ``_toc.yml``."""
    return rn.chapter_paths(ROOT)


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
    """The chapter's MyST source with every solution replaced by an answer cell."""
    marks = {e.label: e.mark for e in exercises(source)}

    def answer(m: re.Match) -> str:
        label = m["label"]
        if marks.get(label) == "⌨":
            return (f"```{{code-cell}} ipython3\n:tags: [answer]\n\n"
                    f"{ANSWER_CODE.format(exercise='{{' + label + '}}')}\n```\n\n")
        return f'+++ {{"tags": ["answer"]}}\n\n{ANSWER_TEXT.format(label=label)}\n\n+++\n\n'

    return SOLUTION.sub(answer, source)


def student_notebook(path: Path, site: SiteIndex, build: Path = rn.BUILD) -> nbformat.NotebookNode:
    """The student edition of one chapter: its reader notebook without solutions and outputs."""
    nb = rn.reader_notebook(path, site, outputs=False, build=build, root=ROOT,
                            source=student_source(path.read_text(encoding="utf-8")))
    for cell in nb.cells:
        if cell.cell_type == "code" and "answer" in cell.metadata.get("tags", []):
            label = re.search(r"\{\{(\S+?)\}\}", cell.source)
            if label:  # the exercise's label, for tools (the assignment's check cells), not for the reader
                cell.metadata["exercise"] = label[1]
            cell.source = re.sub(r"\{\{(\S+?)\}\}", lambda m: site.captions[m[1]], cell.source)
    return nb


def sce_lib_wheel(out: Path) -> Path:
    """Build ``sce_lib``'s wheel into ``out`` from a copy of the package (the checkout stays clean)."""
    with tempfile.TemporaryDirectory(prefix="sce-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copyfile(ROOT / name, src / name)
        shutil.copytree(ROOT / "sce_lib", src / "sce_lib", ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                        "--wheel-dir", str(out), str(src)], check=True, capture_output=True, text=True)
    (wheel,) = out.glob("sce_lib-*.whl")
    return wheel


def main(out: Path, html: Path = rn.BUILD / "html", build: Path = rn.BUILD) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    site = SiteIndex.read(html, rn.chapter_docs(ROOT))
    written = []
    for path in chapter_paths():
        target = out / f"{path.stem}.ipynb"
        nbformat.write(student_notebook(path, site, build), target)
        written.append(target)
    with tempfile.TemporaryDirectory(prefix="sce-student-") as tmp:
        wheel = sce_lib_wheel(Path(tmp))
        with zipfile.ZipFile(out / "student-edition.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for target in written:
                zf.write(target, arcname=f"student-edition/{target.name}")
            zf.writestr("student-edition/README.md", WHEEL_README.format(wheel=wheel.name))
            for name in ("requirements.txt", "requirements-lab.txt"):
                zf.write(ROOT / name, arcname=f"student-edition/{name}")
            zf.write(wheel, arcname=f"student-edition/{wheel.name}")
    return written


if __name__ == "__main__":
    paths = main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "student")
    print(f"wrote {len(paths)} student notebooks and student-edition.zip to {paths[0].parent}")
