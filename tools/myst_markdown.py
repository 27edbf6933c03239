"""The Markdown of a chapter's MyST cell, as plain Jupyter renders it: what the site shows, with its numbers.

Used by ``tools/reader_notebooks.py``. ``to_markdown(text, ctx)`` turns one Markdown cell of a chapter
(MyST: directives, roles, labels, glue) into CommonMark with ``$``/``$$`` math and a little HTML
(``<details>``), which JupyterLab, Notebook 7, VS Code, Colab and nbconvert all render:

* ``prf:`` directives become a bold numbered title as on the site (**Theorem 6.1** (title)), proofs
  start with *Proof.* and end with ∎; gated exercises become **Exercise 6.3** (✍ ★★ title);
  solutions are marked **Solution to Exercise 6.3** and, when they hold no code cell, folded in a
  ``<details>`` as on the site; drop-down admonitions become ``<details>`` too;
* ``{math}`` blocks and labelled ``$$`` blocks become ``$$ … \\tag{6.7} $$`` with the site's number;
* ``{ref}``, ``{numref}``, ``{eq}``, ``{prf:ref}``, ``{doc}`` become the text the site shows (a link to
  the other notebook when the target is in another chapter), ``{cite}`` the site's author–year text
  (the bibliography entries go to the end of the notebook), ``{glue:text}`` the glued value
  formatted as the site formats it;
* headings get the site's section numbers; ``(label)=`` lines and ``%`` comments go.

Every number and every reference text comes from the built site (``site_index.SiteIndex``), never
recomputed here. A directive or role this module does not know raises ``ValueError`` naming it, so a
new construct in a chapter cannot slip through as raw markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from site_index import SiteIndex

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:.-]+)\}[ \t]*(?P<arg>.*?)\s*$")
CODE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`{]*)$")
TARGET = re.compile(r"^\s*\((?P<label>[^()\s]+)\)=\s*$")
HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.*?)\s*#*\s*$")
OPTION = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*)$")
# Inline: a code span (copied as is) or a role, whichever starts first.
INLINE = re.compile(r"(?P<code>(?P<ticks>`+)(?:(?!(?P=ticks)).)+?(?P=ticks)(?!`))"
                    r"|\{(?P<role>[\w:.-]+)\}`(?P<content>[^`]+)`", re.S)
EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)

THEOREM_LIKE = {"theorem", "lemma", "corollary", "proposition", "definition", "assumption", "algorithm",
                "axiom", "conjecture", "criterion", "example", "observation", "property", "remark"}
ADMONITIONS = {"note", "tip", "warning", "danger", "important", "hint", "caution", "attention", "error",
               "seealso"}


@dataclass
class Context:
    """What the conversion of one chapter needs: its page, the site's index, its glued values."""

    doc: str                                   # the Sphinx docname, e.g. "book/06-separability"
    site: SiteIndex
    glue: dict[str, dict[str, Any]]            # glued name -> mime bundle (from the executed notebook)
    solutions: bool = True                     # False in the student edition
    cite_texts: dict[tuple[str, str], tuple[str, list[str]]] = field(default_factory=dict)
    cited: list[str] = field(default_factory=list)   # bibliography ids, in order of first citation
    open_solution: str = ""                          # the exercise whose gated solution is open
    _headings: int = 0

    def cite(self, role: str, content: str) -> str:
        """A citation as the site shows it (``cite_texts``: (role, keys) -> (text, entry ids))."""
        text, ids = self.cite_texts[(role, content)]
        self.cited.extend(i for i in ids if i not in self.cited)
        return text

    def heading(self, title: str) -> str:
        number = self.site.section_number(self.doc, self._headings, title)
        self._headings += 1
        return f"{number} {title}" if number else title


