"""Paths shared by the tests that look at the book (not at the library)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
BUILD = ROOT / "_build"
HTML = BUILD / "html"
SCREENSHOTS = BUILD / "screenshots"


def is_notebook(path: Path) -> bool:
    """A MyST notebook carries a jupytext header with a kernelspec."""
    head = path.read_text(encoding="utf-8")[:3000]
    return head.startswith("---") and "kernelspec:" in head


def book_sources() -> list[Path]:
    return sorted(p for p in BOOK.rglob("*.md") if "_build" not in p.parts)


def chapters() -> list[Path]:
    """Every executable page of the book (chapters and the status page)."""
    return [p for p in book_sources() if is_notebook(p)]
