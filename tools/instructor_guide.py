"""The instructor guide's tables (book/instructor-guide.md), from the chapters and one data file.

The guide's code cells call this module; tests/test_instructor_guide.py checks the same things
without executing the guide. It knows three things:

* **the numbers the site gives the chapters** (``chapter_numbers``). The guide is executed before
  the site exists, so they are derived from ``_toc.yml`` as Sphinx numbers them: the chapters of the
  numbered parts are 1, 2, 3, … in order, across parts; a section page of chapter n (the appendix)
  is numbered after the chapter's own level-2 headings, because Jupyter Book puts the chapter's
  toctree at the end of its page: with h headings, its i-th section page is n.(h + i). The test
  compares these with the built site's page titles wherever a site has been built.
* **each chapter's learning objectives** (``objectives``: the bullet list after "Learning
  objectives", in order, numbered from 1) and its exercises (``student_edition.exercises``, the
  parser ``make student`` uses);
* **the catalogue** ``book/exercises/catalogue.yml``: a short form of every objective, and for every
  exercise its estimated time and the objectives it serves; the two suggested plans. ``problems``
  lists everything in it that does not match the chapters (an exercise missing or extra, an
  objective index out of range, a time outside its difficulty's band, a plan citing a label that is
  not there); the guide's cell asserts that the list is empty.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reader_notebooks import numbered_entries  # noqa: E402
from student_edition import Exercise, exercises  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "book" / "exercises" / "catalogue.yml"
# The estimated minutes an exercise may take, by difficulty (★, ★★, ★★★): the guide states the rule
# and the catalogue's times must keep to it.
TIME_BANDS = {1: (10, 30), 2: (20, 60), 3: (45, 120)}

_FENCE = re.compile(r"^(`{3,}|~{3,})")
_LABEL = re.compile(r"^\(([\w-]+)\)=\s*$", re.M)


def level2_headings(text: str) -> int:
    """The number of ``## `` headings of a MyST source outside fenced blocks (code cells, directives)."""
    count, fence = 0, None
    for line in text.splitlines():
        m = _FENCE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)
            elif line.startswith("## "):
                count += 1
        elif m and line.strip() == fence[0] * len(m.group(1)) and len(m.group(1)) >= len(fence):
            fence = None
    return count


def chapter_numbers(root: Path = ROOT) -> dict[str, str]:
    """{docname: the number the site shows in its title ("1", "7.22")} for the numbered parts of ``_toc.yml``:
    a section page is numbered after its chapter's own level-2 headings."""
    numbers: dict[str, str] = {}
    sections_so_far: dict[str, int] = {}
    for doc, n, above in numbered_entries(root):
        if not above:
            numbers[doc] = str(n)
            sections_so_far[doc] = level2_headings((root / f"{doc}.md").read_text(encoding="utf-8"))
            continue
        if len(above) > 1:
            raise ValueError(f"_toc.yml: {above[-1]} has sections of its own; chapter_numbers "
                             "numbers one level of section pages only")
        sections_so_far[above[0]] += 1
        numbers[doc] = f"{n}.{sections_so_far[above[0]]}"
    return numbers


def parent_chapters(root: Path = ROOT) -> dict[str, str]:
    """{docname of a section page: docname of its chapter} (the appendix belongs to chapter 06's page)."""
    return {doc: above[0] for doc, _, above in numbered_entries(root) if above}


def objectives(source: str) -> list[str]:
    """The bullet list that follows a chapter's "Learning objectives" line ([] where there is none)."""
    if "Learning objectives" not in source:
        return []
    block = source[source.index("Learning objectives"):]
    items: list[str] = []
    for line in block.splitlines()[1:]:
        if line.startswith("* "):
            items.append(line[2:].strip())
        elif items and line.startswith("  ") and line.strip():
            items[-1] += " " + line.strip()
        elif items and not line.strip():
            break
    return items


def section_labels(root: Path = ROOT) -> set[str]:
    """Every ``(label)=`` target of the book's sources (what ``{ref}`` may point to)."""
    return {m for p in (root / "book").glob("*.md") for m in _LABEL.findall(p.read_text(encoding="utf-8"))}


@dataclass(frozen=True)
class Chapter:
    doc: str                 # "book/06-separability"
    number: str              # "7" (as the site shows it)
    objectives: list[str]    # the chapter's list (its parent's for a section page)
    objectives_of: str       # the docname whose list that is
    exercises: list[Exercise]


