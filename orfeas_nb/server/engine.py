"""The HTTP API's job engine: jobs run on Dask workers, never on the server's event loop or in its process.

On the first job the engine connects to the scheduler in ``ORFEAS_SCHEDULER`` or starts a
``LocalCluster`` of worker processes (``ORFEAS_SERVER_WORKERS``, default one; with CUDA one per GPU,
each seeing only its GPU and offering a ``GPU`` resource). Workers keep their loaded pipelines
between jobs. Progress comes back as ``orfeas-progress`` events, results as the job's files, which
the engine writes into the :class:`~.store.JobStore`. A worker that dies mid-job fails that job
(local clusters do not retry a task whose worker died; see :mod:`.work` for remote ones) and is
restarted by its nanny; the other jobs carry on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .. import config
from ..errors import JobCancelled, OrfeasError, OutOfResources
from ..jobstate import CANCELLED, DONE, FAILED, FINISHED, QUEUED, RUNNING, WAITING, error_dict
from . import work
from .store import JobStore

WORKER_MODULES = ["distributed", "orfeas_nb.api", "orfeas_nb.server.work"]
_log = logging.getLogger(__name__)


class EngineUnavailable(OrfeasError):
    """The Dask scheduler cannot be reached or has no worker."""


def _local_cluster(workers: int, gpus: int, scratch: str) -> Any:
    """A LocalCluster of ``workers`` processes, or one per GPU (``CUDA_VISIBLE_DEVICES`` each) when ``gpus``."""
    import dask
    from distributed import LocalCluster

    from ..batch.cluster import LOCAL_WORKERS
    from ..batch.forks import start_fork_server, start_method

    settings = {key: value for key, value in LOCAL_WORKERS.items() if key != "distributed.worker.preload"}
    settings["distributed.scheduler.allowed-failures"] = 0  # a worker that died fails its job, no rerun
    settings["distributed.worker.multiprocessing-method"] = start_method()
    if start_method() == "forkserver":
        start_fork_server(WORKER_MODULES)
    env = dict(os.environ)
    with dask.config.set(settings):
        cluster = LocalCluster(n_workers=0 if gpus else workers, threads_per_worker=1, processes=True,
                               local_directory=scratch, dashboard_address=":0", silence_logs=logging.ERROR, env=env)
        for index in range(gpus):
            ((name, spec),) = cluster.new_worker_spec().items()
            options = {**spec["options"], "resources": {"GPU": 1},
                       "env": {**env, "CUDA_VISIBLE_DEVICES": str(index)}, "name": name}
            cluster.worker_spec[name] = {**spec, "options": options}
        if gpus:
            cluster.scale(gpus)
    return cluster


class Engine:
    """Sends jobs of a :class:`JobStore` to Dask and writes back their progress, files and outcome."""

    def __init__(self, store: JobStore, *, gpus: int = 0):
        self.store = store
        self.gpus = gpus
        self.scheduler = config.get("scheduler") or None
        self.state = "idle"  # idle → starting → ready (or failed, retried at the next job)
        self.reason: str | None = None
        self._client: Any = None
        self._cluster: Any = None
        self._scratch: tempfile.TemporaryDirectory | None = None
        self._futures: dict[str, Any] = {}
        self._start_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(4, thread_name_prefix="orfeas-engine")
        self._probe = ThreadPoolExecutor(1, thread_name_prefix="orfeas-engine-probe")
        self._closed = threading.Event()

    # -- life cycle -------------------------------------------------------------------------------
    def _connect(self) -> Any:
        with self._start_lock:
            if self._client is not None:
                return self._client
            self.state = "starting"
            try:
                self._client = self._start()
            except Exception as exc:
                self.state, self.reason = "failed", str(exc)
                raise
            self._client.subscribe_topic(work.TOPIC, self._on_event)
            self.state, self.reason = "ready", None
            return self._client

    def _start(self) -> Any:
        from distributed import Client

        wait_s = config.get("scheduler_timeout_s")
        if self.scheduler:
            try:
                client = Client(self.scheduler, timeout=wait_s)
            except (OSError, ValueError, TimeoutError) as exc:
                raise EngineUnavailable(f"cannot reach the Dask scheduler at {self.scheduler!r} (ORFEAS_SCHEDULER): "
                                        f"{exc}; start it, or unset ORFEAS_SCHEDULER to use a local cluster") from exc
            try:
                client.wait_for_workers(1, timeout=wait_s)
            except TimeoutError as exc:
                client.close()
                raise EngineUnavailable(f"no Dask worker joined the scheduler at {self.scheduler} within {wait_s:g} s; "
                                        f"start one with `dask worker {self.scheduler}`") from exc
            return client
        self._scratch = tempfile.TemporaryDirectory(prefix="orfeas-server-dask-")
        self._cluster = _local_cluster(config.get("server_workers"), self.gpus, self._scratch.name)
        client = Client(self._cluster)
        client.wait_for_workers(max(1, self.gpus) if self.gpus else config.get("server_workers"), timeout=120)
        return client

    def close(self) -> None:
        """Stop the housekeeping, the client and a local cluster."""
        self._closed.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._probe.shutdown(wait=False, cancel_futures=True)
        with contextlib.suppress(Exception):
            if self._client is not None:
                self._client.close()
        with contextlib.suppress(Exception):
            if self._cluster is not None:
                self._cluster.close()
        if self._scratch is not None:
            self._scratch.cleanup()

    def start_housekeeping(self, every_s: float = 3600.0) -> None:
        """Remove jobs older than ``ORFEAS_JOBS_KEEP_DAYS`` now and then every ``every_s`` seconds."""

        def loop() -> None:
            while not self._closed.is_set():
                try:
                    removed = self.store.purge(config.get("jobs_keep_days"))
                    if removed:
                        _log.info("orfeas_nb: removed %d jobs older than ORFEAS_JOBS_KEEP_DAYS", len(removed))
                except Exception:  # noqa: BLE001 - housekeeping must not stop the server
                    _log.exception("orfeas_nb: removing old jobs failed")
                self._closed.wait(every_s)

        threading.Thread(target=loop, name="orfeas-housekeeping", daemon=True).start()

    def describe(self) -> dict[str, Any]:
        """What health-detailed shows: state, workers, running and queued jobs, scheduler."""
        pids: dict[str, int] = {}
        if self._client is not None:
            # workers answer from a thread of their own, even when busy; a scheduler that hangs costs 2 s at most
            with contextlib.suppress(Exception):
                pids = self._probe.submit(self._client.run, os.getpid, on_error="ignore").result(timeout=2)
        return {"state": self.state, "reason": self.reason, "scheduler": self.scheduler or "local",
                "workers": len(pids), "worker_pids": sorted(pids.values()),
                "running": self.store.count(RUNNING), "queued": self.store.count(QUEUED)}

    # -- jobs -------------------------------------------------------------------------------------
    def submit(self, job_id: str, kind: str, params: dict[str, Any], image_path: Path | None = None) -> None:
        """Send a queued job to Dask (from a background thread: this returns at once)."""
        if self._client is None:
            self.state = "starting"  # health says "online" from now until the workers are up
        self._pool.submit(self._submit, job_id, kind, params, image_path)

    def _submit(self, job_id: str, kind: str, params: dict[str, Any], image_path: Path | None) -> None:
        try:
            client = self._connect()
            image = image_path.read_bytes() if image_path is not None else None
            record = self.store.get(job_id)
            if record is None or record["status"] != QUEUED:
                return  # cancelled while the engine started
            resources = {"GPU": 1} if self.gpus and not self.scheduler else None
            future = client.submit(work.run_job, job_id, kind, params, image, key=f"orfeas-{job_id}", pure=False,
                                   resources=resources)
            self._futures[job_id] = future
            future.add_done_callback(lambda done: self._pool.submit(self._finish, job_id, done))
        except Exception as exc:  # noqa: BLE001 - the job fails with the reason; the server carries on
            _log.warning("orfeas_nb: job %s could not start: %s", job_id, exc)
            self._fail(job_id, exc)

    def _on_event(self, event: tuple[float, dict[str, Any]]) -> None:
        message = event[1]
        job_id = message.get("job_id")
        if not isinstance(job_id, str):
            return
        if self.store.update(job_id, status=RUNNING, started=time.time(), only_if=(QUEUED,)):
            return
        self.store.update(job_id, progress=float(message.get("progress", 0.0)), message=str(message.get("message", "")),
                          only_if=(RUNNING,))

    def _fail(self, job_id: str, exc: BaseException) -> None:
        status = CANCELLED if isinstance(exc, JobCancelled) else FAILED
        error = error_dict(exc)
        text = "cancelled" if status == CANCELLED else f"failed: {error['message']}"
        self.store.update(job_id, status=status, message=text, error_type=error["type"],
                          error_message=error["message"], finished=time.time(), only_if=WAITING)

    def _finish(self, job_id: str, future: Any) -> None:
        from distributed.scheduler import KilledWorker

        self._futures.pop(job_id, None)
        try:
            if future.cancelled():
                self._fail(job_id, JobCancelled("the job was cancelled"))
                return
            try:
                outcome = future.result()
            except KilledWorker:
                self._fail(job_id, OutOfResources(work.WORKER_DIED))
            except Exception as exc:  # noqa: BLE001 - the job's own error, reported in its record
                self._fail(job_id, exc)
            else:
                self.store.publish(job_id, outcome["files"])
                result = {**outcome["result"], "files": sorted(outcome["files"])}
                self.store.update(job_id, status=DONE, progress=1.0, message="done", result=result,
                                  finished=time.time(), only_if=WAITING)
        except Exception as exc:  # noqa: BLE001 - e.g. the disk is full: fail this job only
            self._fail(job_id, exc)
        finally:
            self._forget(job_id)

    def _forget(self, job_id: str) -> None:
        from distributed import Event

        with contextlib.suppress(Exception):
            for name in (work.cancel_name(job_id), work.started_name(job_id)):
                Event(name, client=self._client).clear()

    def cancel(self, job_id: str) -> None:
        """Ask a job to stop: a queued one is cancelled now, a running one at its next step or stage."""
        record = self.store.get(job_id)
        if record is None or record["status"] in FINISHED:
            return
        if record["status"] == QUEUED:
            self._fail(job_id, JobCancelled("the job was cancelled before it started"))
        else:
            self.store.update(job_id, message="cancelling", only_if=(RUNNING,))
        if self._client is not None:
            self._pool.submit(self._signal_cancel, job_id)

    def _signal_cancel(self, job_id: str) -> None:
        from distributed import Event

        Event(work.cancel_name(job_id), client=self._client).set()
        future = self._futures.get(job_id)
        record = self.store.get(job_id)
        if future is not None and record is not None and record["status"] == CANCELLED:
            future.cancel()  # never started: drop it from the scheduler
