"""The kernel transport every execution of the book uses: IPC sockets in a private folder.

jupyter_client starts a kernel on TCP ports by default, and ipykernel (>= 7) then warns on its stderr,
once per kernel, "Kernel is running over TCP without encryption". The book's kernels talk only to the
process that started them, on the same machine, so they use IPC (Unix-domain sockets) instead, which
the warning itself recommends. Each kernel gets its own folder for its sockets: two kernels started at
the same time (the parallel executor) cannot collide, and no socket file lands in the chapter folder
(jupyter_client's default for IPC is ``kernel-ipc-N`` in the kernel's working directory). IPC also
needs no free TCP ports, which two processes picking ports at the same time could both choose.

    with ipc_kernel_config() as config:
        NotebookClient(nb, kernel_name="python3", config=config, ...).execute()

Only the transport changes: the kernel's own stderr still reaches the terminal, so a real error in a
kernel still shows.

A kernel started from a process that runs at a lower priority (``nice -n 10``, as `make test` runs the
execution under a second seed) keeps that priority. jupyter_client starts every kernel in a session of
its own, and where Linux groups the processes of a session for scheduling (autogroup, the default on
most distributions), a niceness counts only within its group: every kernel would get an equal share
of the cores, whatever its niceness. The kernel's group is given the starting process's niceness, and
as such a kernel waits for the cores while the others run, its time limits (the kernel's start here,
each cell in tools/execute_book.py) are ``PATIENCE`` times longer.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from traitlets.config import Config

PATIENCE = 10  # how many times longer a kernel started at a lower priority may take to start, or a cell to run


def patience() -> int:
    """``PATIENCE`` in a process running at a lower priority (niceness > 0), else 1."""
    return PATIENCE if os.nice(0) > 0 else 1


@contextmanager
def ipc_kernel_config() -> Iterator[Config]:
    """A traitlets Config for nbclient's NotebookClient (``config=``) that makes its KernelManager
    start the kernel on IPC sockets in a fresh private folder, removed on exit. On Windows, which has
    no IPC transport in ZeroMQ, the default (TCP) is kept."""
    if sys.platform.startswith("win"):
        yield Config()
        return
    # A short path under the system's temporary folder: a Unix socket path has at most ~104 bytes.
    folder = Path(tempfile.mkdtemp(prefix="sce-kernel-"))
    config = {"KernelManager": {"transport": "ipc", "ip": str(folder / "k")}}
    if os.nice(0) > 0:
        config["NotebookClient"] = {"on_notebook_start": _lower_kernel_groups, "startup_timeout": 60 * patience()}
    try:
        yield Config(config)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _lower_kernel_groups(**_) -> None:
    """Give the autogroups of this process's children (the kernel just started) its own niceness.
    Where there is no autogroup (not Linux, or switched off) nothing is written."""
    import psutil

    nice = os.nice(0)
    for child in psutil.Process().children():
        try:
            Path(f"/proc/{child.pid}/autogroup").write_text(str(nice), encoding="ascii")
        except OSError:
            pass
