"""The MyST sources are the single source of truth: no notebook is tracked, no source holds outputs,
every chapter is paired with an .ipynb by jupytext, and every chapter is in the table of contents."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest
import yaml

from _paths import BOOK, ROOT, book_sources, chapters

sys.path.insert(0, str(ROOT / "tools"))
import student_edition  # noqa: E402  (the exercise parser of make student and the instructor guide)


def _tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot list tracked files")
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def test_no_tracked_notebooks() -> None:
    tracked = [f for f in _tracked_files() if f.endswith(".ipynb")]
    assert tracked == [], f"generated notebooks must not be committed (make notebooks writes them): {tracked}"


def test_there_are_chapters() -> None:
    assert len(chapters()) >= 2, f"expected the status page and at least one chapter, found {chapters()}"


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.name)
def test_chapter_is_a_paired_myst_notebook_without_outputs(path) -> None:
    nb = jupytext.read(path)
    meta = nb.metadata.get("jupytext", {})
    assert meta.get("formats") == "ipynb,md:myst", f"{path.name}: jupytext header must pair it as 'ipynb,md:myst'"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{path.name}: kernelspec must be python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name}: a chapter with no code cell executes nothing"
    with_outputs = [c.source[:60] for c in code if c.get("outputs")]
    assert with_outputs == [], f"{path.name}: committed sources must hold no outputs: {with_outputs}"
    text = path.read_text(encoding="utf-8")
    for marker in ('"output_type"', "execution_count"):
        assert marker not in text, f"{path.name}: looks like pasted notebook output ({marker})"


def _toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("file", "root"):
                files.append(value)
            else:
                files.extend(_toc_files(value))
    elif isinstance(node, list):
        for item in node:
            files.extend(_toc_files(item))
    return files


def test_every_page_is_in_the_toc() -> None:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    listed = set(_toc_files(toc))
    pages = {str(p.relative_to(ROOT).with_suffix("")) for p in book_sources()}
    missing = sorted(pages - listed)
    assert missing == [], f"pages not in _toc.yml (they would not be built): {missing}"
    dangling = sorted(f for f in listed if not (ROOT / f"{f}.md").exists())
    assert dangling == [], f"_toc.yml lists files that do not exist: {dangling}"


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.name)
def test_chapter_is_in_jupytext_canonical_form(path) -> None:
    """`make notebooks` (jupytext --sync) must not rewrite a committed source."""
    text = path.read_text(encoding="utf-8")
    assert jupytext.writes(jupytext.reads(text, fmt="md:myst"), fmt="md:myst") == text, (
        f"{path.name}: not in jupytext's canonical form; run `make notebooks` and commit the .md"
    )


_GLUE_DEF = re.compile(r"""\bglue\(\s*(f?)(["'])([^"']+)\2""")
_GLUE_USE = re.compile(r"\{glue(?::\w+)?\}`([^`:]+)(?::[^`]*)?`")


def _glue_names(path: Path) -> tuple[set[str], list[str], set[str]]:
    """(names glued by code cells, prefixes of f-string names, names used in the text) of a source."""
    nb = jupytext.read(path)
    defined, prefixes, used = set(), [], set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            for is_f, _, name in _GLUE_DEF.findall(cell.source):
                if is_f and "{" in name:
                    prefixes.append(name.split("{", 1)[0])
                else:
                    defined.add(name)
        else:
            used.update(_GLUE_USE.findall(cell.source))
    return defined, prefixes, used


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.name)
def test_every_glued_number_is_used_and_every_used_one_is_glued(path) -> None:
    """Numbers in the prose come from the code (myst-nb glue): a name used in the text and never glued
    would fail the build; a name glued and never used is a computed number the reader never sees,
    usually a sign that the prose still types it by hand."""
    defined, prefixes, used = _glue_names(path)
    undefined = sorted(n for n in used - defined if not any(n.startswith(p) for p in prefixes))
    assert undefined == [], f"{path.name}: the text uses glue names that no cell defines: {undefined}"
    unused = sorted(defined - used)
    assert unused == [], f"{path.name}: cells glue names that the text never uses: {unused}"
    unused_prefixes = sorted(p for p in prefixes if not any(n.startswith(p) for n in used))
    assert unused_prefixes == [], f"{path.name}: f-string glue names never used in the text: {unused_prefixes}"


# What makes an exercise a coding one: it names code (a `literal` that is not a {role}`target`) or asks
# for a computation that is done by running code.
_ROLE = re.compile(r"\{[\w:-]+\}`[^`]*`")  # {ref}`x`, {prf:ref}`x`, {cite}`x`: a reference, not code
_CODE_CUE = re.compile(r"`[^`]+`|numerically|Monte Carlo|autograd|SymPy|\b[Cc]heck (?:it|your|with|against)"
                       r"|\b[Rr]un\b|\b[Pp]lot\b|\b[Tt]rain\b|\b[Vv]erify\b|\b[Mm]easure\b|\b[Ee]stimate\b")


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.name)
def test_exercise_marks_follow_the_rule(path) -> None:
    """Every exercise carries one mark and a difficulty of one to three stars (intro.md states the rules):
    ⌨ when it asks the reader to compute something by running code (its solution then has a code cell),
    ✍ when it is answered on paper (a proof or a derivation, which the solution may still check in code).
    The exercises are read by the parser that `make student` and the instructor guide use."""
    text = path.read_text(encoding="utf-8")
    exercises, solutions = student_edition.exercises(text), student_edition.solutions(text)
    assert len(exercises) == text.count("{exercise-start}"), f"{path.name}: an exercise the parser cannot read"
    for ex in exercises:
        assert ex.mark in ("✍", "⌨"), f"{path.name}, {ex.label}: the title must start with ✍ or ⌨"
        assert 1 <= ex.stars <= 3 and ex.title, f"{path.name}, {ex.label}: the mark must be followed by 1-3 ★"
        cue = _CODE_CUE.search(_ROLE.sub("", ex.text))
        if ex.mark == "⌨":
            assert cue, f"{path.name}, {ex.label}: marked ⌨ but asks for no computation"
            assert "```{code-cell}" in solutions.get(ex.label, ""), f"{path.name}, {ex.label}: ⌨ without code in its solution"
        else:
            assert cue is None, f"{path.name}, {ex.label}: marked ✍ but asks for code ({cue.group(0)!r}): mark it ⌨"


def test_every_reference_is_cited_and_every_citation_resolves() -> None:
    """The bibliography page lists all of book/references.bib (``:all:``): so every entry must be cited
    somewhere, and every key a page cites must be an entry (sphinxcontrib-bibtex only warns)."""
    keys = set(re.findall(r"^@\w+\{([^,\s]+),", (BOOK / "references.bib").read_text(encoding="utf-8"), re.M))
    cited: set[str] = set()
    for page in book_sources():
        for group in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", page.read_text(encoding="utf-8")):
            cited.update(k.strip() for k in group.split(","))
    assert sorted(cited - keys) == [], "cited but not in references.bib"
    assert sorted(keys - cited) == [], "in references.bib but never cited"
    required = {"das2019separability", "boyd2004convex", "soudry2018implicit", "nocedal2006numerical",
                "guo2017calibration", "papyan2020prevalence", "greydanus2020scaling"}
    assert required <= cited and cited & {"bishop2006pattern", "murphy2012machine"}
