"""The ``{execution-report}`` directive: what the last cold build's execution cost, on the status page.

`make book` executes the notebooks in parallel before Sphinx runs (tools/execute_book.py), and writes
``_build/execution-report.json``. Its ``cold`` entry is the last run that executed every notebook:
the number of processes, the wall time, and the sum of the notebooks' own times (what one process
would have needed). The directive turns it into a short paragraph and a table, one row per notebook
with its execution time in that run. The page that uses it depends on the report, so Sphinx reads it
again whenever the report changes.

The whole cold build's wall time (from the start of the execution to the last page written) is known
only when Sphinx finishes: the directive then leaves a marker in the page, which the ``build-finished``
handler replaces with the figure and also stores in the report's ``cold`` entry (keeping the report's
modification time: the page need not be read again), from which later builds that read the page
again render it directly.

Without a report (a build run as plain ``jupyter-book build``, which executes the notebooks itself,
one after another) the directive says so.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

REPORT_NAME = "execution-report.json"
MARKER = "<!-- sce-cold-build-total -->"


def _report_path(app: Sphinx) -> Path:
    return Path(app.outdir).parent / REPORT_NAME


def _total_sentence(seconds: float) -> str:
    return (f"The whole cold build, from the start of the execution to the last page written, took "
            f"{seconds:.1f} s.")


def _table(rows: list[tuple[str, str]], header: tuple[str, str]) -> nodes.table:
    table = nodes.table(classes=["sce-execution-report"])
    group = nodes.tgroup(cols=2)
    table += group
    group += [nodes.colspec(colwidth=3), nodes.colspec(colwidth=1)]
    head, body = nodes.thead(), nodes.tbody()
    group += [head, body]
    for parent, cells in [(head, header), *[(body, r) for r in rows]]:
        row = nodes.row()
        for text in cells:
            entry = nodes.entry()
            entry += nodes.paragraph(text=text)
            row += entry
        parent += row
    return table


class ExecutionReport(SphinxDirective):
    """``{execution-report}``: no arguments, no content."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        path = _report_path(self.env.app)
        self.env.note_dependency(str(path))
        report = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        cold = report.get("cold")
        if not cold:
            return [nodes.paragraph(text=(
                "No execution report was found: this site was built without tools/execute_book.py "
                "(the notebooks were executed by the build itself, one after another)."))]
        when = datetime.fromisoformat(cold["started"]).strftime("%Y-%m-%d %H:%M UTC")
        seed = f"SCE_SEED={cold['seed']}" + (f", SCE_FULL={cold['full']}" if cold.get("full", "0") != "0" else "")
        text = (f"The last cold build ({when}, {seed}) executed all {cold['executed']} notebooks on "
                f"{cold['jobs']} processes ({cold['cpus']} cores) in {cold['wall_s']:.1f} s of wall time; "
                f"one after another they would have taken {cold['sum_s']:.1f} s.")
        out: list[nodes.Node] = [nodes.paragraph(text=text)]
        if cold.get("build_wall_s") is not None:
            out.append(nodes.paragraph(text=_total_sentence(cold["build_wall_s"])))
        elif report.get("started") == cold["started"] and _follows(self.env.app, cold):
            # This Sphinx run completes the cold build: the figure is filled in at its end.
            out.append(nodes.raw("", f"<p>{MARKER}</p>", format="html"))
            self.env.app.sce_cold_build_marker = True
        if report.get("started") != cold["started"]:
            out.append(nodes.paragraph(text=(
                f"Since then, {report['executed']} notebook(s) whose code changed were executed again "
                f"({report['wall_s']:.1f} s of wall time); the table of the previous section has their times.")))
        rows = [(name, f"{entry['seconds']:.1f}") for name, entry in cold["notebooks"].items()
                if entry.get("seconds") is not None]
        out.append(_table(rows, ("notebook (cold build)", "execution time (s)")))
        return out


def _follows(app: Sphinx, run: dict) -> bool:
    """Whether this Sphinx run started right after the execution `run` ended (within two minutes), so
    that the two together are one build."""
    started = getattr(app, "sce_sphinx_started", None)
    if started is None or "finished" not in run:
        return False
    gap = (started - datetime.fromisoformat(run["finished"])).total_seconds()
    return 0 <= gap <= 120


def _note_start(app: Sphinx, config) -> None:
    app.sce_sphinx_started = datetime.now(timezone.utc)


def _fill_in_total(app: Sphinx, exception: Exception | None) -> None:
    """At the end of the cold build: its wall time into the marker, and into the report."""
    if exception is not None or not getattr(app, "sce_cold_build_marker", False):
        return
    path = _report_path(app)
    report = json.loads(path.read_text(encoding="utf-8"))
    started = datetime.fromisoformat(report["cold"]["started"])
    seconds = (datetime.now(started.tzinfo) - started).total_seconds()
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if MARKER in text:
            page.write_text(text.replace(MARKER, _total_sentence(seconds)), encoding="utf-8")
    report["cold"]["build_wall_s"] = round(seconds, 1)
    before = path.stat()
    path.write_text(json.dumps(report, indent=1), encoding="utf-8")
    # The page already shows the figure (filled in above): the report keeps its time, so that the next
    # build does not read the page again only to render the same sentence (a rebuild with no change
    # stays fast). A page read again for another reason renders the stored figure.
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def setup(app: Sphinx) -> dict:
    app.add_directive("execution-report", ExecutionReport)
    app.connect("config-inited", _note_start)
    app.connect("build-finished", _fill_in_total)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