def roles_in(text: str) -> list[tuple[str, str]]:
    """The (role, content) pairs of a MyST Markdown cell, in order (directive titles and bodies
    included, plain code blocks and code spans left out)."""
    lines, i, kept = text.split("\n"), 0, []
    while i < len(lines):
        if m := FENCE.match(lines[i]):
            end = _closing(lines, i, m["fence"])
            found = [*roles_in(m["arg"]), *roles_in("\n".join(lines[i + 1:end]))]
            kept.append(found)
            i = end + 1
            continue
        if m := CODE.match(lines[i]):
            i = _closing(lines, i, m["fence"]) + 1
            continue
        kept.append(lines[i])
        i += 1
    found: list[tuple[str, str]] = []
    text_run: list[str] = []
    for item in [*kept, []]:
        if isinstance(item, str):
            text_run.append(item)
            continue
        found += [(m["role"], m["content"]) for m in INLINE.finditer("\n".join(text_run)) if m["role"]]
        found += item
        text_run = []
    return found


def to_markdown(text: str, ctx: Context) -> str:
    """One Markdown cell of a chapter, converted (see the module docstring)."""
    lines = _collapse_solutions(text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(_blocks(lines, ctx))).strip("\n")


def _collapse_solutions(lines: list[str]) -> list[str]:
    """A gated solution whose start and end are in the same cell (no code cell inside) becomes one
    ``solution`` directive, so that it can be folded like the site's drop-down."""
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        end_at = None
        if m and m["name"] == "solution-start":
            opened = _closing(lines, i, m["fence"])
            for j in range(opened + 1, len(lines)):
                e = FENCE.match(lines[j])
                if e and e["name"] == "solution-end":
                    end_at = (opened, j, _closing(lines, j, e["fence"]))
                if e and e["name"] in ("solution-end", "solution-start", "exercise-start"):
                    break
        if end_at is None:
            out.append(lines[i])
            i += 1
            continue
        opened, j, stop = end_at
        fence = m["fence"][0] * (len(m["fence"]) + 2)  # longer than any fence inside
        out += [f"{fence}{{solution}} {m['arg']}", *lines[i + 1:opened], *lines[opened + 1:j], fence]
        i = stop + 1
    return out


def _closing(lines: list[str], start: int, fence: str) -> int:
    """The index of the line that closes the fence opened at ``start`` (same character, at least as long)."""
    close = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    for j in range(start + 1, len(lines)):
        if close.match(lines[j]):
            return j
    raise ValueError(f"unclosed fence {fence!r} opened by {lines[start]!r}")


def _options(body: list[str]) -> tuple[dict[str, str], list[str]]:
    opts, i = {}, 0
    if body and body[0].strip() == "---":  # a YAML block of options
        end = body.index("---", 1)
        for line in body[1:end]:
            key, _, value = line.partition(":")
            opts[key.strip()] = value.strip()
        return opts, body[end + 1:]
    while i < len(body) and (m := OPTION.match(body[i])):
        opts[m["key"]] = m["value"].strip()
        i += 1
    return opts, body[i:]


def _blocks(lines: list[str], ctx: Context) -> list[str]:
    out: list[str] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            out.extend(inline("\n".join(para), ctx).split("\n"))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if m := FENCE.match(line):
            flush()
            end = _closing(lines, i, m["fence"])
            opts, body = _options(lines[i + 1:end])
            out += ["", *_directive(m["name"], m["arg"], opts, body, ctx), ""]
            i = end + 1
            continue
        if m := CODE.match(line):  # a plain code block: copied as it is
            flush()
            end = _closing(lines, i, m["fence"])
            out += lines[i:end + 1]
            i = end + 1
            continue
        if line.strip().startswith("$$") and not _inline_dollars(line):
            flush()
            end, label = _dollar_block(lines, i)
            body = "\n".join(lines[i:end + 1]).strip()[2:]
            body = re.sub(r"\$\$\s*(\([^()]*\))?\s*$", "", body)
            out += _display_math(body.split("\n"), label, ctx)
            i = end + 1
            continue
        if TARGET.match(line) or line.startswith("%") or line.strip() == "+++":
            i += 1
            continue
        if m := HEADING.match(line):
            flush()
            title = inline(m["title"], ctx)
            out.append(f"{m['hashes']} {ctx.heading(title)}")
            i += 1
            continue
        para.append(line)
        i += 1
    flush()
    return out


