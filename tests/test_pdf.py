"""`make pdf` (tools/pdf.py): the whole book, and the student edition without solutions, as PDFs that
print whole.

Measured, not assumed: tools/pdf.py records, after preparing the page at the printed column's width,
how many display equations and tables are still wider than the column (none may be) and which boxes
it keeps on one page though (nearly) as tall as a page (none may be); the PDF itself is read back
with PDFium (its text) and pypdf (its links): no page without any text or image (a page holding only
an empty frame), no "(click to open)", a title page with the version, the date and the commit,
every theorem title in the text, no TeX left unrendered, cross-references as links within the
document; the student PDF has every exercise and no solution.

(This file takes over the PDF test of tests/test_book.py; `make pdf` needs the built book, and
its notebooks come from the execution cache.)
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from _paths import BUILD, HTML, ROOT, chapters, wait_for_build

sys.path.insert(0, str(ROOT / "tools"))
import student_edition as se  # noqa: E402
from local_site import chromium_path  # noqa: E402
from site_index import SiteIndex  # noqa: E402

pytestmark = [pytest.mark.build, pytest.mark.browser]
PDF = BUILD / "pdf"
_THEOREM = re.compile(r"^````\{prf:(?:theorem|lemma|corollary|proposition|definition|algorithm)\}[ \t]*(.*)$", re.M)


@pytest.fixture(scope="module")
def pdf_log() -> str:
    wait_for_build()
    ci = os.environ.get("CI", "").lower() == "true"
    if chromium_path() is None or not (HTML / "book").is_dir():
        if ci:
            pytest.fail("CI=true but chromium or the built book (make book) is missing")
        pytest.skip("SKIPPED THE PDF TEST: it needs Debian's chromium and the built book (make book)")
    proc = subprocess.run(["make", "-s", "pdf"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, "make pdf failed:\n" + "\n".join(log.splitlines()[-40:])
    warnings = [line for line in log.splitlines() if "WARNING:" in line]
    assert warnings == [], "the single-page build printed warnings:\n" + "\n".join(warnings)
    return log


@functools.cache
def _pages(path: Path) -> list[tuple[str, int]]:
    """(the text of each page, normalised; how many images and drawn forms it has).

    Read with PDFium (Chromium's own PDF library, pypdfium2): ten times faster than pypdf's text
    extraction on the 260-page book. PDFium marks a hyphen that ends a line with \\x02; NFKC undoes the
    ligatures of the PDF's fonts (the glyph "ﬁ" is extracted as one character)."""
    import pypdfium2 as pdfium

    drawn = (pdfium.raw.FPDF_PAGEOBJ_IMAGE, pdfium.raw.FPDF_PAGEOBJ_FORM)
    out = []
    document = pdfium.PdfDocument(path)
    try:
        for page in document:
            text = page.get_textpage().get_text_bounded().replace("\x02", "-")
            text = unicodedata.normalize("NFKC", text).replace("\u2019", "'")
            out.append((re.sub(r"\s+", " ", text), sum(1 for _ in page.get_objects(filter=drawn, max_depth=1))))
    finally:
        document.close()
    return out


@pytest.mark.parametrize("name", ["book", "book-student"])
def test_nothing_overflows_and_no_page_is_an_empty_frame(pdf_log, name: str) -> None:
    measured = json.loads((PDF / f"{name}.json").read_text(encoding="utf-8"))
    assert measured["display_equations"] >= 50 and measured["tables"] >= 4, measured
    assert measured["equations_overflowing"] == [], f"display equations wider than the page: {measured}"
    assert measured["tables_overflowing"] == [], f"tables wider than the page: {measured}"
    assert measured["kept_whole_too_tall"] == [], f"boxes kept on one page though nearly a page tall: {measured}"
    pages = _pages(PDF / f"{name}.pdf")
    assert 100 <= len(pages) <= 800, f"{len(pages)} pages"
    # A page's footer holds its number ("12 / 377"): a page with nothing else on it is empty.
    empty = [i + 1 for i, (text, images) in enumerate(pages)
             if images == 0 and len(re.sub(r"\d+ / \d+", "", text).strip()) < 3]
    text = " ".join(t for t, _ in pages)
    assert "click to open" not in text.lower()
    first = pages[0][0]
    assert "Softmax Cross-Entropy, Executed" in first and re.search(r"version \d+\.\d+\.\d+", first), first
    assert re.search(r"commit [0-9a-f]{7}", first) and re.search(r"\d{1,2} [A-Z][a-z]+ 20\d\d", first), first
    # (A box kept whole but taller than the space left is pushed to the next page: that left pages with
    # nothing but a code cell's empty frame, and a blank page before the claims chapter's summary table;
    # tools/pdf.py keeps together only what fits, see its PRINT_CSS.)
    assert empty == [], f"{name}.pdf: pages with nothing but a frame (or nothing at all): {empty}"


def test_the_book_pdf_has_every_theorem_links_and_no_raw_tex(pdf_log) -> None:
    from pypdf import PdfReader

    text = " ".join(t for t, _ in _pages(PDF / "book.pdf"))
    titles = [t for p in chapters() for t in _THEOREM.findall(p.read_text(encoding="utf-8")) if t.strip()]
    assert len(titles) >= 40
    missing = []
    for title in titles:  # the words of the title; its math is typeset, so only the text between is compared
        words = [chunk.strip(" .,;:") for chunk in re.split(r"\$[^$]*\$", title)]
        missing += [f"{title!r}: {w!r}" for w in words if len(w) >= 4 and re.sub(r"\s+", " ", w) not in text]
    assert missing == [], "theorem titles missing from the PDF text:\n" + "\n".join(missing)
    raw = [tok for tok in ("\\(", "\\)", "\\[", "\\]", "$$", "\\begin{") if tok in text]
    assert raw == [], f"unrendered TeX in the PDF text: {raw}"
    internal = external_local = 0
    for page in PdfReader(PDF / "book.pdf").pages:
        for annot in page.get("/Annots") or []:
            a = annot.get_object()
            if a.get("/Subtype") != "/Link":
                continue
            action = a.get("/A") or {}
            if "/Dest" in a or action.get("/S") == "/GoTo":
                internal += 1
            elif "127.0.0.1" in str(action.get("/URI", "")):
                external_local += 1
    assert internal >= 100, f"only {internal} links within the PDF: cross-references are not links"
    assert external_local == 0, f"{external_local} links point to the server that printed the PDF"


def test_the_student_pdf_has_every_exercise_and_no_solution(pdf_log) -> None:
    measured = json.loads((PDF / "book-student.json").read_text(encoding="utf-8"))
    assert measured["solutions"] == 0
    full, student = (" ".join(t for t, _ in _pages(PDF / f"{n}.pdf")) for n in ("book", "book-student"))
    captions = SiteIndex.read(HTML, [p.relative_to(ROOT).with_suffix("").as_posix() for p in se.chapter_paths()]).captions
    labels = [e.label for p in se.chapter_paths() for e in se.exercises(p.read_text(encoding="utf-8"))]
    assert labels and all(captions[lb] in student for lb in labels)
    assert "Solution to" in full and "Solution to" not in student


def test_a_table_taller_than_a_page_after_a_heading_leaves_no_blank_page() -> None:
    """The blank page that book.pdf had before the claims chapter's summary table, on a made-up page.

    The themes' print rules keep every table whole and a heading with what follows it; a table taller
    than a page after a heading at the foot of a page then left the next page blank (Chromium 156).
    The page is printed with the intro ending at several heights near the foot of the first page,
    with those rules alone (which must leave a blank page somewhere, or this test could not fail) and
    with tools/pdf.py's print CSS added (which must leave none).
    """
    import io

    from pypdf import PdfReader

    import pdf
    from local_site import CHROMIUM_FLAGS

    chromium = chromium_path()
    if chromium is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but chromium is missing")
        pytest.skip("SKIPPED: it needs Debian's chromium")
    from playwright.sync_api import sync_playwright

    # sphinx-book-theme's print rules (headings, tables) and the rows kept whole
    theme = "h2, h3 { break-after: avoid; } table { break-inside: avoid; } tr { break-inside: avoid; }"
    rows = "".join(f"<tr><td>{i}</td><td>{'a claim in a few words ' * 3}</td><td>{'a verdict ' * 6}</td></tr>"
                   for i in range(40))

    def blank_pages(css: str) -> dict[int, list[int]]:
        found = {}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": pdf.COLUMN_PX, "height": pdf.PAGE_PX})
            page.emulate_media(media="print")
            for intro_px in range(900, 1000, 8):
                page.set_content(
                    f"<html><head><style>body {{ margin: 0; font: 16px/1.5 sans-serif; }} {css}</style></head>"
                    f"<body><section><h2>Chapter</h2><p style='height:{intro_px}px'>introduction</p><section>"
                    f"<span id='label'></span><h3>Summary</h3><table><tbody>{rows}</tbody></table><p>after</p>"
                    "</section></section></body></html>")
                data = page.pdf(format="A4", margin={"top": "15mm", "bottom": "18mm", "left": "14mm", "right": "14mm"})
                pages = PdfReader(io.BytesIO(data)).pages
                empty = [i + 1 for i, p in enumerate(pages) if not (p.extract_text() or "").strip()]
                if empty:
                    found[intro_px] = empty
            browser.close()
        return found

    assert blank_pages(theme), "the made-up page no longer has a blank page without the fix: rebuild this test"
    assert blank_pages(theme + pdf.PRINT_CSS) == {}
