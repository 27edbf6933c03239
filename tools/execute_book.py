"""Execute the book's notebooks in parallel, into the execution cache that the book build reads.

    python tools/execute_book.py [--jobs N] [--root DIR] [--cache DIR] [--report FILE] [--keep-doctrees]

`make book` runs this before `jupyter-book build` (which has `execute_notebooks: cache` in
_config.yml): every notebook of _toc.yml whose code is not in the cache is executed, N at a time
(default: the number of cores), each in a fresh kernel whose working directory is its own folder (as
the build runs it), with one torch/BLAS thread per kernel. The build then finds every notebook in the
cache and executes nothing. The mechanism is jupyter-cache's own: the notebooks are added to the
cache's project with myst-nb's reader (so the cache holds the very notebook, and hash, that myst-nb
looks up) and executed by jupyter-cache's parallel worker (`ExecutionWorkerLocalMProc`, the worker of
`jcache project execute --executor local-parallel`), in a pool whose size is settable (jupyter-cache's
executor always uses every core) and which starts the longest notebooks first (by the last times
measured on this machine, kept in ~/.cache/sce_lib/execution-times.json; never timed: by size).

The cache keys a notebook on its code cells only. What else decides what a notebook prints, the
library the chapters import (sce_lib), the pinned versions (requirements.txt) and the environment
variables SCE_SEED, SCE_FULL, OMP_NUM_THREADS and MKL_NUM_THREADS, is hashed into an execution key kept
next to the cache; when it changes the cache is emptied (and Sphinx's doctrees with it, so that every
page is read again with its new outputs) and every notebook is executed again.

A failing cell stops `make book`: the script prints each failing notebook's name and traceback and
exits with status 1. Outputs written to stderr are listed (the build, with `stderr_output: error`,
fails on them, naming the chapter). Kernels use IPC sockets (tools/kernels.py), so ipykernel's
"running over TCP without encryption" warning is not printed.

The report (default _build/execution-report.json) records, for the last run, the number of
processes, the wall time, and each notebook's execution time and result; `cold` keeps the last run
that executed every notebook (the status page shows it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml

# jupyter-cache, myst-nb and Sphinx are imported only when there is something to do: a rebuild
# with no change (the stamp below matches) costs a fraction of a second here.
sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"      # where myst-nb looks (jupyter-book's default, `cache:` unset)
DOCTREES = BUILD / ".doctrees"        # Sphinx's environment and doctrees (jupyter-book's layout)
REPORT = BUILD / "execution-report.json"
KEY_FILE = "sce-execution-key.json"
STAMP_FILE = "sce-execution-stamp.json"
# myst-nb's own reader, registered with jupyter-cache as a plugin: the notebook added to the cache is
# the one myst-nb reads during the build, so both compute the same hash.
READ_DATA = {"type": "plugin", "name": "myst_nb_md"}
# The order hint (each notebook's last execution time) is kept where sce_lib keeps generated data, so
# that a fresh clone on the same machine starts the longest notebooks first too.
TIMES = Path(os.environ.get("SCE_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
             / "sce_lib") / "execution-times.json"
KEY_ENV = ("SCE_SEED", "SCE_FULL", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """Every page of _toc.yml that the build executes: a MyST notebook (.md with a jupytext header
    naming the myst format, as myst-nb decides) or an .ipynb, in the order of the table of contents."""
    from myst_nb.core.read import is_myst_markdown_notebook
    from sphinx_external_toc.parsing import parse_toc_yaml

    found = []
    for docname in parse_toc_yaml(str(root / "_toc.yml")):
        for suffix in (".md", ".ipynb"):
            path = root / f"{docname}{suffix}"
            if path.is_file() and (suffix == ".ipynb" or is_myst_markdown_notebook(path.read_text(encoding="utf-8"))):
                found.append(path)
                break
    return found


def execution_key(root: Path = ROOT) -> dict[str, str]:
    """What a notebook's outputs depend on besides its code: sce_lib's source, the pinned versions,
    and the environment variables that change what the chapters compute."""
    digest = hashlib.sha256()
    for path in sorted((root / "sce_lib").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    key = {"sce_lib": digest.hexdigest()}
    req = root / "requirements.txt"
    key["requirements.txt"] = hashlib.sha256(req.read_bytes()).hexdigest() if req.is_file() else ""
    key.update({name: os.environ.get(name, "") for name in KEY_ENV})
    return key


def _stamp(root: Path, key: dict[str, str], notebooks: list[str]) -> dict:
    """What a run that left every notebook in the cache saw: the execution key, the table of contents,
    and each notebook's size and modification time. The same stamp again means nothing to do, known
    without reading a notebook or the cache (a rebuild with no change stays fast)."""
    files = {}
    for name in notebooks:
        try:
            info = (root / name).stat()
        except OSError:
            return {}
        files[name] = [info.st_size, info.st_mtime_ns]
    toc = root / "_toc.yml"
    return {"key": key, "toc": hashlib.sha256(toc.read_bytes()).hexdigest() if toc.is_file() else "",
            "notebooks": notebooks, "files": files}


def open_cache(path: Path, key: dict[str, str], doctrees: Path | None):
    """The cache at `path`, emptied first when it was filled under another execution key (then
    Sphinx's doctrees are removed too, so that the build reads every page again). Returns the cache
    and, when it was emptied, why."""
    key_file = path / KEY_FILE
    stored = json.loads(key_file.read_text(encoding="utf-8")) if key_file.is_file() else None
    reason = None
    if path.exists() and stored != key:
        changed = sorted(k for k in key if stored is None or stored.get(k) != key[k]) if stored else ["(no key)"]
        reason = "changed since the cache was filled: " + ", ".join(changed)
        shutil.rmtree(path)
        if doctrees is not None:
            shutil.rmtree(doctrees, ignore_errors=True)
    from jupyter_cache import get_cache

    path.mkdir(parents=True, exist_ok=True)
    cache = get_cache(str(path))
    key_file.write_text(json.dumps(key, indent=1), encoding="utf-8")
    return cache, reason


def _stderr_outputs(nb) -> list[str]:
    return [f"cell {i}: {out.get('text', '')[:300].strip()}"
            for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for out in cell.get("outputs", []) if out.get("output_type") == "stream" and out.get("name") == "stderr"]


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, data: dict) -> None:
    try:  # write, then rename: two runs at the same time never leave half a file
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: no order hint


def _read_config(root: Path) -> dict:
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    return config.get("execute", {}) or {}


def _rel(path: Path | str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return str(path)


def execute_book(jobs: int, cache_path: Path = CACHE, report_path: Path = REPORT, doctrees: Path | None = DOCTREES,
                 root: Path = ROOT, log=print) -> int:
    """Execute what the cache lacks; write the report; return 0, or 1 if a notebook failed."""
    settings = _read_config(root)
    mode = settings.get("execute_notebooks", "auto")
    if mode != "cache":
        log(f"execute_book: _config.yml has execute_notebooks: {mode}, not cache; nothing executed here")
        return 0
    started = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one thread per kernel: the same numbers everywhere
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    key = execution_key(root)
    stamp_path = cache_path / STAMP_FILE
    stamp = _read_json(stamp_path)
    if stamp and stamp == _stamp(root, key, stamp.get("notebooks", [])):
        log(f"execute_book: all {len(stamp['notebooks'])} notebooks are in the cache ({_rel(cache_path, root)}), "
            "none changed; nothing to execute")
        return 0
    paths = toc_notebooks(root)
    cache, reason = open_cache(cache_path, key, doctrees)
    if reason:
        log(f"execute_book: {reason}; the cache was emptied")
    uris = [str(p.resolve()) for p in paths]
    for uri in uris:
        cache.add_nb_to_project(uri, read_data=READ_DATA)
    previous = json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else {}
    last_seconds = {name: entry.get("seconds") or 0.0 for name, entry in previous.get("notebooks", {}).items()}
    history = _read_json(TIMES)
    todo = [r.uri for r in cache.list_unexecuted(filter_uris=uris)]
    # Longest first, by the last times measured on this machine (any clone, any seed); a notebook never
    # timed here counts by the size of its source (a poor guess: the first build's order).
    todo.sort(key=lambda u: (history.get(_rel(u, root), 0.0), Path(u).stat().st_size), reverse=True)
    seed = os.environ.get("SCE_SEED", "0") or "0"
    full = os.environ.get("SCE_FULL", "0") or "0"
    jobs = max(1, jobs)
    notebooks: dict[str, dict] = {}
    for uri in uris:
        notebooks[_rel(uri, root)] = {"executed": False, "seconds": None, "error": None, "stderr": []}
    if not todo:
        log(f"execute_book: all {len(uris)} notebooks are in the cache ({_rel(cache_path, root)}); nothing to execute")
        _write_json(stamp_path, _stamp(root, key, [_rel(u, root) for u in uris]))
        return 0
    log(f"execute_book: executing {len(todo)} of {len(uris)} notebooks on {min(jobs, len(todo))} processes "
        f"(SCE_SEED={seed}{', SCE_FULL=' + full if full != '0' else ''}) into {_rel(cache_path, root)}")
    done = []

    def on_done(code: int, uri: str) -> None:
        done.append(uri)
        entry = notebooks[_rel(uri, root)]
        entry["executed"] = True
        if code == 0:
            record = cache.get_cached_project_nb(uri)
            entry["seconds"] = round(record.data.get("execution_seconds", 0.0), 2)
            entry["stderr"] = _stderr_outputs(cache.get_cache_bundle(record.pk).nb)
            verdict = f"{entry['seconds']:6.1f} s" + (f"  ({len(entry['stderr'])} output(s) on stderr)" if entry["stderr"] else "")
        else:
            tb = cache.get_project_record(uri).traceback if code == 1 else None
            if tb and "CellExecutionError: " in tb:  # the cell and the kernel's traceback, not the executor's
                tb = tb.split("CellExecutionError: ", 1)[1]
            entry["error"] = tb or "the executor failed before the notebook ran (see the log above)"
            verdict = "FAILED"
        log(f"  [{len(done)}/{len(todo)}] {_rel(uri, root):40s} {verdict}", flush=True)

    start = time.perf_counter()
    from parallel_executor import ParallelExecutor

    executor = ParallelExecutor(cache, jobs, on_done)
    from kernels import patience

    executor.run_and_cache(filter_uris=todo, timeout=settings.get("timeout", 300) * patience(),
                           allow_errors=bool(settings.get("allow_errors", False)))
    wall = time.perf_counter() - start
    executed = {name: e for name, e in notebooks.items() if e["executed"]}
    total = sum(e["seconds"] or 0.0 for e in executed.values())
    run = {"started": started, "jobs": min(jobs, len(todo)), "cpus": os.cpu_count(), "seed": seed, "full": full,
           "finished": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
           "wall_s": round(wall, 1), "sum_s": round(total, 1), "executed": len(executed), "of": len(uris),
           "notebooks": {**{n: {**e, "seconds": last_seconds.get(n)} for n, e in notebooks.items() if not e["executed"]},
                         **executed}}
    failed = {name: e["error"] for name, e in executed.items() if e["error"]}
    report = {**run, "cold": run if len(executed) == len(uris) and not failed else previous.get("cold")}
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(report, indent=1), encoding="utf-8")
    _write_json(TIMES, {**history, **{n: e["seconds"] for n, e in executed.items() if e["seconds"]}})
    log(f"execute_book: {len(executed)} notebooks in {wall:.1f} s of wall time on {run['jobs']} processes "
        f"(one after another: {total:.1f} s)")
    for name, entry in executed.items():
        for line in entry["stderr"]:
            log(f"execute_book: {name} wrote to stderr (the build fails on this): {line}")
    for name, tb in failed.items():
        log(f"\nexecute_book: {name} FAILED: a cell raised\n{tb}")
    if failed:
        log(f"execute_book: {len(failed)} notebook(s) failed: {', '.join(failed)}")
        return 1
    _write_json(stamp_path, _stamp(root, key, [_rel(u, root) for u in uris]))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                        help="processes (kernels) at a time; default: the number of cores")
    parser.add_argument("--root", type=Path, default=ROOT, help="the book's folder (with _toc.yml, _config.yml)")
    parser.add_argument("--cache", type=Path, help="the jupyter-cache folder (default: the build's, _build/.jupyter_cache)")
    parser.add_argument("--report", type=Path, help="the JSON report (default: _build/execution-report.json)")
    parser.add_argument("--keep-doctrees", action="store_true",
                        help="do not remove _build/.doctrees when the execution key changed (for a cache that "
                             "the book build does not read)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    build = root / "_build"
    return execute_book(args.jobs, (args.cache or build / CACHE.name).resolve(),
                        (args.report or build / REPORT.name).resolve(),
                        None if args.keep_doctrees else build / DOCTREES.name, root=root)


if __name__ == "__main__":
    sys.exit(main())
