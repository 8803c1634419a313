"""Where batch runs execute: a Dask client on a fresh local cluster or on a scheduler given by address.

Local worker processes are forked from a *fork server* that has already imported papermill and Dask
(the standard library's ``forkserver`` start method, preloaded). A freshly spawned process would pay
those imports again for every worker: about 3 CPU-seconds each here, much of it nbformat's JSON
schema stack, which is as much as a whole short run. :func:`warm_up` starts that server at the very
beginning of a batch, so it loads while the client reads the notebook. Fork servers are clean,
single-threaded processes, so forking from one is safe even when the batch starts from a Jupyter kernel.
Each worker then takes the client's current environment variables (the server's copy dates from its
start); variables removed since are not removed. Where the start method does not exist (Windows)
workers are spawned as usual.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import tempfile
from collections.abc import Iterator
from typing import Any

from .. import config
from ..errors import InvalidInput, OutOfResources
from .forks import start_fork_server, start_method

WORKER_MODULES = ["distributed", "papermill", "orfeas_nb.batch.execute"]

# Dask settings for local workers that each run one notebook at a time: the statistical profiler
# (every 10 ms) and the fast health checks cost CPU that the notebooks' kernels need on a small machine;
# this module's dask_setup runs in each worker as it starts.
LOCAL_WORKERS = {
    "distributed.worker.preload": [__name__],
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.system-monitor.gil.enabled": False,
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.worker.daemon": False,  # so that a worker may start its warm-kernel server (see warm_kernels)
}


def dask_setup(worker: Any) -> None:
    """In a local worker as it starts: leave Ctrl-C to the client; start loading the warm-kernel server.

    A terminal sends SIGINT to every process of the command; a worker that took it would die with a
    traceback in the middle of a run instead of being shut down by the client, in order.
    """
    from . import warm_kernels

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm_kernels.warm_up()


def warm_up() -> None:
    """Start the fork server that local workers come from, where the platform has one."""
    if start_method() == "forkserver":
        start_fork_server(WORKER_MODULES)


@contextlib.contextmanager
def client(workers: int, scheduler: str | None) -> Iterator[Any]:
    """A Dask client: on a fresh ``LocalCluster`` of ``workers`` processes, or on the scheduler at an address."""
    from distributed import Client

    if scheduler is not None:
        wait_s = config.get("scheduler_timeout_s")
        try:
            remote = Client(scheduler, timeout=wait_s)
        except (OSError, ValueError) as exc:
            raise InvalidInput(
                f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); start one with "
                "`dask scheduler` and `dask worker ADDRESS`, or leave out --scheduler to run locally"
            ) from exc
        with remote:
            try:
                remote.wait_for_workers(1, timeout=wait_s)
            except TimeoutError as exc:
                raise OutOfResources(
                    f"no Dask worker joined the scheduler at {scheduler} within {wait_s:g} s; "
                    f"start one with `dask worker {scheduler}` (ORFEAS_SCHEDULER_TIMEOUT_S sets the wait)"
                ) from exc
            yield remote
        return
    with tempfile.TemporaryDirectory(prefix="orfeas-dask-") as scratch, _local_cluster(workers, scratch) as cluster:
        with Client(cluster) as local:
            yield local


def _local_cluster(workers: int, scratch: str) -> Any:
    import dask
    from distributed import LocalCluster

    warm_up()
    with dask.config.set({**LOCAL_WORKERS, "distributed.worker.multiprocessing-method": start_method()}):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            local_directory=scratch,
            dashboard_address=":0",  # a free port: 8787 may belong to another cluster
            silence_logs=logging.ERROR,
            env=dict(os.environ),  # the fork server's copy dates from its start: workers get today's
        )
