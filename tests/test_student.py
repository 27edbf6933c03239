"""The student edition (`make student`, tools/student_edition.py): no solution leaks, every exercise
is still there with the site's number and an answer cell, every student notebook runs top to bottom,
and the zip, unpacked alone into an empty folder, installs with its README's command and runs a chapter."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jupytext
import nbformat
import pytest

from _paths import HTML, ROOT, wait_for_build

sys.path.insert(0, str(ROOT / "tools"))
import student_edition as se  # noqa: E402
from site_index import SiteIndex  # noqa: E402

CHAPTERS = se.chapter_paths()
pytestmark = pytest.mark.build


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    wait_for_build()
    if not (HTML / "book").is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("no built book: the student edition is made from it (make book)")
        pytest.skip("SKIPPED: the student edition is made from the built book; run `make book` first")
    out = tmp_path_factory.mktemp("student")
    proc = subprocess.run(["make", "-s", "student", f"STUDENT_DIR={out}"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


@pytest.fixture(scope="module")
def captions() -> dict[str, str]:
    wait_for_build()
    return SiteIndex.read(HTML, [p.relative_to(ROOT).with_suffix("").as_posix() for p in CHAPTERS]).captions


def _text(nb: nbformat.NotebookNode) -> str:
    return "\n".join(cell.source for cell in nb.cells)


def test_one_notebook_per_chapter_and_a_zip_that_runs_alone(edition: Path) -> None:
    names = sorted(p.name for p in edition.glob("*.ipynb"))
    assert names == sorted(f"{p.stem}.ipynb" for p in CHAPTERS) and len(names) >= 8
    with zipfile.ZipFile(edition / "student-edition.zip") as zf:
        listed = sorted(Path(n).name for n in zf.namelist())
        assert zf.testzip() is None
    wheels = [n for n in listed if re.fullmatch(r"sce_lib-[\w.]+-py3-none-any\.whl", n)]
    assert sorted(set(listed) - set(wheels)) == sorted([*names, "README.md", "requirements.txt",
                                                        "requirements-lab.txt"]) and len(wheels) == 1


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_solution_leaks_and_every_exercise_is_kept(edition: Path, captions, path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    student = _text(nbformat.read(edition / f"{path.stem}.ipynb", as_version=4))
    solutions = se.solutions(source)
    exercises = se.exercises(source)
    assert len(solutions) == len(exercises) >= (1 if path.stem.startswith("appendix") else 2) and {e.label for e in exercises} == set(solutions)
    outside = se.SOLUTION.sub("", source)  # the full edition without its solutions
    for label, solution in solutions.items():
        # Lines that only the solution has: a leak of any of them is a leak of the solution.
        own = [ln.strip() for ln in solution.splitlines()[2:-2]
               if len(ln.strip()) >= 20 and ln.strip() not in outside]
        assert own, f"{label}: the solution has no line of its own to look for"
        leaked = [ln for ln in own if ln in student]
        assert leaked == [], f"{path.name}, {label}: solution text in the student edition: {leaked[:3]}"
    assert "{solution" not in student and "Solution to" not in student
    for ex in exercises:
        # numbered as on the site, with the mark, the stars and the title
        assert f"**{captions[ex.label]}** ({ex.mark} {'★' * ex.stars} " in student, ex.label
        plain = [ln.strip() for ln in ex.text.splitlines() if ln.strip() and not re.search(r"[{}`]|\$\$", ln)]
        missing = [ln for ln in plain if ln not in student]
        assert missing == [], f"{path.name}, {ex.label}: exercise text lost: {missing[:3]}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_student_code_is_a_prefix_of_the_chapter(edition: Path, path: Path) -> None:
    """The code cells of a student notebook are the chapter's first code cells, unchanged and in order,
    plus comment-only answer cells for the ⌨ exercises: since the strict build executes the chapter,
    the student notebook executes top to bottom."""
    full = [c.source for c in jupytext.read(path).cells if c.cell_type == "code"]
    cells = [c for c in nbformat.read(edition / f"{path.stem}.ipynb", as_version=4).cells if c.cell_type == "code"]
    theirs = [c for c in cells if "answer" in c.metadata.get("tags", [])]
    kept = [c.source for c in cells if c not in theirs]
    assert kept == full[: len(kept)] and len(kept) >= 1
    assert all(line.startswith("#") for c in theirs for line in c.source.splitlines())
    n_keyboard = sum(e.mark == "⌨" for e in se.exercises(path.read_text(encoding="utf-8")))
    assert len(theirs) == n_keyboard


@pytest.mark.slow
def test_the_zip_installs_from_its_readme_and_runs_a_chapter(edition: Path, tmp_path: Path) -> None:
    """Unpacked alone into an empty folder (no checkout, no sce_lib on the path), the README's first
    command makes a fresh venv and installs; that venv runs the first chapter from its notebook."""
    with zipfile.ZipFile(edition / "student-edition.zip") as zf:
        zf.extractall(tmp_path)
    folder = tmp_path / "student-edition"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    commands = re.search(r"```bash\n(.*?)```", readme, flags=re.S)[1].strip().splitlines()
    assert len(commands) == 2 and commands[1].endswith("jupyter lab")
    install = commands[0]
    if shutil.which("python3.11") is None:  # the README names the usual interpreter; use this one
        install = install.replace("python3.11", sys.executable, 1)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # pip byte-compiles every module it installs (about a tenth of the install's time): what is tested is
    # that the command installs and the notebook runs, and Python compiles what it imports anyway.
    proc = subprocess.run(["bash", "-c", install], cwd=folder, capture_output=True, text=True,
                          env={**env, "PIP_NO_COMPILE": "1"}, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    python = folder / ".venv" / "bin" / "python"
    assert (folder / ".venv" / "bin" / "jupyter-lab").is_file(), "the README's command did not install JupyterLab"
    run = ("import nbformat, sce_lib, sys; from nbclient import NotebookClient\n"
           "assert 'site-packages' in sce_lib.__file__, sce_lib.__file__\n"
           f"nb = nbformat.read({CHAPTERS[0].stem + '.ipynb'!r}, as_version=4)\n"
           "NotebookClient(nb, timeout=600, kernel_name='python3').execute()\n"
           "errors = [o for c in nb.cells for o in c.get('outputs', []) if o.get('output_type') == 'error']\n"
           "print('cells', len(nb.cells), 'errors', len(errors))\n"
           "sys.exit(1 if errors else 0)\n")
    proc = subprocess.run([str(python), "-c", run], cwd=folder, capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "errors 0" in proc.stdout
