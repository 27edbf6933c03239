"""A notebook as plain Jupyter shows it, on one HTML page, and what a reader would see go wrong there.

Jupyter (JupyterLab, Notebook 7, nbconvert) renders a Markdown cell in three steps: it takes the math
out (``$…$``, ``$$…$$``, ``\\begin…\\end``) so that Markdown cannot touch it, renders the Markdown
(raw HTML such as ``<details>`` passes), puts the math back and lets MathJax typeset it, without any
of the book's Sphinx extensions and without its macros unless the notebook defines them. This module
does the same with markdown-it-py (CommonMark + tables, as marked does) and MathJax 3 (served from
the built site), and turns off MathJax's ``noundefined`` package, so that an undefined macro is a
TeX error (``mjx-merror``) rather than red text. Outputs are shown as Jupyter shows them (text,
images, HTML).

``check_notebooks`` opens every page in headless Chromium and reports, per notebook, raw MyST left
in the visible text, ``$`` left untypeset, and MathJax errors.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
from markdown_it import MarkdownIt

RAW_MYST = ("{glue", "```{", ":::{", ":label:", "{ref}", "{eq}", "{prf:ref}", "{numref}", "{cite", "{doc}",
            "{math}", "{solution", "{exercise", "prf:")
TARGET_LINE = re.compile(r"^\s*\([\w:.-]+\)=\s*$", re.M)
_CODE = re.compile(r"(^|\n)(```|~~~).*?\n\2[^\n]*|`+[^`]*?`+", re.S)
_MATH = re.compile(r"\$\$.+?\$\$|\\begin\{([a-z*]+)\}.*?\\end\{\1\}|(?<!\\)\$(?:[^$\\]|\\.)+?\$", re.S)
MATHJAX_CONFIG = """window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']],
  displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']], processEscapes: true, processEnvironments: true,
  packages: {'[-]': ['noundefined']}}};"""


def markdown_html(text: str) -> str:
    """One Markdown cell, as Jupyter renders it before MathJax runs."""
    kept: list[str] = []

    def hold(m: re.Match) -> str:
        kept.append(m.group(0))
        return f"@@{len(kept) - 1}@@"

    code: list[str] = []

    def hold_code(m: re.Match) -> str:
        code.append(m.group(0))
        return f"%%{len(code) - 1}%%"

    text = _CODE.sub(hold_code, text)
    text = _MATH.sub(hold, text)
    text = re.sub(r"%%(\d+)%%", lambda m: code[int(m[1])], text)
    out = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    return re.sub(r"@@(\d+)@@", lambda m: html.escape(kept[int(m[1])], quote=False), out)


def _output_html(output: dict) -> str:
    if output.get("output_type") == "stream":
        return f"<pre>{html.escape(output['text'])}</pre>"
    data = output.get("data", {})
    if "image/png" in data:
        return f'<img src="data:image/png;base64,{data["image/png"]}">'
    if "text/html" in data:
        return "".join(data["text/html"])
    if "text/markdown" in data:
        return markdown_html("".join(data["text/markdown"]))
    if "text/plain" in data:
        return f"<pre>{html.escape(''.join(data['text/plain']))}</pre>"
    return ""


def notebook_page(nb: nbformat.NotebookNode, mathjax: str) -> str:
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(f'<div class="md">{markdown_html(cell.source)}</div>')
        elif cell.cell_type == "code":
            parts.append(f'<pre class="input"><code>{html.escape(cell.source)}</code></pre>')
            parts += [f'<div class="output">{_output_html(o)}</div>' for o in cell.get("outputs", [])]
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><script>{MATHJAX_CONFIG}</script>'
            f'<script src="{mathjax}"></script></head><body>{"".join(parts)}</body></html>')


_PROSE_TEXT = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('pre, code, mjx-container, script').forEach(e => e.remove());
  return copy.innerText;
}"""


def check_notebooks(pages: dict[str, Path], site_root: Path, chromium: str) -> dict[str, list[str]]:
    """{name: problems} for every page (written under ``site_root``, which serves ``mathjax/``)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from local_site import chromium_on_site

    found: dict[str, list[str]] = {}
    with chromium_on_site(site_root, chromium) as (context, base):
        for name, page_path in pages.items():
            page = context.new_page()
            events: list[str] = []
            page.on("pageerror", lambda e: events.append(f"page error: {e}"))
            page.goto(f"{base}/{page_path.relative_to(site_root).as_posix()}", wait_until="load", timeout=120_000)
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                   timeout=120_000)
            page.evaluate("() => MathJax.startup.promise")
            errors = page.eval_on_selector_all("mjx-merror", "els => els.map(e => e.getAttribute('data-mjx-error') || e.textContent)")
            events += [f"MathJax error: {e}" for e in errors[:5]]
            if len(errors) > 5:
                events.append(f"... {len(errors)} MathJax errors in all")
            prose = page.evaluate(_PROSE_TEXT)
            events += [f"raw MyST in the text: {tok!r}" for tok in RAW_MYST if tok in prose]
            events += [f"a (label)= line: {m.group(0).strip()!r}" for m in TARGET_LINE.finditer(prose)][:3]
            if "$" in prose:
                at = prose.index("$")
                events.append(f"untypeset math: …{prose[max(0, at - 60):at + 60]!r}…")
            if page.locator("mjx-container").count() == 0:
                events.append("no math was typeset at all")
            found[name] = events
            page.close()
    return found
