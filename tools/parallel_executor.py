"""jupyter-cache's local-parallel executor with a settable number of processes (tools/execute_book.py).

jupyter-cache's own `JupyterExecutorLocalMproc` always starts one process per core and hands out
notebooks in chunks; this one takes the number of processes, hands out one notebook at a time in the
order given, reports each result as it comes, and starts each kernel on IPC sockets (tools/kernels.py).
A notebook that failed before it ran (jupyter-cache's code 2: the kernel did not start in time, or the
cache's database stayed locked, both possible when a run at a lower priority waits for the cores) is
tried once more at the end; its reason is in the log (jupyter-cache's worker logs it). So is a
notebook whose kernel start was cancelled (asyncio.CancelledError, turned into an Exception so that it
does not kill the pool's process), and one reported run whose result is not in the cache.
The worker is jupyter-cache's (`ExecutionWorkerLocalMProc`): it executes a notebook in its own folder
and caches the result, or records the traceback.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from pathlib import Path

from jupyter_cache.base import JupyterCacheAbstract, ProjectNb
from jupyter_cache.executors.base import JupyterExecutorAbstract
from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc, ProcessData
from jupyter_cache.executors.utils import ExecutionResult, single_nb_execution

from kernels import ipc_kernel_config


class Worker(ExecutionWorkerLocalMProc):
    """jupyter-cache's parallel worker (executes in the notebook's folder and caches the result),
    with the kernel on IPC sockets."""

    @staticmethod
    def execute(project_nb: ProjectNb, data: ProcessData) -> ExecutionResult:
        # jupyter-cache's worker also logs a failing cell as a warning; execute_book prints it once.
        multiprocessing.get_logger().setLevel(logging.ERROR)
        try:
            with ipc_kernel_config() as config:
                return single_nb_execution(project_nb.nb, cwd=str(Path(project_nb.uri).parent),
                                           timeout=data.timeout, allow_errors=data.allow_errors, config=config)
        except asyncio.CancelledError as exc:
            # Seen once in a cold `make book`: the kernel's start was cancelled inside nbclient. It is a
            # BaseException, which jupyter-cache's worker does not catch: the pool's process died, its
            # notebook was lost and the pool would have waited for it forever. As an Exception it is
            # jupyter-cache's code 2 (failed before the notebook ran), which is tried once more.
            raise RuntimeError(f"the kernel's start or the execution was cancelled ({exc!r})") from exc


class ParallelExecutor(JupyterExecutorAbstract):
    """jupyter-cache's local-parallel executor with a settable number of processes, which hands out
    one notebook at a time, in the order given (longest first balances the load)."""

    def __init__(self, cache: JupyterCacheAbstract, jobs: int, on_done=None) -> None:
        super().__init__(cache)
        self.jobs = jobs
        self.on_done = on_done or (lambda code, uri: None)

    def run_and_cache(self, *, filter_uris=None, filter_pks=None, timeout=30, allow_errors=False,
                      force=False) -> dict[str, int]:
        records = self.get_records(filter_uris, filter_pks, clear_tracebacks=True, force=force)
        if filter_uris is not None:  # keep the caller's order
            rank = {uri: i for i, uri in enumerate(filter_uris)}
            records.sort(key=lambda r: rank.get(r.uri, len(rank)))
        tasks = [ProcessData(r.pk, r.uri, self.cache, timeout, allow_errors) for r in records]
        results: dict[str, int] = {}
        if not tasks:
            return results
        retry = []
        with multiprocessing.Pool(min(self.jobs, len(tasks))) as pool:
            for code, uri in pool.imap_unordered(Worker(), tasks, chunksize=1):
                if code == 0 and self.cache.get_cached_project_nb(uri) is None:
                    code = 2  # it ran, but its result is not in the cache (seen with the cancelled start above)
                if code == 2:  # no kernel started, or the cache was busy: not the notebook's fault
                    retry.append(uri)
                    continue
                results[uri] = code
                self.on_done(code, uri)
            again = [t for t in tasks if t.uri in retry]
            for code, uri in pool.imap_unordered(Worker(), again, chunksize=1):  # once more, then it counts
                results[uri] = code
                self.on_done(code, uri)
        return results
