"""The MyST sources are the single source of truth: no notebook is tracked, no source holds outputs,
every chapter is paired with an .ipynb by jupytext, and every chapter is in the table of contents."""

from __future__ import annotations

import shutil
import subprocess

import jupytext
import pytest
import yaml

from _paths import BOOK, ROOT, book_sources, chapters


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
