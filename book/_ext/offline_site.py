"""Keep every page self-contained: no duplicated scripts, no code that would reach for a CDN.

sphinx-thebe (pulled in by Jupyter Book) registers its inline configuration script on every
``env-before-read-docs`` event, which fires more than once in a Jupyter Book build; the page then
declares ``const THEBE_JS_URL`` twice and the browser logs a SyntaxError. This book does not offer
live code (thebe is off in _config.yml), so the thebe scripts, whose only job is to fetch thebe from
unpkg.com on a click, are dropped from every page; any other script registered twice is kept once.

Jupyter Book writes the site's root ``index.html`` as a bare redirect, which has no icon link, so a
browser asks for ``/favicon.ico`` and logs a 404. At the end of the build the favicon is copied to
the site's root as ``favicon.ico`` and the redirect page gets a proper head with the icon.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx

THEBE_MARKERS = ("THEBE_JS_URL", "sphinx-thebe.js", "unpkg.com/thebe")


def _script_key(script) -> tuple[str, str]:
    filename = str(getattr(script, "filename", script) or "")
    body = str(getattr(script, "attributes", {}).get("body", ""))
    return filename, body


def _clean_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    kept, seen = [], set()
    for script in scripts:
        key = _script_key(script)
        if any(marker in key[0] or marker in key[1] for marker in THEBE_MARKERS):
            continue
        if key in seen:
            continue
        seen.add(key)
        kept.append(script)
    scripts[:] = kept


def _root_page(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    favicon = app.config.html_favicon
    if favicon and not str(favicon).startswith(("http://", "https://")):
        shutil.copyfile(Path(app.confdir) / favicon, out / "favicon.ico")
    index = out / "index.html"
    if index.is_file() and "<head>" not in index.read_text(encoding="utf-8"):
        target = index.read_text(encoding="utf-8").split("url=")[-1].split('"')[0].strip()
        index.write_text(
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Refresh" content="0; url={target}" />\n'
            '<link rel="icon" href="favicon.ico">\n<title>Softmax Cross-Entropy, Executed</title></head>\n'
            f'<body><p><a href="{target}">Continue to the book</a></p></body></html>\n', encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _clean_scripts, priority=900)
    app.connect("build-finished", _root_page, priority=900)  # after sphinx-external-toc writes the redirect
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
