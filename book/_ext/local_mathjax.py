"""Serve MathJax 3 from the built site, never from a CDN.

The MathJax 3.2.2 ``es5`` tree ships in the pip package ``django-static-mathjax`` (pinned in
requirements.txt). After an HTML build this extension copies it to ``_build/html/_static/mathjax``;
``mathjax_path: mathjax/tex-mml-chtml.js`` in ``_config.yml`` (relative, so resolved against
``_static/``) makes every page load it from there. Copying after the build, rather than listing
the folder in ``html_static_path``, keeps Jupyter Book from adding each of MathJax's ~70 ``.js``
files to every page.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

try:
    import mathjax  # provided by django-static-mathjax
except ImportError as exc:  # pragma: no cover - the pinned environment always has it
    raise ExtensionError(
        "local_mathjax: the package 'django-static-mathjax' is missing; run `make book`, "
        "which installs requirements.txt"
    ) from exc

ES5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def _check_config(app: Sphinx, config) -> None:
    path = str(config.mathjax_path)
    if "://" in path or path.startswith("//"):
        raise ExtensionError(f"local_mathjax: mathjax_path must be local, got {path!r}")


def _copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    if not (ES5 / "tex-mml-chtml.js").is_file():
        raise ExtensionError(f"local_mathjax: MathJax files not found under {ES5}")
    shutil.copytree(ES5, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _check_config)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
