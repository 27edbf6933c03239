"""The whole book, built as CI builds it, then read by a real browser.

1. The strict build: every chapter re-executed (the execution cache is dropped, because it does not
   notice changes in sce_lib), warnings are errors (`-W -n --keep-going`).
2. The built site: MathJax is served from the site itself, never from a CDN.
3. Headless Chromium (Debian's package, driven by Playwright) loads every page from a server on
   127.0.0.1 and asserts that math was typeset, that no request left 127.0.0.1, that no page logged a
   console error and that no image is broken. A screenshot of each page goes to _build/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from _paths import BUILD, HTML, ROOT, SCREENSHOTS

pytestmark = [pytest.mark.build, pytest.mark.xdist_group("book")]

JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
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


@pytest.fixture(scope="module")
def strict_build() -> subprocess.CompletedProcess:
    shutil.rmtree(BUILD / ".jupyter_cache", ignore_errors=True)
    proc = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(ROOT), "--all", "-W", "-n", "--keep-going"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    BUILD.mkdir(exist_ok=True)
    (BUILD / "strict-build.log").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr, encoding="utf-8")
    return proc


def _html_pages() -> list[Path]:
    skip = {"_static", "_sources", "_images", "reports"}
    return sorted(p for p in HTML.rglob("*.html") if not skip.intersection(p.relative_to(HTML).parts))


def test_strict_build_succeeds(strict_build) -> None:
    out = strict_build.stdout + strict_build.stderr
    tail = "\n".join(out.splitlines()[-60:])
    assert strict_build.returncode == 0, f"strict book build failed (log: _build/strict-build.log):\n{tail}"
    warnings = [line for line in out.splitlines() if re.search(r"\bWARNING\b", line)]
    assert warnings == [], "the strict build printed warnings:\n" + "\n".join(warnings)
    assert (HTML / "book" / "intro.html").is_file()


def test_site_serves_mathjax_locally(strict_build) -> None:
    assert strict_build.returncode == 0
    assert (HTML / "_static" / "mathjax" / "tex-mml-chtml.js").is_file(), "MathJax was not copied into the site"
    pages = _html_pages()
    assert pages, "no HTML pages were built"
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for src in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', text):
            if src.startswith(("http://", "https://", "//")):
                # Links a reader may click are fine; resources the page loads itself are not.
                pytest.fail(f"{page.relative_to(HTML)} loads a remote resource: {src}")
        if "mathjax" in text.lower():
            assert "_static/mathjax/tex-mml-chtml.js" in text, f"{page.relative_to(HTML)}: MathJax not local"


def test_status_page_has_execution_table(strict_build) -> None:
    assert strict_build.returncode == 0
    status = (HTML / "book" / "status.html").read_text(encoding="utf-8")
    chapters = re.findall(r"<td[^>]*>\s*<a[^>]*>([^<]+)</a>", status)
    assert chapters, "the status page has no per-chapter execution table"
    assert "torch" in status and "2.13.0" in status


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest's output readable
        pass


@pytest.mark.browser
def test_every_page_renders_offline_in_chromium(strict_build) -> None:
    assert strict_build.returncode == 0, "the site was not built"
    chromium = _chromium()
    if chromium is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but Debian's chromium is not installed (make test installs it with apt-get)")
        pytest.skip("SKIPPED THE BROWSER TEST: chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    math_pages = 0
    profile = BUILD / "chromium-profile"
    shutil.rmtree(profile, ignore_errors=True)
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(profile), executable_path=chromium, headless=True, args=CHROMIUM_FLAGS,
                viewport={"width": 1280, "height": 900},
            )
            try:
                for path in _html_pages():
                    rel = path.relative_to(HTML).as_posix()
                    page = context.new_page()
                    events: list[str] = []

                    def on_request(request, rel=rel, events=events):
                        host = urlparse(request.url).hostname
                        if request.url.startswith(("data:", "blob:", "about:")):
                            return
                        if host != "127.0.0.1":
                            events.append(f"{rel}: request left 127.0.0.1: {request.url}")

                    def route(route_, request):
                        host = urlparse(request.url).hostname
                        if host not in (None, "127.0.0.1") and not request.url.startswith(("data:", "blob:")):
                            route_.abort()
                        else:
                            route_.continue_()

                    page.route("**/*", route)
                    page.on("request", on_request)
                    page.on("console", lambda m, rel=rel, events=events: m.type == "error" and events.append(f"{rel}: console error: {m.text}"))
                    page.on("pageerror", lambda e, rel=rel, events=events: events.append(f"{rel}: page error: {e}"))
                    page.on("requestfailed", lambda r, rel=rel, events=events: events.append(f"{rel}: request failed: {r.url}"))
                    page.on("response", lambda r, rel=rel, events=events: r.status >= 400 and events.append(f"{rel}: HTTP {r.status} for {r.url}"))
                    page.goto(f"{base}/{rel}", wait_until="load", timeout=60_000)
                    html = path.read_text(encoding="utf-8")
                    has_math = 'class="math' in html or "math notranslate" in html
                    if has_math:
                        math_pages += 1
                        page.wait_for_function(
                            "() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000
                        )
                        page.evaluate("() => MathJax.startup.promise")
                        rendered = page.locator("mjx-container").count()
                        errors = page.locator("mjx-merror").count()
                        if rendered == 0:
                            events.append(f"{rel}: page has math but MathJax rendered none")
                        if errors:
                            events.append(f"{rel}: {errors} MathJax TeX error(s) (mjx-merror)")
                    broken = page.evaluate(
                        "() => Array.from(document.images).filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)"
                    )
                    events.extend(f"{rel}: broken image {src}" for src in broken)
                    shot = SCREENSHOTS / (rel.replace("/", "__").removesuffix(".html") + ".png")
                    page.screenshot(path=str(shot), full_page=True)
                    page.close()
                    problems.extend(events)
            finally:
                context.close()
    finally:
        server.shutdown()
        server.server_close()
    assert math_pages >= 1, "no page with math was found: the math check checked nothing"
    assert problems == [], "browser check failed:\n" + "\n".join(problems)
