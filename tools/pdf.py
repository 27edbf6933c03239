"""make pdf: the whole book as one PDF, printed by headless Chromium from the single-page HTML build.

    python tools/pdf.py SITE_DIR OUT.pdf       (SITE_DIR = _build/singlehtml, built by `make pdf`)

Why Chromium and not LaTeX: the pages already render everything a reader needs (MathJax, the
numbered theorem and exercise boxes of sphinx-proof and sphinx-exercise, the executed figures and
tables), and the browser test checks that rendering; a LaTeX build would need a TeX distribution of
about 1 GB and LaTeX versions of those extensions' directives, which render differently. Printing the
*single-page* build keeps every cross-reference (theorem, equation, figure, chapter) a link within the
one document, so the links of the PDF work offline.

The page is served from 127.0.0.1 (MathJax comes from the site, nothing from the web), MathJax is
allowed to finish typesetting, every image is loaded, then the page is prepared for print at the
width of the printed column (A4 less the margins, in print media):

* a title page with the book's title, the version (pyproject.toml), the date and the commit;
* every display equation and every table wider than the column is set in a smaller size until it
  fits (MathJax does not break display math), and table cells may wrap;
* only boxes measured shorter than most of a page are kept on one page, and the themes' own rules that
  keep every table, admonition and code block whole are undone (a box kept whole that is taller than
  the space left is pushed to the next page: a long code cell left a page with nothing but its empty
  frame before it, the claims chapter's summary table a blank page, see PRINT_CSS); the drop-downs'
  "(click to open)" hints go;
* ``--student``: every solution (its text and its code) is removed, for the student PDF.

Then Chromium prints A4 pages with page numbers, and ``OUT.json`` records what was measured after
the preparation (display equations and tables, and how many still overflow; the boxes kept whole
though taller than the limit, none), which tests/test_pdf.py checks together with the PDF itself.
"""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from local_site import chromium_on_site, chromium_path

FOOTER = ('<div style="font-size:8px; width:100%; text-align:center; color:#555;">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')
PRINT_CSS = """
/* Keep together only what fits on a page. The themes keep boxes whole in print whatever their
   height (sphinx-book-theme: every table; pydata-sphinx-theme: every admonition and code block), and
   Chromium pushes a box kept whole that does not fit to the next page. Where such a box is taller than
   a page and follows a heading (break-after: avoid, so the heading goes with it) at the foot of a
   page, Chromium breaks again at the top of the next page and leaves it blank: that was the blank page
   of book.pdf before the claims chapter's summary table (the chapter's introduction ended at the foot
   of a page; the student PDF, without the solutions, fell otherwise). Checked on that chapter's HTML
   and on a made-up page (tests/test_pdf.py): undoing the table's keep, or the heading's
   break-after: avoid, removes the blank page. So every keep rule is undone, and PREPARE marks
   .sce-keep only the boxes (cells, code blocks, figures, theorem, exercise and other admonition boxes,
   table rows) measured shorter than most of a page: a kept box and its heading always fit on a fresh
   page, and no box is pushed to a page where it cannot fit. Headings keep their break-after: avoid. */
*:not(.sce-keep) { break-inside: auto !important; }
.sce-keep { break-inside: avoid !important; }
/* A scrolling box cannot be split across pages (Chromium prints it whole, or pushes it to the next
   page, leaving its empty frame behind): in print nothing scrolls, long lines wrap instead. */
div.highlight, div.highlight pre, div.cell_output pre, div.output pre,
div.pst-scrollable-table-container { overflow: visible !important; }
div.cell_output pre, div.output pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.sce-downloads, .toggle-button { display: none; }
table td, table th { white-space: normal !important; }
.sce-title-page { break-after: page; text-align: center; padding-top: 35vh; }
.sce-title-page p.sce-title { font-size: 2.2rem; font-weight: bold; margin-bottom: 2rem; }
.sce-title-page p { font-size: 1.1rem; margin: 0.3rem; }
"""
ROOT = Path(__file__).resolve().parents[1]
COLUMN_PX = 688  # A4 (210 mm) less 2 x 14 mm margins, in CSS pixels (96 per inch)
PAGE_PX = 950    # the printed column's height, about: boxes taller than this may break

