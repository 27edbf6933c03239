"""Execute one or more chapters outside the book build, as the build runs them, and report.

    .venv/bin/python tools/execute_chapter.py book/06-separability.md [more.md ...]
    SCE_SEED=3 .venv/bin/python tools/execute_chapter.py book/06-separability.md

Each chapter runs in a fresh kernel whose working directory is the chapter's folder (one thread, as
`make book` sets). Prints the wall time, every stream written to stderr (the strict build treats
them as errors), and writes the executed notebook to _build/executed/<name>.ipynb, so its printed
output can be read. Exits 1 on the first failing cell, with the cell's traceback.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kernels import ipc_kernel_config  # noqa: E402  (IPC sockets: no TCP warning from the kernel)

ROOT = Path(__file__).resolve().parents[1]


def main(paths: list[str]) -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    out = ROOT / "_build" / "executed"
    out.mkdir(parents=True, exist_ok=True)
    status = 0
    for name in paths:
        path = Path(name).resolve()
        nb = jupytext.read(path)
        start = time.perf_counter()
        with ipc_kernel_config() as config:
            client = NotebookClient(nb, timeout=900, kernel_name="python3", config=config,
                                    resources={"metadata": {"path": str(path.parent)}})
            try:
                client.execute()
                verdict = "ok"
            except CellExecutionError as err:
                verdict = "FAILED"
                print(err, file=sys.stderr)
                status = 1
        elapsed = time.perf_counter() - start
        nbformat.write(nb, out / f"{path.stem}.ipynb")
        stderr = [o["text"] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.get("name") == "stderr"]
        print(f"{path.name}: {verdict} in {elapsed:.1f} s (SCE_SEED={os.environ.get('SCE_SEED', '0')}); "
              f"{len(stderr)} stderr output(s); executed notebook in {out / (path.stem + '.ipynb')}")
        for text in stderr:
            print("  stderr:", text.strip()[:500])
        if status:
            break
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
