"""Where long work runs: this process, every local core, or a dask cluster.

An inversion splits its frames into fixed blocks (:data:`ndp.model.series.BLOCK_FRAMES`) and
hands them to a :class:`concurrent.futures.Executor`; :func:`executor` gives the one a user asked
for. Since the blocks do not depend on the number of workers, neither do the results.

>>> with executor(1) as ex:
...     ex is None
True
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager

from ndp.errors import NdpError

__all__ = ["available_cores", "executor"]


def available_cores() -> int:
    """Cores this process may use (its CPU affinity where the system has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


@contextmanager
def executor(jobs: int | None = None, *, scheduler: str | None = None,
             timeout_s: float = 10.0) -> Iterator[Executor | None]:
    """An executor for ``jobs`` local processes, or for a dask cluster; None for one job.

    Parameters
    ----------
    jobs : int, optional
        Worker processes; ``None`` or 0 means every available core. 1 runs here, in order.
    scheduler : str, optional
        Address of a ``dask.distributed`` scheduler (``tcp://host:8786``): the blocks run on its
        workers instead (needs ``pip install distributed``); ``jobs`` is then ignored.
    timeout_s : float
        How long to wait for the scheduler to answer.

    Yields
    ------
    concurrent.futures.Executor or None
    """
    if scheduler is not None:
        try:
            from distributed import Client  # optional (the cluster extra)
        except ImportError:
            raise NdpError(f"--scheduler {scheduler}: running on a dask cluster needs "
                           "`pip install distributed`") from None  # fmt: skip
        try:
            client = Client(scheduler, timeout=f"{timeout_s}s")
        except OSError as err:
            raise NdpError(f"--scheduler {scheduler}: no dask scheduler answers there ({err})") from None
        try:
            yield client.get_executor()
        finally:
            client.close()
        return
    if jobs is not None and jobs < 0:
        raise NdpError(f"--jobs: expected a number of processes >= 0 (0: every core), got {jobs}")
    n = available_cores() if not jobs else int(jobs)
    if n == 1:
        yield None
        return
    with ProcessPoolExecutor(max_workers=n) as pool:
        yield pool
