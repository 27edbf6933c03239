"""The ``{execution-report}`` directive: what the last cold build's execution cost, on the status page.

`make book` executes the notebooks in parallel before Sphinx runs (tools/execute_book.py), and writes
``_build/execution-report.json``. Its ``cold`` entry is the last run that executed every notebook:
the number of processes, the wall time, and the sum of the notebooks' own times (what one process
would have needed). The directive turns it into a short paragraph and a table, one row per notebook
with its execution time in that run. The page that uses it depends on the report, so Sphinx reads it
again whenever the report changes.

Without a report (a build run as plain ``jupyter-book build``, which executes the notebooks itself,
one after another) the directive says so.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

REPORT_NAME = "execution-report.json"


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
        path = Path(self.env.app.outdir).parent / REPORT_NAME
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
        if report.get("started") != cold["started"]:
            out.append(nodes.paragraph(text=(
                f"Since then, {report['executed']} notebook(s) whose code changed were executed again "
                f"({report['wall_s']:.1f} s of wall time); the table of the previous section has their times.")))
        rows = [(name, f"{entry['seconds']:.1f}") for name, entry in cold["notebooks"].items()
                if entry.get("seconds") is not None]
        out.append(_table(rows, ("notebook (cold build)", "execution time (s)")))
        return out


def setup(app: Sphinx) -> dict:
    app.add_directive("execution-report", ExecutionReport)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
