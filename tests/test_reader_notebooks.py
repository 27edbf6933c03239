"""Reader notebooks (tools/reader_notebooks.py) and student notebooks read like the site in plain Jupyter.

Made from the last build (`_build/html`, `_build/jupyter_execute`), as `make reader`, `make student`
and the site's downloads make them. Checked as text (no MyST left; every number, caption, equation
tag and glued value is the site's) and as a reader sees them: every notebook rendered as Jupyter
renders it (tests/_notebook_html.py) and opened in headless Chromium, with no raw MyST in the
visible text, no untypeset `$` and no MathJax error (undefined macros included). The same check run
on a chapter's bare MyST notebook finds problems, so it can fail.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

from _notebook_html import RAW_MYST, TARGET_LINE, check_notebooks, notebook_page
from _paths import BUILD, HTML, ROOT, wait_for_build

sys.path.insert(0, str(ROOT / "tools"))
import reader_notebooks as rn  # noqa: E402
import student_edition as se  # noqa: E402
from myst_markdown import roles_in  # noqa: E402
from site_index import SiteIndex  # noqa: E402

pytestmark = pytest.mark.build
CHAPTERS = rn.chapter_paths()


def _built_or_skip() -> None:
    wait_for_build()
    if not (HTML / "book").is_dir() or not (BUILD / "jupyter_execute").is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("no built book in _build: the reader notebooks are made from it (make book)")
        pytest.skip("SKIPPED: reader notebooks are made from the built book; run `make book` first")


@pytest.fixture(scope="module")
def site() -> SiteIndex:
    _built_or_skip()
    return SiteIndex.read(HTML, rn.chapter_docs())


@pytest.fixture(scope="module")
def editions(site, tmp_path_factory) -> dict[str, dict[str, nbformat.NotebookNode]]:
    """{"reader": {stem: notebook}, "student": {stem: notebook}}."""
    reader = {p.stem: rn.reader_notebook(p, site) for p in CHAPTERS}
    student = {p.stem: se.student_notebook(p, site) for p in CHAPTERS}
    return {"reader": reader, "student": student}


def _markdown(nb: nbformat.NotebookNode) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_chapters_come_from_the_toc() -> None:
    assert [p.stem for p in CHAPTERS] and all(p.is_file() for p in CHAPTERS)
    assert all(p.stem[:2].isdigit() or p.stem.startswith("appendix") for p in CHAPTERS), \
        "a numbered part of _toc.yml holds a non-chapter"


@pytest.mark.parametrize("edition", ["reader", "student"])
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_myst_left(editions, edition: str, path: Path) -> None:
    text = _markdown(editions[edition][path.stem])
    left = [tok for tok in RAW_MYST if tok in text] + [m.group(0) for m in TARGET_LINE.finditer(text)]
    assert left == [], f"{edition} {path.stem}: MyST left in the Markdown: {left}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_numbers_and_values_are_the_sites(site, editions, path: Path) -> None:
    """Every box carries its site caption, every labelled equation its site number as a tag, every
    heading its site number, every glued value its formatted value; solutions are marked."""
    source = path.read_text(encoding="utf-8")
    nb = editions["reader"][path.stem]
    text = _markdown(nb)
    doc = path.relative_to(ROOT).with_suffix("").as_posix()
    labels = re.findall(r"^````\{(?:prf:(?!proof)\w+|exercise-start)\}.*\n:label: (\S+)", source, flags=re.M)
    assert labels, "no numbered box found in the source"
    missing = [lb for lb in labels if f"**{site.captions[lb]}**" not in text]
    assert missing == [], f"boxes without the site's caption: {missing}"
    equations = re.findall(r"^```\{math\}\n:label: (\S+)", source, flags=re.M)
    equations += re.findall(r"^\$\$ \((\S+)\)\s*$", source, flags=re.M)
    untagged = [lb for lb in equations if f"\\tag{{{site.equation(lb)}}}" not in text]
    assert untagged == [], f"equations without the site's number: {untagged}"
    numbers = [n for n, _ in site.headings[doc] if n]
    unnumbered = [n for n in numbers if not re.search(rf"^#+ {re.escape(n)} ", text, flags=re.M)]
    assert numbers and unnumbered == [], f"headings without the site's number: {unnumbered}"
    exercises = se.exercises(source)
    assert all(f"Solution to {site.captions[e.label]}" in text for e in exercises)
    glued = rn.executed_notebook(doc)[1]
    values = {m for cell in jupytext.read(path).cells if cell.cell_type == "markdown"
              for role, m in roles_in(cell.source) if role.startswith("glue")}
    for content in values:  # each glued number, as the site formats it, is in the text
        key, _, spec = content.rpartition(":") if ":" in content else (content, "", "")
        from myst_nb.core.variables import format_plain_text

        assert format_plain_text(glued[key]["text/plain"], spec) in text, content


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_reader_keeps_the_builds_outputs_and_student_has_none(editions, path: Path) -> None:
    doc = path.relative_to(ROOT).with_suffix("").as_posix()
    built = [c for c in rn.executed_notebook(doc)[0].cells if c.cell_type == "code"]
    reader = [c for c in editions["reader"][path.stem].cells if c.cell_type == "code"]
    assert [c.outputs for c in reader] == [c.outputs for c in built]
    assert [c.source for c in reader] == [c.source for c in built]
    assert all(not c.outputs for c in editions["student"][path.stem].cells if c.cell_type == "code")
    first = editions["reader"][path.stem].cells[0].source
    assert all(f"\\def\\{name}" in first and f"'\\{name}'" in first for name in rn.book_macros())


def test_student_edition_has_an_answer_cell_after_every_exercise(site, editions) -> None:
    for path in CHAPTERS:
        cells = editions["student"][path.stem].cells
        for ex in se.exercises(path.read_text(encoding="utf-8")):
            caption = site.captions[ex.label]
            at = next(i for i, c in enumerate(cells) if f"**{caption}**" in c.source)
            answer = next(c for c in cells[at + 1:] if "answer" in c.metadata.get("tags", []))
            assert answer.cell_type == ("code" if ex.mark == "⌨" else "markdown"), (path.stem, ex.label)
            assert caption in answer.source, (path.stem, ex.label, answer.source)
            assert f"Solution to {caption}" not in _markdown(editions["student"][path.stem])


@pytest.mark.browser
def test_notebooks_render_in_chromium_without_myst_or_mathjax_errors(editions, tmp_path) -> None:
    from _browser import chromium_path

    chromium = chromium_path()
    if chromium is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but Debian's chromium is not installed")
        pytest.skip("SKIPPED THE BROWSER TEST: chromium is not installed (apt-get install chromium)")
    (tmp_path / "mathjax").symlink_to(HTML / "_static" / "mathjax", target_is_directory=True)
    pages = {}
    for edition, notebooks in editions.items():
        for stem, nb in notebooks.items():
            page = tmp_path / f"{edition}-{stem}.html"
            page.write_text(notebook_page(nb, "mathjax/tex-mml-chtml.js"), encoding="utf-8")
            pages[f"{edition} {stem}"] = page
    bare = tmp_path / "bare.html"  # the check must be able to fail: a chapter's MyST as plain Jupyter shows it
    bare.write_text(notebook_page(jupytext.read(CHAPTERS[0]), "mathjax/tex-mml-chtml.js"), encoding="utf-8")
    pages["bare"] = bare
    found = check_notebooks(pages, tmp_path, chromium)
    assert any("MathJax error" in p for p in found.pop("bare")), "the check did not see the bare chapter's errors"
    problems = [f"{name}: {p}" for name, ps in found.items() for p in ps]
    assert problems == [], "\n".join(problems)


_NUMBERED_BOX = re.compile(r"^#{1,6} .*\b(?:Theorem|Lemma|Proposition|Corollary|Definition|Assumption|Algorithm|"
                           r"Exercise)s? \d+(?![.\d])", re.M)


def test_section_titles_do_not_number_boxes() -> None:
    """A heading "6.7 Theorem 4" holding the box "Theorem 6.1" gives one result two numbers (on the site,
    in the PDF, in the reader notebooks): a section title names its subject, the box carries the number."""
    found = [f"{p.name}: {m.group(0)}" for p in CHAPTERS for m in _NUMBERED_BOX.finditer(p.read_text(encoding="utf-8"))]
    assert found == [], "section titles that number a box differently from the site:\n" + "\n".join(found)


@pytest.mark.browser
@pytest.mark.slow
def test_a_reader_notebook_in_jupyterlab(site, tmp_path) -> None:
    """The reader notebook of the last chapter, opened in JupyterLab as `make lab` installs it (with
    jupyterlab-myst): its Markdown renders with no math error and no MyST left. Skipped where JupyterLab
    is not installed (`make lab` installs it; `make test` does not need it)."""
    import socket
    import subprocess
    import time
    import urllib.request

    from _browser import chromium_path
    from local_site import CHROMIUM_FLAGS

    lab = Path(sys.executable).with_name("jupyter-lab")
    chromium = chromium_path()
    if not lab.is_file() or chromium is None:
        pytest.skip("SKIPPED: needs JupyterLab in the venv (make lab installs it) and Debian's chromium")
    path = CHAPTERS[-1]
    nbformat.write(rn.reader_notebook(path, site), tmp_path / f"{path.stem}.ipynb")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(lab), "--no-browser", f"--port={port}", "--ip=127.0.0.1", "--ServerApp.token=",
                               "--ServerApp.password=", "--allow-root", f"--notebook-dir={tmp_path}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2)
                break
            except OSError:
                time.sleep(2)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1200, "height": 1600})
            page.goto(f"http://127.0.0.1:{port}/lab/tree/{path.stem}.ipynb", timeout=180_000)
            page.wait_for_selector(".jp-MarkdownCell", timeout=180_000)
            page.wait_for_function("() => document.querySelectorAll('mjx-container, .katex').length > 20",
                                   timeout=180_000)
            page.wait_for_timeout(5000)
            errors = page.locator("mjx-merror, .katex-error").count()
            text = page.evaluate("() => document.querySelector('.jp-Notebook').innerText")
            browser.close()
    finally:
        server.terminate()
        server.wait(30)
    assert errors == 0, f"{errors} math errors in JupyterLab"
    left = [tok for tok in RAW_MYST if tok in text]
    assert left == [], f"MyST left in JupyterLab's rendering: {left}"
