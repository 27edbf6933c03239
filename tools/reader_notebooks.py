"""Reader notebooks: every chapter as an .ipynb that reads like the site in any Jupyter.

    python tools/reader_notebooks.py OUT_DIR [--no-outputs]      (make reader: OUT_DIR = _build/reader)

A chapter's source is a MyST notebook; plain Jupyter (JupyterLab, Notebook 7, VS Code, Colab) knows
neither its directives and roles nor the book's macros, and cannot fill in the numbers the text
quotes. A reader notebook is made from three things ``make book`` leaves behind:

* the source (``book/*.md``), read by jupytext into the same cells the build executed;
* the executed build: the outputs of every code cell (``_build/jupyter_execute/<doc>.ipynb``) and the
  glued values (``<doc>.glue.json``, written by myst-nb), which fill in every ``{glue:text}``;
* the built site (``_build/html``): every number and reference text (``tools/site_index.py``).

Each Markdown cell goes through ``tools/myst_markdown.py`` (directives as Markdown with the site's
numbering, references as the site's text, citations author-year with the entries in a last cell).
The first cell defines the macros of ``_config.yml`` twice: as a ``math:`` front matter that
jupyterlab-myst reads (hidden from plain Jupyter inside an HTML comment), and as ``\\def``\\ s in a
math span that MathJax (and KaTeX) keep for the rest of the notebook.

The site's download (``book/_ext/downloads.py``) keeps the build's outputs (figures without running
anything); the student edition (``tools/student_edition.py``) calls ``reader_notebook`` on its own
source, without outputs and without solutions. The chapters are the numbered parts of ``_toc.yml``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jupytext
import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from myst_markdown import Context, roles_in, to_markdown  # noqa: E402
from site_index import SiteIndex  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"


def numbered_entries(root: Path = ROOT) -> list[tuple[str, int, list[str]]]:
    """The pages of the numbered parts of ``_toc.yml``, in its order (a chapter, then its section pages):
    (docname, the chapter's number, the docnames of the pages above it, outermost first)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    found: list[tuple[str, int, list[str]]] = []

    def add(entries: list[dict], number: int | None, above: list[str]) -> None:
        for entry in entries:
            n = number if number is not None else 1 + sum(not a for _, _, a in found)
            found.append((entry["file"], n, above))
            add(entry.get("sections", []), n, [*above, entry["file"]])

    for part in toc.get("parts", []):
        if part.get("numbered"):
            add(part.get("chapters", []), None, [])
    return found


def chapter_docs(root: Path = ROOT) -> list[str]:
    """The docnames of the numbered chapters and their section pages, in the order of ``_toc.yml``."""
    return [doc for doc, _, _ in numbered_entries(root)]


def chapter_paths(root: Path = ROOT) -> list[Path]:
    return [root / f"{doc}.md" for doc in chapter_docs(root)]


def book_macros(root: Path = ROOT) -> dict[str, str]:
    """The TeX macros of the site (``_config.yml``, ``sphinx.config.mathjax3_config.tex.macros``)."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return dict(config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"])


def macro_cell(macros: dict[str, str]) -> str:
    """The first cell: the macros as jupyterlab-myst's ``math:`` front matter, and as ``\\def``\\ s.

    Plain Markdown renders the front matter's ``---`` lines as two rules and hides the YAML between
    them, which sits in an HTML comment: it opens with the key ``<!--`` (which MyST ignores) and
    closes on a YAML comment line."""
    yaml_lines = "\n".join(f"  '\\{name}': '{body}'" for name, body in macros.items())
    defs = "".join(f"\\def\\{name}{{{body}}}" for name, body in macros.items())
    return (f"---\n<!--: the book's macros, for jupyterlab-myst\nmath:\n{yaml_lines}\n# -->\n---\n\n"
            f"${defs}$\n*The book's TeX macros are defined in this cell.*")


def executed_notebook(doc: str, build: Path = BUILD) -> tuple[nbformat.NotebookNode, dict]:
    """The notebook the build executed for ``doc`` and its glued values {name: mime bundle}."""
    path = build / "jupyter_execute" / f"{doc}.ipynb"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `make book` first")
    glue_file = path.with_suffix(".glue.json")
    glued = json.loads(glue_file.read_text(encoding="utf-8")) if glue_file.is_file() else {}
    return nbformat.read(path, as_version=4), {name: out["data"] for name, out in glued.items()}


def _cite_texts(doc: str, source_cells: list, site: SiteIndex) -> dict:
    """{(role, keys): (the site's text, entry ids)}: the source's citations, in order, paired with the
    site's (sphinxcontrib-bibtex renders them in the order of the source)."""
    roles = [(role, content) for cell in source_cells if cell.cell_type == "markdown"
             for role, content in roles_in(cell.source) if role.startswith("cite")]
    shown = site.cites.get(doc, [])
    if len(roles) != len(shown):
        raise ValueError(f"{doc}: {len(roles)} citations in the source, {len(shown)} on the site: run `make book`")
    return dict(zip(roles, shown))


def reader_notebook(path: Path, site: SiteIndex, *, outputs: bool = True, source: str | None = None,
                    build: Path = BUILD, root: Path = ROOT) -> nbformat.NotebookNode:
    """The reader notebook of the chapter ``path``.

    ``source``: another MyST text for the same chapter (the student edition's: solutions taken out,
    answer cells added); its code cells must be code cells of the chapter. ``outputs``: keep the
    build's outputs (the site's download) or drop them (the student edition)."""
    doc = path.relative_to(root).with_suffix("").as_posix()
    full = jupytext.read(path)
    executed, glued = executed_notebook(doc, build)
    built_code = [c for c in executed.cells if c.cell_type == "code"]
    full_code = [c for c in full.cells if c.cell_type == "code"]
    if [c.source for c in built_code] != [c.source for c in full_code]:
        raise ValueError(f"{doc}: the source's code cells differ from the build's: run `make book`")
    outputs_of = {c.source: c for c in built_code}
    nb = jupytext.reads(source, fmt="md:myst") if source is not None else full
    ctx = Context(doc, site, glued, solutions=source is None,
                  cite_texts=_cite_texts(doc, full.cells, site))
    cells = [nbformat.v4.new_markdown_cell(macro_cell(book_macros(root)))]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            text = to_markdown(cell.source, ctx)
            if text.strip():
                cells.append(nbformat.v4.new_markdown_cell(text, metadata=dict(cell.metadata)))
        elif cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(cell.source, metadata=dict(cell.metadata))
            built = outputs_of.get(cell.source)
            if outputs and built is not None:
                new.outputs, new.execution_count = built.outputs, built.execution_count
            cells.append(new)
    if ctx.cited:
        entries = "\n".join(f"* {site.bibliography[i]}" for i in ctx.cited)
        cells.append(nbformat.v4.new_markdown_cell(f"**References**\n\n{entries}"))
    out = nbformat.v4.new_notebook(cells=cells)
    out.metadata["kernelspec"] = full.metadata.get("kernelspec", executed.metadata.get("kernelspec"))
    out.metadata["language_info"] = executed.metadata.get("language_info", {"name": "python"})
    for i, cell in enumerate(out.cells):
        cell["id"] = f"cell-{i}"  # stable ids: the same notebook from the same build
    return out


def write_all(out: Path, *, outputs: bool = True, html: Path = BUILD / "html", build: Path = BUILD,
              root: Path = ROOT) -> list[Path]:
    """Write the reader notebook of every chapter to ``out``; returns their paths."""
    docs = chapter_docs(root)
    site = SiteIndex.read(html, docs)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in chapter_paths(root):
        target = out / f"{path.stem}.ipynb"
        nbformat.write(reader_notebook(path, site, outputs=outputs, build=build, root=root), target)
        written.append(target)
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", default=str(BUILD / "reader"))
    parser.add_argument("--no-outputs", action="store_true", help="drop the build's outputs")
    args = parser.parse_args()
    paths = write_all(Path(args.out), outputs=not args.no_outputs)
    print(f"wrote {len(paths)} reader notebooks to {args.out}")
