"""make pdf: the whole book as one PDF, printed by headless Chromium from the single-page HTML build.

    python tools/pdf.py SITE_DIR OUT.pdf       (SITE_DIR = _build/singlehtml, built by `make pdf`)

Why Chromium and not LaTeX: the pages already render everything a reader needs (MathJax, the
numbered theorem and exercise boxes of sphinx-proof and sphinx-exercise, the executed figures and
tables), and the browser test checks that rendering; a LaTeX build would need a TeX distribution of
about 1 GB and LaTeX versions of those extensions' directives, which render differently. Printing the
*single-page* build keeps every cross-reference (theorem, equation, figure, chapter) a link within the
one document, so the links of the PDF work offline.

The page is served from 127.0.0.1 (MathJax comes from the site, nothing from the web), MathJax is
allowed to finish typesetting, every image is loaded, then Chromium prints A4 pages with page numbers.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from local_site import chromium_on_site, chromium_path

FOOTER = ('<div style="font-size:8px; width:100%; text-align:center; color:#555;">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')
PRINT_CSS = """
div.cell_input, div.cell_output, figure, .proof, .admonition { break-inside: avoid; }
.sce-downloads { display: none; }
"""


def print_book(site: Path, out: Path, chromium: str) -> Path:
    # Sphinx writes the single page where the root document lives (book/intro.html) but makes its links
    # to _static/ and _images/ relative to the site's root: a copy at the root resolves them.
    entry = site / "book.html"
    shutil.copyfile(site / "book" / "intro.html", entry)
    out.parent.mkdir(parents=True, exist_ok=True)
    with chromium_on_site(site, chromium) as (context, base):
        url = f"{base}/{entry.name}"
        page = context.new_page()
        page.goto(url, wait_until="load", timeout=120_000)
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                               timeout=120_000)
        page.evaluate("() => MathJax.startup.promise")
        page.evaluate("() => Promise.all(Array.from(document.images).map(i => i.complete ? null :"
                      " new Promise(r => { i.onload = i.onerror = r; })))")
        # Links into the same document point at book/intro.html#...: make them fragments, so that the
        # PDF keeps them as links within itself; links to other files of the site cannot work in a
        # PDF and become plain text.
        page.evaluate("""() => {
            for (const a of document.querySelectorAll('a[href]')) {
                const u = new URL(a.href, location.href);
                if (u.origin !== location.origin) continue;
                if ((u.pathname.endsWith('/book/intro.html') || u.pathname === location.pathname) && u.hash)
                    a.setAttribute('href', u.hash);
                else a.removeAttribute('href');
            }
        }""")
        page.add_style_tag(content=PRINT_CSS)
        page.emulate_media(media="print")
        page.pdf(path=str(out), format="A4", print_background=True, display_header_footer=True,
                 header_template="<span></span>", footer_template=FOOTER,
                 margin={"top": "15mm", "bottom": "18mm", "left": "14mm", "right": "14mm"})
    return out


if __name__ == "__main__":
    browser = chromium_path()
    if browser is None:
        sys.exit("make pdf: Debian's chromium is needed (make browser installs it)")
    site_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "_build/singlehtml")
    target = print_book(site_dir, Path(sys.argv[2] if len(sys.argv) > 2 else "_build/pdf/book.pdf"), browser)
    from pypdf import PdfReader

    print(f"wrote {target}: {len(PdfReader(target).pages)} pages")
