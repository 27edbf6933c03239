"""Load every page of a built site in headless Chromium and report what a reader would see go wrong.

Used by tests/test_book.py; also runnable by hand: `python tests/_browser.py _build/html`.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

# The flags the guide asks for: no background traffic, a fresh profile, no sandbox (root in CI).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SKIP_DIRS = {"_static", "_sources", "_images", "reports"}


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def html_pages(html: Path) -> list[Path]:
    return sorted(p for p in html.rglob("*.html") if not SKIP_DIRS.intersection(p.relative_to(html).parts))


@dataclass
class SiteReport:
    pages: int = 0
    math_pages: int = 0
    rendered_math: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def _is_local(url: str) -> bool:
    if url.startswith(("data:", "blob:", "about:")):
        return True
    return urlparse(url).hostname == "127.0.0.1"


def browse_site(html: Path, screenshots: Path, chromium: str) -> SiteReport:
    """Serve `html` on 127.0.0.1, open every page, typeset math, screenshot, collect problems."""
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    screenshots.mkdir(parents=True, exist_ok=True)
    report = SiteReport()
    profile = tempfile.mkdtemp(prefix="sce-chromium-")  # a fresh --user-data-dir every run
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=chromium, headless=True, args=CHROMIUM_FLAGS,
                viewport={"width": 1280, "height": 900},
            )
            # Any request for another host is recorded and refused, so nothing can leave the machine.
            context.route("**/*", lambda route, req: route.continue_() if _is_local(req.url) else route.abort())
            try:
                for path in html_pages(html):
                    _visit(context, base, html, path, screenshots, report)
            finally:
                context.close()
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(profile, ignore_errors=True)
    return report


def _visit(context, base: str, html: Path, path: Path, screenshots: Path, report: SiteReport) -> None:
    rel = path.relative_to(html).as_posix()
    events: list[str] = []
    page = context.new_page()
    page.on("request", lambda r: None if _is_local(r.url) else events.append(f"{rel}: request left 127.0.0.1: {r.url}"))
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
    page.screenshot(path=str(screenshots / (rel.replace("/", "__").removesuffix(".html") + ".png")), full_page=True)
    page.close()
    report.pages += 1
    report.problems.extend(events)


if __name__ == "__main__":
    site = Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html")
    shots = Path(sys.argv[2] if len(sys.argv) > 2 else "_build/screenshots")
    browser = chromium_path()
    if browser is None:
        sys.exit("chromium not found")
    result = browse_site(site, shots, browser)
    print(f"{result.pages} pages, {result.math_pages} with math: {result.rendered_math}")
    print("\n".join(result.problems) or "no problems")
    sys.exit(1 if result.problems else 0)