# Runs in the page, in print media at the column's width: fit, keep, measure.
PREPARE = """([student, keepPx]) => {
  for (const t of document.querySelectorAll('p.admonition-title'))
    for (const n of t.childNodes) if (n.nodeType === 3) n.textContent = n.textContent.replace(/\\s*\\(click to open\\)/i, '');
  if (student) document.querySelectorAll('div.solution').forEach(e => e.remove());
  const fit = (el, inner) => {
    for (let i = 0; i < 6; i++) {
      const avail = el.parentElement.clientWidth, need = inner().scrollWidth;
      if (need <= avail + 1) return true;
      const size = parseFloat(getComputedStyle(el).fontSize);
      el.style.fontSize = (size * Math.max(0.5, (avail - 2) / need)) + 'px';
    }
    return inner().scrollWidth <= el.parentElement.clientWidth + 1;
  };
  const eqs = Array.from(document.querySelectorAll('mjx-container[display="true"]'));
  const tables = Array.from(document.querySelectorAll('article table'));
  const badEq = eqs.filter(e => !fit(e, () => e.querySelector('mjx-math') || e));
  const badTable = tables.filter(t => !fit(t, () => t));
  // kept whole only if shorter than keepPx (see PRINT_CSS); tables are not kept whole (one measured at
  // screen width may be taller than a page in print), they break between rows, and a row is kept
  const boxes = Array.from(document.querySelectorAll(
    'div.cell_input, div.cell_output, figure, .admonition, div.highlight, table tr'));
  const heights = boxes.map(e => e.getBoundingClientRect().height);  // read all, then write: one layout
  boxes.forEach((e, i) => { if (heights[i] < keepPx) e.classList.add('sce-keep'); });
  // measured, whatever rule keeps it: no box kept whole is as tall as keepPx (it would be pushed past
  // the space left on its page, and past a whole page if taller than one)
  const tooTall = Array.from(document.body.querySelectorAll('*')).filter(e =>
    /avoid/.test(getComputedStyle(e).breakInside) && e.getBoundingClientRect().height >= keepPx);
  return {display_equations: eqs.length, equations_overflowing: badEq.map(e => e.textContent.slice(0, 80)),
          tables: tables.length, tables_overflowing: badTable.map(t => t.textContent.slice(0, 80)),
          kept_whole_too_tall: tooTall.map(e => `${e.tagName}.${e.className}: ${e.textContent.trim().slice(0, 60)}`),
          solutions: document.querySelectorAll('div.solution').length};
}"""


def edition_line() -> str:
    """'version 0.1.0 · 3 December 2026 · commit 9e02850' (+ '-dirty' with uncommitted changes)."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    git = ["git", "-C", str(ROOT)]
    try:
        commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
        if subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                          text=True).stdout.strip():
            commit += "-dirty"
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown (not a git checkout)"
    today = datetime.datetime.now(datetime.timezone.utc).date()
    return f"version {version} · {today.day} {today:%B %Y} · commit {commit}"


def print_book(site: Path, out: Path, chromium: str, *, student: bool = False) -> Path:
    # Sphinx writes the single page where the root document lives (book/intro.html) but makes its links
    # to _static/ and _images/ relative to the site's root: a copy at the root resolves them.
    entry = site / "book.html"
    shutil.copyfile(site / "book" / "intro.html", entry)
    out.parent.mkdir(parents=True, exist_ok=True)
    with chromium_on_site(site, chromium) as (context, base):
        url = f"{base}/{entry.name}"
        page = context.new_page()
        page.set_viewport_size({"width": COLUMN_PX, "height": PAGE_PX})
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
        title = "Softmax Cross-Entropy, Executed" + (" — student edition (without solutions)" if student else "")
        page.evaluate("""([title, line]) => {
            const d = document.createElement('div'); d.className = 'sce-title-page';
            d.innerHTML = '<p class="sce-title"></p><p></p>';  // not an h1: the theme hides those in print
            d.children[0].textContent = title; d.children[1].textContent = line;
            document.body.prepend(d);
        }""", [title, edition_line()])
        page.wait_for_timeout(200)
        report = page.evaluate(PREPARE, [student, PAGE_PX * 0.8])
        out.with_suffix(".json").write_text(json.dumps(report, indent=1), encoding="utf-8")
        page.pdf(path=str(out), format="A4", print_background=True, display_header_footer=True,
                 header_template="<span></span>", footer_template=FOOTER,
                 margin={"top": "15mm", "bottom": "18mm", "left": "14mm", "right": "14mm"})
    return out


if __name__ == "__main__":
    browser = chromium_path()
    if browser is None:
        sys.exit("make pdf: Debian's chromium is needed (make browser installs it)")
    args = [a for a in sys.argv[1:] if a != "--student"]
    site_dir = Path(args[0] if args else "_build/singlehtml")
    target = print_book(site_dir, Path(args[1] if len(args) > 1 else "_build/pdf/book.pdf"), browser,
                        student="--student" in sys.argv)
    from pypdf import PdfReader

    measured = json.loads(target.with_suffix(".json").read_text(encoding="utf-8"))
    print(f"wrote {target}: {len(PdfReader(target).pages)} pages; {measured['display_equations']} display "
          f"equations ({len(measured['equations_overflowing'])} too wide), {measured['tables']} tables "
          f"({len(measured['tables_overflowing'])} too wide), {len(measured['kept_whole_too_tall'])} boxes kept "
          f"whole though taller than {PAGE_PX * 0.8:.0f} px")
