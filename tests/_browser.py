"""Load every page of a built site in headless Chromium and report what a reader would see go wrong.

Used by tests/test_book.py; also runnable by hand: `python tests/_browser.py _build/html`.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from local_site import chromium_on_site, chromium_path, is_local  # noqa: E402,F401  (chromium_path: for test_book)

SKIP_DIRS = {"_static", "_sources", "_images", "reports"}



def html_pages(html: Path) -> list[Path]:
    return sorted(p for p in html.rglob("*.html") if not SKIP_DIRS.intersection(p.relative_to(html).parts))


PHONE = {"width": 400, "height": 860}
DESKTOP = {"width": 1280, "height": 900}
SEARCH_TERMS = ("Jacobian", "Popoviciu", "separability")


@dataclass
class SiteReport:
    pages: int = 0
    math_pages: int = 0
    rendered_math: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    downloads: int = 0
    dark_images: int = 0
    search_hits: dict[str, int] = field(default_factory=dict)




def browse_site(html: Path, screenshots: Path, chromium: str) -> SiteReport:
    """Serve `html` on 127.0.0.1, open every page, typeset math, screenshot, collect problems."""
    shutil.rmtree(screenshots, ignore_errors=True)  # only this run's screenshots
    screenshots.mkdir(parents=True)
    report = SiteReport()
    with chromium_on_site(html, chromium, viewport=DESKTOP) as (context, base):
        for path in html_pages(html):
            _visit(context, base, html, path, screenshots, report)  # desktop, dark mode, then phone width
        _search(context, base, report)
        favicon = context.request.get(f"{base}/favicon.ico")
        if favicon.status != 200:
            report.problems.append(f"/favicon.ico: HTTP {favicon.status}")
    return report


def _visit(context, base: str, html: Path, path: Path, screenshots: Path, report: SiteReport) -> None:
    rel = path.relative_to(html).as_posix()
    events: list[str] = []
    page = context.new_page()
    page.on("request", lambda r: None if is_local(r.url) else events.append(f"{rel}: request left 127.0.0.1: {r.url}"))
    page.on("console", lambda m: events.append(f"{rel}: console error: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: events.append(f"{rel}: page error: {e}"))
    page.on("response", lambda r: events.append(f"{rel}: HTTP {r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{base}/{rel}", wait_until="load", timeout=60_000)
    source = path.read_text(encoding="utf-8")
    if 'http-equiv="refresh"' in source.lower():  # index.html redirects to the first page: follow it
        page.wait_for_url(lambda url: not url.endswith("/" + rel), timeout=30_000)
        page.wait_for_load_state("load")
    if page.locator(".math").count() > 0:
        report.math_pages += 1
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
        page.evaluate("() => MathJax.startup.promise")
        rendered = page.locator("mjx-container").count()
        report.rendered_math[rel] = rendered
        if rendered == 0:
            events.append(f"{rel}: the page has math but MathJax rendered none")
        errors = page.locator("mjx-merror").count()
        if errors:
            events.append(f"{rel}: {errors} TeX error(s) (mjx-merror)")
    broken = page.evaluate(
        "() => Array.from(document.images).filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)"
    )
    events.extend(f"{rel}: broken image {src}" for src in broken)
    for href in page.eval_on_selector_all("a.sce-download", "els => els.map(e => e.href)"):
        response = context.request.get(href)
        body = response.body() if response.ok else b""
        if not response.ok or len(body) < 1000:
            events.append(f"{rel}: download {href}: HTTP {response.status}, {len(body)} bytes")
        elif href.endswith(".ipynb") and b'"nbformat"' not in body:
            events.append(f"{rel}: download {href} is not a notebook")
        report.downloads += 1
    if rel.startswith("book/0") and page.locator("a.sce-download").count() != 2:
        events.append(f"{rel}: a chapter page without its two download links")
    (screenshots / "desktop").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshots / "desktop" / _shot_name(rel)), full_page=True, type="jpeg", quality=85)
    if "<img" in source:
        _dark_mode(page, rel, report, reload=report.dark_images == 0)
    _phone_width(page, rel, screenshots, report)
    page.close()
    report.pages += 1
    report.problems.extend(events)


def _shot_name(rel: str) -> str:
    return rel.replace("/", "__").removesuffix(".html") + ".jpg"


def _phone_width(page, rel: str, screenshots: Path, report: SiteReport) -> None:
    """At a phone's width no page may scroll sideways (wide code, tables and equations scroll in
    their own boxes). The page loaded at desktop width is narrowed: the theme and MathJax re-lay it out."""
    page.set_viewport_size(PHONE)  # then two frames: the theme's layout at the new width has been drawn
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 1:
        culprits = page.evaluate(
            """() => Array.from(document.querySelectorAll('body *')).filter(e => {
                   const r = e.getBoundingClientRect();
                   return r.right > document.documentElement.clientWidth + 1 && r.width > 0; })
               .slice(0, 3).map(e => e.tagName + '.' + e.className)"""
        )
        report.problems.append(f"{rel}: at {PHONE['width']} px the page scrolls sideways by {overflow} px ({culprits})")
    (screenshots / "phone").mkdir(parents=True, exist_ok=True)  # the first screen (the whole page: desktop/)
    page.screenshot(path=str(screenshots / "phone" / _shot_name(rel)), type="jpeg", quality=85)


# A figure stays readable in dark mode if its pixels are opaque (matplotlib's white background) or
# the theme puts a light background behind it: sample the image's own alpha, and the colour behind it.
_DARK_CHECK = """async () => {
  const out = [];
  for (const img of document.querySelectorAll('.cell_output img, figure img')) {
    if (!img.complete || img.naturalWidth === 0) continue;
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let transparent = 0, n = 0;
    for (let i = 3; i < d.length; i += 4 * 97) { n++; if (d[i] < 250) transparent++; }
    let bg = getComputedStyle(img).backgroundColor;
    out.push({src: img.src, transparentShare: transparent / n, background: bg});
  }
  return out;
}"""


def _light(css_colour: str) -> bool:
    nums = [float(v) for v in css_colour[css_colour.index("(") + 1:-1].split(",")] if "(" in css_colour else []
    if len(nums) < 3 or (len(nums) == 4 and nums[3] < 0.9):
        return False
    return 0.299 * nums[0] + 0.587 * nums[1] + 0.114 * nums[2] > 180


def _switch_mode(page, theme: str) -> bool:
    """Click the theme's own switch (light -> dark -> auto, as a reader would) until data-theme is `theme`."""
    for _ in range(3):
        if page.evaluate("() => document.documentElement.dataset.theme") == theme:
            return True
        page.evaluate("() => document.querySelector('.theme-switch-button').click()")
    return page.evaluate("() => document.documentElement.dataset.theme") == theme


