"""Make the single-page build (``--builder singlehtml``, used by ``make pdf``) render every node.

Sphinx looks up the visitors of custom nodes by builder *name* first and falls back to the builder's
format only when no handler at all is registered under that name. sphinx-exercise registers its
nodes under ``singlehtml``; from then on Sphinx finds a ``singlehtml`` table and never falls back to
``html``, where sphinx-proof (theorems, lemmas, proofs), sphinx-togglebutton and myst-nb registered
theirs, and the single-page build stops at the first theorem ("unknown node type"). At
``builder-inited`` every ``html`` handler missing from the ``singlehtml`` table is copied into it.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def _share_html_handlers(app: Sphinx) -> None:
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, visitors in handlers.get("html", {}).items():
        single.setdefault(node, visitors)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _share_html_handlers)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
