"""Grade a folder of student notebooks with otter-grader, without Docker, and write grades.csv.

    python tools/grade.py SUBMISSIONS [--autograder DIR] [--out grades.csv] [--cell-timeout S]
                          [--timeout S] [--jobs N] [--executed DIR]
    (make grade SUBMISSIONS=dir: the autograder zips of `make assignment`, grades.csv in SUBMISSIONS)

Every ``*.ipynb`` under SUBMISSIONS is one submission. Its chapter is the ``assignment_name`` in the
notebook's otter metadata (``make assignment`` writes it), or else the chapter whose name the file name
contains. Each submission is graded in its own process (``--one``): the chapter's autograder zip is
unpacked into a temporary folder, the notebook is executed there by otter's grading preprocessor (the
``grader.check`` cells run each exercise's public and hidden cases at that point of the notebook; the
cases of an exercise whose check cell was deleted run at the end) with ``--cell-timeout`` seconds per cell
(a cell that runs longer is interrupted, and execution goes on with the next cell), and the scores come back
as JSON. The whole notebook also has ``--timeout`` seconds; past that, or if the kernel dies, the submission
scores zero with the reason in the ``error`` column. A file that is not a readable notebook scores zero
("malformed"). None of these stops the batch. With ``--executed DIR``, each graded notebook is also
written, as otter executed it (outputs, check cells and otter's own cells), to DIR under its path in
SUBMISSIONS: what a student would see, and what `make test` compares with the built book.

grades.csv: one row per submission; the columns ``submission``, ``chapter``, one per ⌨ exercise of the
chapters present (points scored; empty for another chapter's exercise), ``total``, ``possible``, one per
exercise graded by hand (✍ ones, and ⌨ ones without tests) holding "to grade by hand", and ``error``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import assignment as asg  # noqa: E402
import student_edition as se  # noqa: E402

ROOT = se.ROOT
BY_HAND = "to grade by hand"


def chapter_of(path: Path, nb: nbformat.NotebookNode | None) -> str | None:
    """The chapter a submission answers: its otter metadata, else the chapter named in its file name."""
    stems = [p.stem for p in se.chapter_paths()]
    if nb is not None:
        name = nb.get("metadata", {}).get("otter", {}).get("assignment_name")
        if name in stems:
            return name
    named = [s for s in stems if s in path.name]
    return max(named, key=len) if named else None


def grade_one(submission: Path, autograder: Path, cell_timeout: int,
              executed: Path | None = None) -> dict[str, list[float]]:
    """{exercise label: [score, possible]} of one notebook, graded by otter in a temporary folder; the
    notebook as executed goes to ``executed`` if given."""
    from nbconvert.preprocessors import ExecutePreprocessor
    from otter.execute.logging import start_server
    from otter.execute.preprocessor import GradingPreprocessor
    from traitlets.config import Config

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with zipfile.ZipFile(autograder) as zf:
            zf.extractall(work / "autograder")
        sub = work / "submission"
        sub.mkdir()
        shutil.copytree(work / "autograder" / "tests", sub / "tests")
        for item in (work / "autograder" / "files").iterdir():
            (shutil.copytree if item.is_dir() else shutil.copy)(item, sub / item.name)
        nb = nbformat.read(submission, as_version=4)
        results_file = work / "results.pkl"
        c = Config()
        old_cwd = os.getcwd()
        os.chdir(sub)
        gp = None
        (host, port), stop_server = start_server()
        try:
            c.GradingPreprocessor.cwd = str(sub)
            c.GradingPreprocessor.test_dir = "./tests"
            c.GradingPreprocessor.tests_glob = sorted(str(p.relative_to(sub)) for p in (sub / "tests").glob("*.py"))
            c.GradingPreprocessor.results_path = str(results_file)
            c.GradingPreprocessor.logging_server_host = host
            c.GradingPreprocessor.logging_server_port = port
            c.GradingPreprocessor.force_python3_kernel = True
            c.GradingPreprocessor.seed = None                  # no intercell seeding: the chapters seed
            c.GradingPreprocessor.seed_variable = None         # through sce_lib.seeds
            c.ExecutePreprocessor.allow_errors = True          # a raising cell costs only what depends on it
            c.ExecutePreprocessor.timeout = cell_timeout
            c.ExecutePreprocessor.interrupt_on_timeout = True   # a looping cell is interrupted, the rest runs
            c.ExecutePreprocessor.kernel_name = "python3"
            gp = GradingPreprocessor(config=c)
            nb, _ = gp.preprocess(nb)
            nb, _ = ExecutePreprocessor(config=c).preprocess(nb, {"metadata": {"path": str(sub)}})
            if executed is not None:
                executed.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, executed)
        finally:
            stop_server()
            if gp is not None:
                gp.cleanup()
            os.chdir(old_cwd)
        with open(results_file, "rb") as f:
            results = pickle.load(f)
    return {name: [float(tf.score), float(tf.possible)] for name, tf in results.results.items()}


def _possible(chapter: str) -> dict[str, float]:
    return {t.label: float(t.points) for t in asg.chapter_tests(chapter) if t.graded}


def grade_batch(submissions: Path, autograder_dir: Path, out: Path, *, cell_timeout: int = 600,
                timeout: int = 3600, jobs: int = 1, executed: Path | None = None,
                log=print) -> list[dict[str, str]]:
    """Grades every notebook under ``submissions``; writes and returns the rows of ``out`` (grades.csv).
    With ``executed``, each notebook as otter executed it goes there, under its path in ``submissions``."""
    files = sorted(p for p in submissions.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not files:
        raise ValueError(f"submissions: expected a folder holding .ipynb files, got {submissions} (none found)")
    rows: list[dict[str, str]] = []
    pending = list(enumerate(files))
    running: list[tuple[int, Path, str | None, subprocess.Popen, float, Path]] = []
    done = 0
    tmp = Path(tempfile.mkdtemp(prefix="sce-grade-"))
    results: dict[int, dict[str, str]] = {}

    def finish(i: int, path: Path, chapter: str | None, scores: dict[str, list[float]] | None,
               error: str, started: float) -> None:
        nonlocal done
        done += 1
        row = {"submission": str(path.relative_to(submissions)), "chapter": chapter or "", "error": error}
        possible = _possible(chapter) if chapter else {}
        for label, pts in possible.items():
            row[label] = f"{scores.get(label, [0.0])[0]:g}" if scores else "0"
        row["total"] = f"{sum(float(row[label]) for label in possible):g}"
        row["possible"] = f"{sum(possible.values()):g}"
        for label in asg.hand_graded(chapter) if chapter else []:
            row[label] = BY_HAND
        results[i] = row
        log(f"[{done}/{len(files)}] {row['submission']}: {row['total']} / {row['possible']} points"
            f" ({time.monotonic() - started:.0f} s){'; ' + error if error else ''}", flush=True)

    try:
        while pending or running:
            while pending and len(running) < jobs:
                i, path = pending.pop(0)
                started = time.monotonic()
                try:
                    nb = nbformat.read(path, as_version=4)
                    nbformat.validate(nb)
                except Exception as err:  # noqa: BLE001 - any unreadable file is "malformed"
                    finish(i, path, chapter_of(path, None), None, f"malformed: {type(err).__name__}: "
                           f"{str(err).splitlines()[0][:120] if str(err) else ''}", started)
                    continue
                chapter = chapter_of(path, nb)
                if chapter is None:
                    finish(i, path, None, None, "unknown chapter (no otter metadata, no chapter in the name)", started)
                    continue
                zip_path = autograder_dir / f"{chapter}-autograder.zip"
                if not zip_path.is_file():
                    raise ValueError(f"autograder: {zip_path} is missing; run 'make assignment' first")
                result = tmp / f"{i}.json"
                keep = ["--executed-nb", str((executed / path.relative_to(submissions)).resolve())] if executed else []
                with open(tmp / f"{i}.log", "w") as err_log:       # the child keeps its own handle
                    proc = subprocess.Popen(
                        [sys.executable, __file__, "--one", str(path.resolve()), "--autograder-zip",
                         str(zip_path.resolve()), "--json", str(result), "--cell-timeout", str(cell_timeout), *keep],
                        stdout=subprocess.DEVNULL, stderr=err_log, start_new_session=True)
                running.append((i, path, chapter, proc, started, result))
            time.sleep(0.2)
            for entry in list(running):
                i, path, chapter, proc, started, result = entry
                if proc.poll() is None and time.monotonic() - started <= timeout:
                    continue
                running.remove(entry)
                if proc.poll() is None:                     # past the notebook's time limit
                    os.killpg(proc.pid, signal.SIGKILL)     # the process group: the grader and its kernel
                    proc.wait()
                    finish(i, path, chapter, None, f"timed out after {timeout} s", started)
                elif proc.returncode != 0 or not result.is_file():
                    tail = (tmp / f"{i}.log").read_text(errors="replace").strip().splitlines()[-1:] or ["?"]
                    finish(i, path, chapter, None, f"grading failed: {tail[0][:160]}", started)
                else:
                    finish(i, path, chapter, json.loads(result.read_text()), "", started)
    finally:
        for entry in running:
            os.killpg(entry[3].pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)

    rows = [results[i] for i in sorted(results)]
    chapters = sorted({r["chapter"] for r in rows if r["chapter"]})
    auto = [label for ch in chapters for label in _possible(ch)]
    hand = [label for ch in chapters for label in asg.hand_graded(ch)]
    columns = ["submission", "chapter", *auto, "total", "possible", *hand, "error"]
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    log(f"wrote {out}: {len(rows)} submissions; graded by hand: {' '.join(hand) or 'none'}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", nargs="?", type=Path)
    parser.add_argument("--autograder", type=Path, default=ROOT / "_build" / "assignment" / "autograder")
    parser.add_argument("--out", type=Path, default=None, help="default: SUBMISSIONS/grades.csv")
    parser.add_argument("--cell-timeout", type=int, default=600, help="seconds per cell (default 600)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per notebook (default 3600)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at once (default 1)")
    parser.add_argument("--executed", type=Path, default=None,
                        help="also write each notebook as executed into this folder")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--executed-nb", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--autograder-zip", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:
        scores = grade_one(args.one, args.autograder_zip, args.cell_timeout, args.executed_nb)
        args.json.write_text(json.dumps(scores))
        return 0
    if args.submissions is None or not args.submissions.is_dir():
        parser.error(f"SUBMISSIONS: expected a folder of notebooks, got {args.submissions}")
    grade_batch(args.submissions, args.autograder, args.out or args.submissions / "grades.csv",
                cell_timeout=args.cell_timeout, timeout=args.timeout, jobs=args.jobs,
                executed=args.executed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
