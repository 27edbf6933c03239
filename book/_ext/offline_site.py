"""Keep every page self-contained: no duplicated scripts, no code that would reach for a CDN.

sphinx-thebe (pulled in by Jupyter Book) registers its inline configuration script on every
``env-before-read-docs`` event, which fires more than once in a Jupyter Book build; the page then
declares ``const THEBE_JS_URL`` twice and the browser logs a SyntaxError. This book does not offer
live code (thebe is off in _config.yml), so the thebe scripts, whose only job is to fetch thebe from
unpkg.com on a click, are dropped from every page; any other script registered twice is kept once.
"""

from __future__ import annotations

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


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _clean_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