def _inline_dollars(line: str) -> bool:
    """``$$x$$`` on one line with text around it is inline display math, left to the renderer."""
    s = line.strip()
    return s.count("$$") >= 2 and not re.fullmatch(r"\$\$.*\$\$\s*(\([^()]*\))?", s)


def _dollar_block(lines: list[str], start: int) -> tuple[int, str | None]:
    first = lines[start].strip()
    if first.count("$$") >= 2:  # $$ x $$ (label) on one line
        m = re.search(r"\$\$\s*\(([^()]*)\)\s*$", first)
        return start, m[1] if m else None
    for j in range(start + 1, len(lines)):
        if m := re.match(r"^(.*)\$\$\s*(?:\((?P<label>[^()]*)\))?\s*$", lines[j]):
            return j, m["label"]
    raise ValueError(f"unclosed $$ block at {lines[start]!r}")


def _display_math(body: list[str], label: str | None, ctx: Context) -> list[str]:
    math = "\n".join(ln for ln in body if ln.strip()).strip()
    if "\\\\" in math and not math.startswith("\\begin"):
        math = f"\\begin{{split}}\n{math}\n\\end{{split}}"  # as Sphinx wraps a multi-line equation
    tag = f" \\tag{{{ctx.site.equation(label)}}}" if label else ""
    return ["", "$$", math + tag, "$$", ""]


def _title_line(caption: str, title: str, ctx: Context) -> str:
    title = inline(title, ctx).strip()
    return f"**{caption}** ({title})" if title else f"**{caption}**"


def _directive(name: str, arg: str, opts: dict[str, str], body: list[str], ctx: Context) -> list[str]:
    kind = name.removeprefix("prf:")
    inner = _blocks(body, ctx)
    label = opts.get("label")
    if name == "math":
        return _display_math(body, label, ctx)
    if name.startswith("prf:") and kind == "proof":
        ends = "\n".join(inner).rstrip().endswith(("\\square$", "\\blacksquare$", "\\qed$", "∎", "□"))
        return ["*Proof.*", "", *inner, *([] if ends else ["", "∎"])]
    if name.startswith("prf:") and kind in THEOREM_LIKE:
        return [_title_line(ctx.site.caption(ctx.doc, label, kind), arg, ctx), "", *inner]
    if name in ("exercise-start", "exercise"):
        head = [_title_line(ctx.site.caption(ctx.doc, label, "exercise"), arg, ctx), ""]
        return head + inner
    if name == "exercise-end":
        return []
    if name in ("solution", "solution-start", "solution-end"):
        if not ctx.solutions:
            raise ValueError(f"{ctx.doc}: a solution ({arg}) reached the student edition")
        if name == "solution-end":
            return [f"*End of the solution to {ctx.site.exercise_text(ctx.open_solution)}.*"]
        ctx.open_solution = arg.strip()
        title = f"Solution to {ctx.site.exercise_text(ctx.open_solution)}"
        if name == "solution" and "dropdown" in opts.get("class", ""):
            return _details(f"<b>{title}</b>", inner)
        return [f"**{title}**", "", *inner]
    if name == "admonition" or name in ADMONITIONS:
        title = inline(arg, ctx).strip() if name == "admonition" else name.capitalize()
        if "dropdown" in opts.get("class", ""):
            return _details(f"<b>{_html_inline(title)}</b>", inner)
        return [f"**{title}.**", "", *inner]
    if name in ("code-block", "code", "sourcecode"):
        return [f"```{arg}", *body, "```"]
    if name in ("figure", "image"):  # the caption as text under the image; its number from the site
        caption = ctx.site.captions.get(label or "", "")
        return [f"![{opts.get('alt', '')}]({arg})", "", *([f"**{caption}** " + " ".join(inner).strip()] if inner else [])]
    if name in ("glue", "glue:", "glue:any", "glue:figure", "glue:math", "glue:md"):
        return _glue_block(name, arg, body, ctx)
    if name in ("dropdown", "toggle"):  # sphinx-design / togglebutton
        return _details(f"<b>{_html_inline(inline(arg, ctx).strip())}</b>", inner)
    if name in ("table", "topic", "sidebar", "margin", "epigraph", "rubric", "div", "container"):
        title = inline(arg, ctx).strip()
        caption = ctx.site.captions.get(label or "", "") if name == "table" else ""
        head = " ".join(x for x in (f"**{caption}**" if caption else "", f"**{title}**" if title and not caption else title) if x)
        return [head, "", *inner] if head else inner
    raise ValueError(f"{ctx.doc}: the directive {{{name}}} has no plain-Markdown form yet (tools/myst_markdown.py)")


