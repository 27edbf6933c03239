"""Downloads on every chapter page: the MyST source and the chapter as a notebook, both written at
build time into ``_downloads/chapters/`` of the site (nothing generated is committed), and the
student edition (``tools/student_edition.py``) as ``_downloads/student-edition.zip``.

Each chapter page gets a line under its title, "Download this chapter: source (.md) · notebook (.ipynb)".
The notebook is the chapter converted by jupytext, without outputs: it runs top to bottom locally
(``make lab``), as the book build runs it.
"""

from __future__ import annotations

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


def _write_files(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    import jupytext  # a dependency of Jupyter Book

    out = Path(app.outdir) / TARGET
    out.mkdir(parents=True, exist_ok=True)
    srcdir = Path(app.srcdir)
    for docname in sorted(app.env.found_docs):
        if not _is_chapter(docname):
            continue
        source = srcdir / f"{docname}.md"
        shutil.copyfile(source, out / source.name)
        notebook = jupytext.read(source)
        notebook.metadata.pop("jupytext", None)
        jupytext.write(notebook, out / f"{source.stem}.ipynb", fmt="ipynb")
    tool = srcdir / "tools" / "student_edition.py"
    spec = importlib.util.spec_from_file_location("student_edition", tool)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    student = Path(app.outdir) / "_downloads" / "student"
    module.main(student)
    shutil.move(student / "student-edition.zip", Path(app.outdir) / "_downloads" / "student-edition.zip")
    shutil.rmtree(student)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _add_links)
    app.connect("build-finished", _write_files)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