def chapters(root: Path = ROOT) -> list[Chapter]:
    """Every numbered chapter and section page, in the order of ``_toc.yml``."""
    numbers, parents = chapter_numbers(root), parent_chapters(root)
    found = []
    for doc, number in numbers.items():
        source = (root / f"{doc}.md").read_text(encoding="utf-8")
        owner = parents.get(doc, doc)
        goals = objectives((root / f"{owner}.md").read_text(encoding="utf-8"))
        found.append(Chapter(doc, number, goals, owner, exercises(source)))
    return found


def stem(doc: str) -> str:
    return doc.rsplit("/", 1)[-1]


def read_catalogue(path: Path = CATALOGUE) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def problems(catalogue: dict, book: list[Chapter], labels: set[str]) -> list[str]:
    """Every way the catalogue disagrees with the chapters (empty when it agrees)."""
    found: list[str] = []
    short, entries = catalogue.get("objectives", {}), catalogue.get("exercises", {})
    of_exercise = {ex.label: (ch, ex) for ch in book for ex in ch.exercises}
    found += [f"exercise {label} of the book has no entry in the catalogue"
              for label in of_exercise if label not in entries]
    found += [f"the catalogue lists {label}, which no chapter has" for label in entries if label not in of_exercise]
    for ch in book:
        forms = short.get(stem(ch.doc), [])
        if not all(isinstance(form, str) for form in forms):
            found.append(f"{stem(ch.doc)}: every short form of an objective must be a string: {forms!r}")
        if ch.objectives_of == ch.doc and len(forms) != len(ch.objectives):
            found.append(f"{stem(ch.doc)} states {len(ch.objectives)} objectives; the catalogue has "
                         f"{len(short.get(stem(ch.doc), []))} short forms")
    sizes = {stem(ch.doc): len(ch.objectives) for ch in book if ch.objectives_of == ch.doc}
    for label, entry in entries.items():
        if label not in of_exercise:
            continue
        ch, ex = of_exercise[label]
        low, high = TIME_BANDS[ex.stars]
        if not (isinstance(entry.get("time"), int) and low <= entry["time"] <= high):
            found.append(f"{label} ({'★' * ex.stars}): time {entry.get('time')!r} is not a whole number of "
                         f"minutes in [{low}, {high}]")
        serves = entry.get("serves")
        if not serves or any(not isinstance(i, int) or not 1 <= i <= len(ch.objectives) for i in serves):
            found.append(f"{label}: serves {serves!r}, but {stem(ch.objectives_of)} has objectives 1 to {len(ch.objectives)}")
        for other, indices in (entry.get("also") or {}).items():
            if other not in sizes or any(not 1 <= i <= sizes[other] for i in indices):
                found.append(f"{label}: also serves {other} {indices}, which is not an objective of the book")
    for name, plan in catalogue.get("plans", {}).items():
        for k, session in enumerate(plan["sessions"], start=1):
            found += [f"plan {name}, session {k}: reads {t}, which is not a label of the book"
                      for t in session.get("read", []) if t not in labels]
            found += [f"plan {name}, session {k}: assigns {t}, which is not an exercise"
                      for t in session.get("exercises", []) if t not in of_exercise]
    return found


def served(catalogue: dict, book: list[Chapter]) -> dict[str, dict[int, list[str]]]:
    """{chapter stem: {objective index: [labels of the exercises that serve it, any chapter]}}."""
    table = {stem(ch.doc): {i: [] for i in range(1, len(ch.objectives) + 1)} for ch in book if ch.objectives_of == ch.doc}
    for ch in book:
        for ex in ch.exercises:
            entry = catalogue["exercises"][ex.label]
            for i in entry["serves"]:
                table[stem(ch.objectives_of)][i].append(ex.label)
            for other, indices in (entry.get("also") or {}).items():
                for i in indices:
                    table[other][i].append(ex.label)
    return table


# --- what the guide shows -------------------------------------------------------------------------

def minutes(total: int) -> str:
    """"45 min", "1 h 30 min" (with no-break spaces: a table cell does not wrap it)."""
    hours, rest = divmod(total, 60)
    text = f"{rest} min" if not hours else f"{hours} h" + (f" {rest:02d} min" if rest else "")
    return text.replace(" ", "\u00a0")


