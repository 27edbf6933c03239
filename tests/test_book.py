"""The whole book, built as CI builds it, then read by a real browser.

1. The strict build (the `strict_build` fixture in conftest.py, see tests/_book.py): every chapter
   re-executed, warnings are errors (`-W -n --keep-going`).
2. The built site: MathJax is served from the site itself, never from a CDN.
3. Headless Chromium (Debian's package, driven by Playwright) loads every page from a server on
   127.0.0.1 and asserts that math was typeset, that no request left 127.0.0.1, that no page logged a
   console error and that no image is broken. A screenshot of each page goes to _build/screenshots/.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from _browser import browse_site, chromium_path, html_pages
from _paths import HTML, ROOT, SCREENSHOTS, chapters

pytestmark = [pytest.mark.build, pytest.mark.xdist_group("book")]

def _html_pages() -> list[Path]:
    return html_pages(HTML)


def test_strict_build_succeeds(strict_build) -> None:
    out = strict_build.stdout + strict_build.stderr
    tail = "\n".join(out.splitlines()[-60:])
    assert strict_build.returncode == 0, f"strict book build failed (log: _build/strict-build.log):\n{tail}"
    warnings = [line for line in out.splitlines() if "WARNING:" in line]  # Sphinx warnings, not the kernel's log lines
    assert warnings == [], "the strict build printed warnings:\n" + "\n".join(warnings)
    assert (HTML / "book" / "intro.html").is_file()


def test_site_serves_mathjax_locally(strict_build) -> None:
    assert strict_build.returncode == 0
    assert (HTML / "_static" / "mathjax" / "tex-mml-chtml.js").is_file(), "MathJax was not copied into the site"
    pages = _html_pages()
    assert pages, "no HTML pages were built"
    loading_mathjax = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', text):
            if src.startswith(("http://", "https://", "//")):
                # Links a reader may click are fine; resources the page loads itself are not.
                pytest.fail(f"{page.relative_to(HTML)} loads a remote resource: {src}")
        for src in re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', text, flags=re.I):
            assert src.split("?")[0].endswith("_static/mathjax/tex-mml-chtml.js"), f"{page.relative_to(HTML)}: {src}"
            loading_mathjax += 1
    assert loading_mathjax > 0, "no page loads MathJax: the math would not render"


def test_status_page_has_execution_table(strict_build) -> None:
    assert strict_build.returncode == 0
    status = (HTML / "book" / "status.html").read_text(encoding="utf-8")
    rows = re.findall(r'<span class="doc">(book/[^<]+)</span></a></p></td>(.*?)</tr>', status, flags=re.S)
    listed = {doc: body for doc, body in rows}
    expected = {str(p.relative_to(ROOT).with_suffix("")) for p in chapters()}
    assert expected <= set(listed), f"chapters missing from the execution table: {sorted(expected - set(listed))}"
    failed = [doc for doc, body in listed.items() if "✅" not in body]
    assert failed == [], f"the execution table reports failures: {failed}"
    assert "torch       2.13.0" in status and "GPU used:" in status


@pytest.mark.browser
def test_every_page_renders_offline_in_chromium(strict_build) -> None:
    assert strict_build.returncode == 0, "the site was not built"
    chromium = chromium_path()
    if chromium is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but Debian's chromium is not installed (make test installs it with apt-get)")
        pytest.skip("SKIPPED THE BROWSER TEST: chromium is not installed (apt-get install chromium)")
    report = browse_site(HTML, SCREENSHOTS, chromium)
    assert report.pages == len(_html_pages()) > 0
    assert report.math_pages >= 1, "no page with math was found: the math check checked nothing"
    assert report.problems == [], "browser check failed:\n" + "\n".join(report.problems)

