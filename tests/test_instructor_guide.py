"""The instructor guide's data and numbers (tools/instructor_guide.py, book/exercises/catalogue.yml).

The guide's cell asserts the same agreement when it is executed; these tests check it without
executing the guide, show that the check can fail, test the chapter numbering on a small table of
contents, and, where a site has been built, compare the guide's chapter numbers and its plan tables
with what the site shows.
"""

from __future__ import annotations

import copy
import os
import re
import sys

import pytest
from bs4 import BeautifulSoup

from _paths import BUILD, HTML, ROOT, wait_for_build

sys.path.insert(0, str(ROOT / "tools"))
import instructor_guide as ig  # noqa: E402


@pytest.fixture(scope="module")
def book() -> list[ig.Chapter]:
    return ig.chapters()


def test_catalogue_matches_the_chapters(book) -> None:
    catalogue = ig.read_catalogue()
    assert ig.problems(catalogue, book, ig.section_labels()) == []
    assert sum(len(ch.exercises) for ch in book) == len(catalogue["exercises"])


def test_the_check_finds_each_kind_of_mismatch(book) -> None:
    """Each way the catalogue can drift from the chapters is reported (the guide's assert can fail)."""
    good = ig.read_catalogue()
    labels = ig.section_labels()
    cases = {
        "no entry in the catalogue": lambda c: c["exercises"].pop("sm-ex-sigmoid"),
        "which no chapter has": lambda c: c["exercises"].__setitem__("sm-ex-gone", {"time": 15, "serves": [1]}),
        "has objectives 1 to 5": lambda c: c["exercises"]["sm-ex-bfloat16"].__setitem__("serves", [6]),
        "is not a whole number of minutes": lambda c: c["exercises"]["cl-ex-5"].__setitem__("time", 45),
        "which is not an objective of the book": lambda c: c["exercises"]["cl-ex-5"].__setitem__(
            "also", {"02-cross-entropy": [8]}),
        "short forms": lambda c: c["objectives"]["07-claims"].pop(),
        "must be a string": lambda c: c["objectives"]["07-claims"].__setitem__(1, {"why": "a proof"}),
        "not a label of the book": lambda c: c["plans"]["two-week"]["sessions"][0]["read"].append("sm-sec-nowhere"),
        "which is not an exercise": lambda c: c["plans"]["one-week"]["sessions"][0]["exercises"].append("sm-ex-nowhere"),
    }
    for message, change in cases.items():
        broken = copy.deepcopy(good)
        change(broken)
        found = ig.problems(broken, book, labels)
        assert len(found) == 1 and message in found[0], (message, found)


def test_every_objective_index_is_served_or_named(book) -> None:
    """The served table covers every objective of every chapter with an objectives list."""
    table = ig.served(ig.read_catalogue(), book)
    for ch in book:
        if ch.objectives_of == ch.doc:
            assert sorted(table[ig.stem(ch.doc)]) == list(range(1, len(ch.objectives) + 1))


def test_chapter_numbers_follow_the_toc(tmp_path) -> None:
    """Chapters of numbered parts count on across parts; a section page comes after its chapter's
    level-2 headings (fenced ``## `` lines are not headings); unnumbered parts are not numbered."""
    (tmp_path / "book").mkdir()
    pages = {
        "intro": "# Intro\n",
        "a": "# A\n\n## One\n",
        "b": "# B\n\n## One\n\n```{code-cell} ipython3\n## a comment\n```\n\n````{note}\n```python\n## x\n```\n````\n\n## Two\n",
        "b-app": "# B appendix\n\n## Inside\n",
        "c": "# C\n",
        "about": "# About\n",
    }
    for name, text in pages.items():
        (tmp_path / "book" / f"{name}.md").write_text(text, encoding="utf-8")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n"
        "  - caption: P1\n    numbered: true\n    chapters:\n      - file: book/a\n"
        "  - caption: P2\n    numbered: true\n    chapters:\n      - file: book/b\n        sections:\n"
        "          - file: book/b-app\n      - file: book/c\n"
        "  - caption: About\n    chapters:\n      - file: book/about\n", encoding="utf-8")
    assert ig.chapter_numbers(tmp_path) == {"book/a": "1", "book/b": "2", "book/b-app": "2.3", "book/c": "3"}
    assert ig.level2_headings(pages["b"]) == 2


def _site_or_skip() -> None:
    wait_for_build()
    if not (HTML / "book" / "instructor-guide.html").is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("no built site in _build/html (make book)")
        pytest.skip("SKIPPED: compares with the built site; run `make book` first")


def _text(el) -> str:
    return re.sub(r"\s+", " ", el.get_text(" ", strip=True).replace("#", "")).strip()


def _page(doc: str) -> BeautifulSoup:
    return BeautifulSoup((HTML / f"{doc}.html").read_text(encoding="utf-8"), "html.parser")


@pytest.mark.build
def test_guide_numbers_are_the_sites() -> None:
    """Each chapter heading of the built guide reads as the chapter page's own title, number included."""
    _site_or_skip()
    numbers = ig.chapter_numbers()
    titles = {}
    for doc, number in numbers.items():
        h1 = _page(doc).find("article").find("h1")
        shown = _text(h1.find("span", class_="section-number"))
        assert shown == f"{number}.", f"{doc}: the site numbers it {shown!r}, _toc.yml gives {number!r}"
        titles[doc] = _text(h1)
    guide = _page("book/instructor-guide").find("article")
    headings = [_text(h) for h in guide.find_all("h3")]
    assert headings == list(titles.values())


@pytest.mark.build
def test_plans_render_as_tables() -> None:
    """Both plans are tables on the site: five and ten sessions, each a row with a reading and exercises."""
    _site_or_skip()
    guide = _page("book/instructor-guide").find("article")
    plans = [t for t in guide.find_all("table") if "read before" in _text(t.find("thead"))]
    rows = [t.find("tbody").find_all("tr") for t in plans]
    assert [len(r) for r in rows] == [5, 10]
    for row in (r for table in rows for r in table):
        read, exercises = row.find_all("td")[2], row.find_all("td")[3]
        assert read.find("a", class_="reference internal"), _text(row)
        assert re.search(r"Exercise \d+\.\d+", _text(exercises)), _text(row)
    assert BUILD.is_dir()
