"""A built site served on 127.0.0.1 and opened in Debian's headless Chromium (through Playwright).

Shared by ``tools/pdf.py`` (``make pdf``) and the browser test (``tests/_browser.py``): the same
flags, a fresh profile every time, and every request for another host refused, so nothing leaves
the machine.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

# No background traffic, a fresh profile, no sandbox (root in CI).
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


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def is_local(url: str) -> bool:
    if url.startswith(("data:", "blob:", "about:")):
        return True
    return urlparse(url).hostname == "127.0.0.1"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def chromium_on_site(site: Path, chromium: str, **context_options: Any) -> Iterator[tuple[Any, str]]:
    """Serve ``site`` on 127.0.0.1 and yield (a Playwright browser context, the site's base URL).

    ``context_options`` go to ``launch_persistent_context`` (e.g. ``viewport``).
    """
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = tempfile.mkdtemp(prefix="sce-chromium-")  # a fresh --user-data-dir every time
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(profile, executable_path=chromium, headless=True,
                                                            args=CHROMIUM_FLAGS, **context_options)
            context.route("**/*", lambda route, req: route.continue_() if is_local(req.url) else route.abort())
            try:
                yield context, f"http://127.0.0.1:{server.server_address[1]}"
            finally:
                context.close()
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(profile, ignore_errors=True)