def time_rule() -> str:
    """The rule the catalogue's times keep to, as a sentence."""
    bands = ", ".join(f"{'★' * s} {lo}–{hi}" for s, (lo, hi) in TIME_BANDS.items())
    return (f"The times are estimates in minutes for a student who has read the chapter, made by reading "
            f"each exercise and its solution (not measured with students); by difficulty they lie in "
            f"{bands} minutes.")


def chapter_markdown(ch: Chapter, catalogue: dict, book: list[Chapter], numbers: dict[str, str]) -> str:
    """A chapter's block: numbered heading, objectives, the exercise table, the unserved objectives."""
    short, entries = catalogue["objectives"], catalogue["exercises"]
    owner = stem(ch.objectives_of)
    lines = [f"### {ch.number}. {{doc}}`{stem(ch.doc)}`\n"]
    if ch.objectives_of == ch.doc:
        lines.append("**After it, a student can**\n")
        lines += [f"{i}. {goal}" for i, goal in enumerate(ch.objectives, start=1)]
    else:
        lines.append(f"This page is a section of chapter {numbers[ch.objectives_of]} and has no objectives of its "
                     f"own: its exercises serve chapter {numbers[ch.objectives_of]}'s.")

    def objective(chapter: str, i: int, own: bool) -> str:
        where = "" if own else f"chapter {numbers[f'book/{chapter}']}'s "
        return f"{where}{i} ({short[chapter][i - 1]})"

    lines.append("\n| exercise | title | type | difficulty | time | serves objective |\n|---|---|---|---|---|---|")
    for ex in ch.exercises:
        entry = entries[ex.label]
        serves = [objective(owner, i, ch.objectives_of == ch.doc) for i in entry["serves"]]
        serves += [objective(other, i, False) for other, indices in (entry.get("also") or {}).items() for i in indices]
        lines.append(f"| {{numref}}`{ex.label}` | {ex.title} | {ex.mark} | {'★' * ex.stars} | "
                     f"{minutes(entry['time'])} | {'; '.join(serves)} |")
    total = sum(entries[ex.label]["time"] for ex in ch.exercises)
    count = f"{len(ch.exercises)} exercise" + ("s" if len(ch.exercises) > 1 else "")
    lines.append(f"\nIn all, {count}: about {minutes(total)}.")
    if ch.objectives_of == ch.doc:
        table, own = served(catalogue, book)[owner], {ex.label for ex in ch.exercises}
        notes = []
        for i, labels in table.items():
            if not labels:
                notes.append(f"no exercise practises objective {i} ({short[owner][i - 1]})")
            elif not own.intersection(labels):
                refs = ", ".join(f"{{numref}}`{label}`" for label in labels)
                notes.append(f"objective {i} ({short[owner][i - 1]}) is practised by {refs} of another chapter only")
        lines.append("Every objective is practised by an exercise of the chapter." if not notes
                     else "Note: " + "; ".join(notes) + ".")
    return "\n".join(lines) + "\n"


def plan_markdown(plan: dict, catalogue: dict, book: list[Chapter]) -> str:
    """A plan as a table: session | in class | read before | exercises to assign | their time."""
    entries, order = catalogue["exercises"], [ex.label for ch in book for ex in ch.exercises]
    lines = [f"**{plan['title']}** ({plan['audience']}):\n",
             "| session | in class | read before | exercises to assign | their time |", "|---|---|---|---|---|"]
    assigned = []
    for k, session in enumerate(plan["sessions"], start=1):
        read = ", ".join(f"{{ref}}`{label}`" for label in session["read"])
        if session.get("read_note"):
            read += " " + " ".join(session["read_note"].split())
        exs = sorted(session["exercises"], key=order.index)   # in the book's order
        assigned += exs
        lines.append(f"| {k} | {' '.join(session['in_class'].split())} | {read} | "
                     f"{', '.join(f'{{numref}}`{label}`' for label in exs)} | "
                     f"{minutes(sum(entries[label]['time'] for label in exs))} |")
    left = [label for label in order if label not in assigned]
    if left:
        lines.append(f"\nNot assigned in this plan ({len(left)} of {len(order)}; for practice or a second pass): "
                     + ", ".join(f"{{numref}}`{label}`" for label in left) + ".")
    return "\n".join(lines) + "\n"
