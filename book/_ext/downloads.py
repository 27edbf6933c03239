"""Downloads on every chapter page: the MyST source and the chapter as a notebook, both written at
build time into ``_downloads/chapters/`` of the site (nothing generated is committed), and the
student edition (``tools/student_edition.py``) as ``_downloads/student-edition.zip``.

Each chapter page gets a line under its title, "Download this chapter: source (.md) · notebook (.ipynb)".
The notebook is the chapter's *reader notebook* (``tools/reader_notebooks.py``): it reads like this
site in any Jupyter (numbered theorems and equations, references and glued numbers filled in, the
book's macros defined) and keeps the build's outputs, so its figures show without running anything.
It is made when the build has finished, from the pages just written and the executed notebooks.
Reading every page to number the references takes most of a rebuild's time (about 15 s on 2 cores),
so the files are made again only when something they are made from changed: a SHA-256 of those
inputs (the sources of the site's pages, the executed notebooks, tools/, sce_lib/ and the pinned
requirements) is kept in _build/, and a rebuild with the same inputs and every file present keeps
them as they are.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import sys
from pathlib import Path

from sphinx.application import Sphinx

TARGET = "_downloads/chapters"


def _is_chapter(docname: str) -> bool:
    return docname.startswith("book/0")


def _add_links(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if doctree is None or not _is_chapter(pagename) or "body" not in context:
        return
    stem = pagename.split("/")[-1]
    prefix = "../" * pagename.count("/")
    links = (f'<p class="sce-downloads">Download this chapter: '
             f'<a class="sce-download" href="{prefix}{TARGET}/{stem}.md" download>source (.md)</a> · '
             f'<a class="sce-download" href="{prefix}{TARGET}/{stem}.ipynb" download>notebook (.ipynb)</a></p>')
    body = context["body"]
    at = body.find("</h1>")  # under the chapter's title
    context["body"] = body[: at + 5] + links + body[at + 5:] if at >= 0 else links + body


def _tool(srcdir: Path, name: str):
    tools = str(srcdir / "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)  # the tools import each other by name
    spec = importlib.util.spec_from_file_location(name, srcdir / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def _inputs_digest(build: Path, srcdir: Path) -> str:
    """SHA-256 of every file the downloads are made from, in a fixed order: what the site's pages are
    built from (the configuration, the table of contents, everything under book/ but generated
    notebooks, the chapters' executed notebooks) and what the student edition packs (tools/, sce_lib/, the pinned
    requirements). Not the pages themselves: Sphinx rewrites some on every build (the search page, the
    index, the pages with the execution table) although nothing the downloads read on them changed, and
    the status page is executed again after a cold build (it shows that build's wall time)."""
    files = [srcdir / "_config.yml", srcdir / "_toc.yml", srcdir / "requirements.txt", srcdir / "pyproject.toml",
             *(f for f in (srcdir / "book").rglob("*") if f.suffix != ".ipynb" and "__pycache__" not in f.parts),
             *(f for f in (build / "jupyter_execute").rglob("*.ipynb")  # the chapters' (not the status page's)
               if _is_chapter(f.relative_to(build / "jupyter_execute").with_suffix("").as_posix())),
             *(srcdir / "tools").glob("*.py"),
             *(srcdir / "sce_lib").rglob("*.py")]
    digest = hashlib.sha256()
    for path in sorted(f for f in files if f.is_file()):
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _write_files(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.name != "html":  # not the single-page build of make pdf
        return
    out = Path(app.outdir) / TARGET
    out.mkdir(parents=True, exist_ok=True)
    srcdir = Path(app.srcdir)
    build = Path(app.outdir).parent  # _build: jupyter_execute/ holds the executed notebooks
    chapters = [d.split("/")[-1] for d in sorted(app.env.found_docs) if _is_chapter(d)]
    zip_path = Path(app.outdir) / "_downloads" / "student-edition.zip"
    expected = [out / f"{stem}{ext}" for stem in chapters for ext in (".md", ".ipynb")] + [zip_path]
    stamp = build / ".downloads-inputs-sha256"  # beside the site, not in it
    digest = _inputs_digest(build, srcdir)
    if all(f.is_file() for f in expected) and stamp.is_file() and stamp.read_text() == digest:
        return  # nothing they are made from changed
    stamp.unlink(missing_ok=True)
    for docname in sorted(app.env.found_docs):
        if _is_chapter(docname):
            shutil.copyfile(srcdir / f"{docname}.md", out / f"{docname.split('/')[-1]}.md")
    _tool(srcdir, "reader_notebooks").write_all(out, outputs=True, html=Path(app.outdir), build=build, root=srcdir)
    student = Path(app.outdir) / "_downloads" / "student"
    _tool(srcdir, "student_edition").main(student, html=Path(app.outdir), build=build)
    shutil.move(student / "student-edition.zip", zip_path)
    shutil.rmtree(student)
    stamp.write_text(digest)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _add_links)
    app.connect("build-finished", _write_files, priority=950)  # last: the pages as the other handlers leave them
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
