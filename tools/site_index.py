"""What the built site shows for each label: numbers and reference texts, read from its HTML.

The reader notebooks (``tools/reader_notebooks.py``) print "Theorem 6.1", "(6.7)", "6.3. Assumptions"
and "[Bishop, 2006]" exactly as the site does. Those numbers are Sphinx's (sphinx-proof,
sphinx-exercise, ``math_numfig``, the table of contents, sphinxcontrib-bibtex); rather than compute
them a second time, this module reads them from the pages ``make book`` wrote:

* every numbered box's caption (``span.caption-number`` under an element with the label as its id);
* every numbered equation (``div.math#equation-<label>`` and its ``span.eqno``);
* every section's number and title, per page, in order, and the labels that point at it;
* every cross-reference's text as rendered (``a.reference.internal``), keyed by its target;
* every citation's text, per page, in order, and each bibliography entry (``references.html``).

``SiteIndex.read(html_dir)`` needs the site's HTML only (no Sphinx import, no pickled environment).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag


def markdown_of(el: Tag | NavigableString) -> str:
    """The Markdown for an HTML fragment of the site: text, emphasis, code and ``\\(…\\)`` math."""
    if isinstance(el, NavigableString):
        return str(el)
    if "headerlink" in (el.get("class") or []):
        return ""
    inner = "".join(markdown_of(c) for c in el.children)
    if el.name in ("em", "i"):
        return f"*{inner}*"
    if el.name in ("strong", "b"):
        return f"**{inner}**"
    if el.name == "code":
        return f"`{el.get_text()}`"
    if el.name == "span" and "math" in (el.get("class") or []):
        text = el.get_text()
        return "$" + text.removeprefix("\\(").removesuffix("\\)") + "$"
    return inner


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class SiteIndex:
    captions: dict[str, str] = field(default_factory=dict)      # label -> "Theorem 6.1"
    equations: dict[str, str] = field(default_factory=dict)     # label (lower case) -> "6.7"
    sections: dict[str, tuple[str, str]] = field(default_factory=dict)   # label -> (number, title)
    headings: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # doc -> [(number, title)]
    links: dict[tuple[str, str], str] = field(default_factory=dict)      # (kind, target id) -> text
    doc_of: dict[str, str] = field(default_factory=dict)        # label -> docname of its page
    cites: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)  # doc -> [(text, [entry ids])]
    bibliography: dict[str, str] = field(default_factory=dict)  # entry id -> the entry, as Markdown
    chapters: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, html: Path, chapters: list[str]) -> SiteIndex:
        """Index the built site ``html`` (``_build/html``); ``chapters`` are the numbered docnames."""
        index = cls(chapters=set(chapters))
        for page in sorted(html.joinpath("book").glob("*.html")):
            doc = f"book/{page.stem}"
            soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
            article = soup.find("article") or soup
            index._read_page(doc, article)
            if page.stem == "references":
                for entry in article.select("div.citation[id]"):
                    index.bibliography[entry["id"]] = _clean(markdown_of(entry.find("p")))
        missing = [c for c in chapters if c not in index.headings]
        if missing:
            raise FileNotFoundError(f"chapters missing from the built site {html}: {missing} (run make book)")
        return index

    def _read_page(self, doc: str, article: Tag) -> None:
        for number in article.select("span.caption-number"):
            box = number.find_parent(id=True)
            if box is not None:
                self.captions[box["id"]] = _clean(number.get_text())
                self.doc_of.setdefault(box["id"], doc)
        for math in article.select("div.math[id^=equation-]"):
            eqno = math.find("span", class_="eqno")
            if eqno is not None:
                label = math["id"].removeprefix("equation-")
                self.equations[label] = _clean(eqno.get_text().replace("#", "")).strip("()")
                self.doc_of.setdefault(label, doc)
        heads = []
        for section in article.find_all("section", id=True):
            head = section.find(re.compile(r"^h[1-6]$"), recursive=False)
            if head is None:
                continue
            num = head.find("span", class_="section-number")
            number = _clean(num.get_text()) if num else ""
            title = _clean("".join(markdown_of(c) for c in head.children if c is not num))
            heads.append((number, title))
            for target in [section["id"], *(s["id"] for s in section.find_all("span", id=True, recursive=False))]:
                self.sections[target.lower()] = (number, title)
                self.doc_of.setdefault(target.lower(), doc)
        self.headings[doc] = heads
        for a in article.select("a.reference.internal[href]"):
            target = a["href"].split("#", 1)[1] if "#" in a["href"] else ""
            span = a.find("span", class_=["std", "doc"])
            classes = span.get("class") if span else []
            kind = "std-doc" if "doc" in classes else next((c for c in classes if c.startswith("std-")), "plain")
            if target and a.find_parent("span", class_="bibtex-citation") is None \
                    and a.find_parent("p", class_="admonition-title") is None:
                self.links.setdefault((kind, target.lower()), _clean(markdown_of(a)))
            if kind == "std-doc":
                self.links.setdefault((kind, a["href"].split("#")[0]), _clean(markdown_of(a)))
        self.cites[doc] = [
            (_clean(markdown_of(c)), [a["href"].split("#", 1)[1] for a in c.select("a[href*='#']")])
            for c in article.select("span.bibtex-citation")
        ]

    # --- what a reference shows ------------------------------------------------------------------

    def caption(self, doc: str, label: str | None, kind: str) -> str:
        """The numbered caption of the box ``label`` ("Theorem 6.1")."""
        if label is None:
            raise ValueError(f"{doc}: an unlabelled {kind} has no number to read from the site; give it a :label:")
        if label not in self.captions:
            raise KeyError(f"{doc}: the site has no numbered box {label!r} (is the build older than the source?)")
        return self.captions[label]

    def exercise_text(self, label: str) -> str:
        return self.captions[label]

    def equation(self, label: str) -> str:
        try:
            return self.equations[label.lower()]
        except KeyError:
            raise KeyError(f"the site has no numbered equation {label!r} (is the build older than the source?)") from None

    def section_number(self, doc: str, i: int, title: str) -> str:
        """The number of the ``i``-th heading of ``doc`` (the same heading in the same order on the site)."""
        heads = self.headings.get(doc, [])
        if i >= len(heads):
            raise ValueError(f"{doc}: heading {title!r} is not on the site (is the build older than the source?)")
        return heads[i][0]

    def is_chapter(self, doc: str) -> bool:
        return doc in self.chapters

    def reference(self, role: str, target: str, doc: str) -> tuple[str, str | None]:
        """(the text the site shows for ``{role}`target` ``, the docname of the page it points to)."""
        label = target.lower()
        if role == "eq":
            return f"({self.equation(target)})", self.doc_of.get(label)
        if role == "doc":
            page = (Path(doc).parent / target).as_posix() if not target.startswith("/") else target.lstrip("/")
            name = f"{Path(page).name}.html"
            text = self.links.get(("std-doc", name))
            if text is None:
                raise KeyError(f"{doc}: the site shows no link to the page {target!r}")
            return text, page
        kinds = {"ref": ("std-ref", "std-numref"), "numref": ("std-numref",)}.get(role, ("plain",))
        text = next((self.links[(k, label)] for k in kinds if (k, label) in self.links), None)
        if text is None and role in ("prf:ref", "numref") and target in self.captions:
            text = self.captions[target]
        if text is None and role == "ref" and label in self.sections:
            text = self.sections[label][1]
        if text is None:
            raise KeyError(f"{doc}: the site shows nothing for {{{role}}}`{target}`")
        return text, self.doc_of.get(label) or self.doc_of.get(target)

    def cite(self, doc: str, i: int) -> tuple[str, list[str]]:
        """The ``i``-th citation of ``doc``'s page: its text and its bibliography entry ids."""
        cites = self.cites.get(doc, [])
        if i >= len(cites):
            raise ValueError(f"{doc}: more citations in the source than on the site (is the build older than the source?)")
        return cites[i]