def _glue_block(name: str, key: str, body: list[str], ctx: Context) -> list[str]:
    """A glued output pasted as a block: an image as a data URI, math as $$, Markdown or text as is."""
    bundle = ctx.glue.get(key.strip())
    if bundle is None:
        raise ValueError(f"{ctx.doc}: nothing was glued under {key!r} in the executed notebook (run make book)")
    caption = " ".join(_blocks(body, ctx)).strip() if name == "glue:figure" else ""
    if "image/png" in bundle:
        return [f"![{key}](data:image/png;base64,{bundle['image/png']})", "", *([caption] if caption else [])]
    if "text/latex" in bundle or name == "glue:math":
        return ["$$", bundle.get("text/latex", bundle["text/plain"]).strip("$ \n"), "$$"]
    if "text/markdown" in bundle:
        return [inline(bundle["text/markdown"], ctx)]
    return [bundle["text/plain"]]


def _html_inline(text: str) -> str:
    """Markdown emphasis and code inside an HTML tag (a <summary>) is not parsed: write it as HTML."""
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    text = re.sub(r"\*(.+?)\*", r"<i>\1</i>", text)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def _details(summary: str, inner: list[str]) -> list[str]:
    # Blank lines around the body: Markdown (and the math in it) is parsed inside the HTML block.
    return ["<details>", f"<summary>{summary}</summary>", "", *inner, "", "</details>"]


def inline(text: str, ctx: Context) -> str:
    """Roles replaced by what the site shows; code spans are left alone."""

    def replace(m: re.Match) -> str:
        if m["code"]:
            return m["code"]
        return _role(m["role"], m["content"], ctx)

    return INLINE.sub(replace, text)


def _role(role: str, content: str, ctx: Context) -> str:
    explicit = EXPLICIT.match(content)
    if role in ("glue", "glue:text", "glue:md"):
        return _glue(role, content, ctx)
    if role == "math":
        return f"${content}$"
    if role.startswith("cite"):
        return ctx.cite(role, content)
    if role in ("ref", "numref", "prf:ref", "eq", "doc"):
        target = explicit["target"] if explicit else content
        site_text, target_doc = ctx.site.reference(role, target, ctx.doc)
        text = explicit["text"] if explicit and role != "eq" else site_text
        if target_doc and target_doc != ctx.doc and ctx.site.is_chapter(target_doc):
            return f"[{text}]({target_doc.split('/')[-1]}.ipynb)"
        return text
    if role in ("sub", "sup"):
        return f"<{role}>{content}</{role}>"
    raise ValueError(f"{ctx.doc}: the role {{{role}}} has no plain-Markdown form yet (tools/myst_markdown.py)")


def _glue(role: str, content: str, ctx: Context) -> str:
    from myst_nb.core.variables import format_plain_text  # the site's own formatting

    key, _, spec = content.rpartition(":") if ":" in content else (content, "", "")
    if role == "glue:md":
        key, spec = (key, spec) if spec in ("commonmark", "myst", "gfm") else (content, "")
    bundle = ctx.glue.get(key)
    if bundle is None:
        raise ValueError(f"{ctx.doc}: nothing was glued under {key!r} in the executed notebook (run make book)")
    if role == "glue:md":
        return inline(bundle["text/markdown"], ctx)
    return format_plain_text(bundle["text/plain"], spec)