def _dark_mode(page, rel: str, report: SiteReport, *, reload: bool) -> None:
    """Switch the loaded page to dark mode with the theme's button and check every figure in it; on the
    first page with figures, also that the choice survives a reload (the theme keeps it in localStorage).
    The page is switched back to light mode (localStorage outlives the page: the next visits are light)."""
    if not _switch_mode(page, "dark"):
        report.problems.append(f"{rel}: dark mode could not be switched on with the theme's button")
        return
    if reload:
        page.reload(wait_until="load", timeout=60_000)
        theme = page.evaluate("() => document.documentElement.dataset.theme")
        if theme != "dark":
            report.problems.append(f"{rel}: dark mode was lost on reloading the page (data-theme={theme!r})")
    for image in page.evaluate(_DARK_CHECK):
        report.dark_images += 1
        if image["transparentShare"] > 0.01 and not _light(image["background"]):
            report.problems.append(f"{rel}: in dark mode {image['src']} is transparent on a dark background")
    if not _switch_mode(page, "light"):
        report.problems.append(f"{rel}: light mode could not be switched back on with the theme's button")


def _search(context, base: str, report: SiteReport) -> None:
    """The built-in search (Sphinx's index, in the page's JavaScript) finds a few terms of the book."""
    page = context.new_page()
    for term in SEARCH_TERMS:
        page.goto(f"{base}/search.html?q={term}", wait_until="load", timeout=60_000)
        try:
            page.wait_for_function("() => document.querySelectorAll('#search-results ul.search li').length > 0",
                                   timeout=30_000)
        except Exception:  # noqa: BLE001 - reported as a problem with the term, below
            pass
        hits = page.locator("#search-results ul.search li").count()
        report.search_hits[term] = hits
        if hits == 0:
            report.problems.append(f"search.html: no result for {term!r}")
    page.close()


if __name__ == "__main__":
    site = Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html")
    shots = Path(sys.argv[2] if len(sys.argv) > 2 else "_build/screenshots")
    browser = chromium_path()
    if browser is None:
        sys.exit("chromium not found")
    result = browse_site(site, shots, browser)
    print(f"{result.pages} pages, {result.math_pages} with math: {result.rendered_math}")
    print(f"downloads {result.downloads}, dark-mode images {result.dark_images}, search {result.search_hits}")
    print("\n".join(result.problems) or "no problems")
    sys.exit(1 if result.problems else 0)
