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
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from traitlets.config import Config


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
    try:
        yield Config({"KernelManager": {"transport": "ipc", "ip": str(folder / "k")}})
    finally:
        shutil.rmtree(folder, ignore_errors=True)
