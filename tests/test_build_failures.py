"""The build fails loudly, naming the file, on the three mistakes a chapter author makes most:
a cell that raises, a cross-reference to nothing, a citation of a key that is not in the bibliography.

Each case is a two-page book built in a temporary folder with the project's own _config.yml and
extensions, so these tests exercise the real configuration.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from _book import JUPYTER_BOOK
from _paths import BOOK, ROOT

pytestmark = pytest.mark.build

NOTEBOOK_HEADER = """---
jupytext:
  formats: ipynb,md:myst
  text_representation: {extension: .md, format_name: myst, format_version: 0.13, jupytext_version: 1.19.6}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
"""


def _mini_book(tmp_path: Path, pages: dict[str, str]) -> Path:
    root = tmp_path / "mini"
    (root / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", root / "_config.yml")
    shutil.copytree(BOOK / "_ext", root / "book" / "_ext")
    shutil.copytree(BOOK / "_static_src", root / "book" / "_static_src")
    shutil.copy(BOOK / "references.bib", root / "book" / "references.bib")
    shutil.copytree(ROOT / "tools", root / "tools", ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    for name in ("pyproject.toml", "README.md", "requirements.txt", "requirements-lab.txt"):  # the student zip
        shutil.copy(ROOT / name, root / name)
    names = list(pages)
    toc = "format: jb-book\nroot: book/" + names[0] + "\nchapters:\n" + "".join(f"  - file: book/{n}\n" for n in names[1:])
    (root / "_toc.yml").write_text(toc, encoding="utf-8")
    for name, text in pages.items():
        (root / "book" / f"{name}.md").write_text(text, encoding="utf-8")
    return root


def _build(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(JUPYTER_BOOK), "build", str(root), "-W", "-n", "--keep-going"],
        cwd=root, capture_output=True, text=True, timeout=600,
    )


def test_failing_cell_fails_the_build_naming_the_chapter(tmp_path) -> None:
    root = _mini_book(tmp_path, {
        "start": "# Start\n\nText.\n",
        "broken_chapter": NOTEBOOK_HEADER + "\n# Broken\n\n```{code-cell} ipython3\n1 / 0\n```\n",
    })
    proc = _build(root)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, "a raising cell must fail the build"
    assert "broken_chapter" in out, "the failure message must name the chapter"
    assert "ZeroDivisionError" in out, "the failure message must show the traceback"


def test_broken_reference_and_missing_citation_fail_the_build(tmp_path) -> None:
    root = _mini_book(tmp_path, {
        "start": "# Start\n\nText.\n",
        "bad_refs": "# Bad\n\nSee {ref}`no-such-label` and {prf:ref}`no-such-theorem`.\n",
        "bad_cite": "# Bad cite\n\nAs shown by {cite}`no_such_key_2099`.\n",
    })
    proc = _build(root)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, "a broken reference or citation must fail the strict build"
    assert "bad_refs.md" in out and "no-such-label" in out, out[-3000:]
    assert "bad_cite.md" in out and "no_such_key_2099" in out, out[-3000:]
