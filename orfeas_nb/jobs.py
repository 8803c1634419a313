"""Background jobs: a :class:`Job` per piece of work and a bounded :class:`JobQueue` that runs them.

A queue owns one worker thread that runs its jobs one at a time, in order, so the kernel (or the
caller) stays free. Each job carries a cancel :class:`threading.Event` that the work checks (or
hands to the api as ``cancel=``) and a progress value that the work reports through
:meth:`Job.update`.

    >>> queue = JobQueue(max_waiting=2)
    >>> job = queue.submit(lambda job: 6 * 7, name="answer")
    >>> job.wait(10)
    True
    >>> job.status, job.result
    ('done', 42)
    >>> queue.close()

The gauges an operator wants are plain properties: :attr:`JobQueue.running` (jobs in progress) and
:attr:`JobQueue.waiting` (queue length); :func:`counts` sums them over every live queue.
"""

from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from . import config
from .errors import JobCancelled, OutOfResources
from .jobstate import CANCELLED, DONE, FAILED, FINISHED, QUEUED, RUNNING, error_dict, job_dict

__all__ = ["CANCELLED", "DONE", "FAILED", "FINISHED", "QUEUED", "RUNNING", "Job", "JobQueue", "counts"]

Listener = Callable[["Job"], None]
_ids = itertools.count(1)
_log = logging.getLogger(__name__)
_queues: weakref.WeakSet[JobQueue] = weakref.WeakSet()


class Job:
    """One piece of work: its status, progress (0–1), message, result or error, and a cancel flag.

    ``work`` is called as ``work(job)`` on the queue's worker thread; it reports progress with
    :meth:`update` and should stop early (raise :class:`JobCancelled`, e.g. via
    :meth:`raise_if_cancelled`) once :attr:`cancel_event` is set.
    """

    def __init__(self, work: Callable[[Job], Any], *, name: str = "job"):
        self.id = f"job-{next(_ids)}"
        self.name = name
        self.status = QUEUED
        self.progress = 0.0
        self.message = "waiting"
        self.result: Any = None
        self.error: BaseException | None = None
        self.cancel_event = threading.Event()
        self.created, self.started, self.ended = time.time(), None, None
        self._work = work
        self._finished = threading.Event()
        self._listeners: list[Listener] = []

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.name!r} {self.status} {self.progress:.0%}>"

    @property
    def finished(self) -> bool:
        """True once the job is done, failed or cancelled."""
        return self.status in FINISHED

    def to_dict(self) -> dict[str, Any]:
        """The job as plain data, in the same shape as the HTTP API's jobs (:func:`orfeas_nb.jobstate.job_dict`)."""
        return job_dict(self.id, self.name, self.status, progress=self.progress, message=self.message,
                        error=error_dict(self.error), created=self.created, started=self.started,
                        finished=self.ended)

    def on_change(self, listener: Listener) -> None:
        """Call ``listener(job)`` after every status or progress change (on the worker thread)."""
        self._listeners.append(listener)

    def update(self, progress: float | None = None, message: str | None = None) -> None:
        """Report progress (clamped to 0–1) and/or a status message, then raise if cancelled."""
        if progress is not None:
            self.progress = min(1.0, max(0.0, float(progress)))
        if message is not None:
            self.message = message
        self._notify()
        self.raise_if_cancelled()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`JobCancelled` if someone asked this job to stop."""
        if self.cancel_event.is_set():
            raise JobCancelled(f"{self.name} was cancelled")

    def cancel(self) -> None:
        """Ask the job to stop. A queued job is cancelled at once; a running one at its next check."""
        self.cancel_event.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished; return False if ``timeout`` seconds passed first."""
        return self._finished.wait(timeout)

    def _run(self) -> None:
        if self.cancel_event.is_set():
            self._finish(CANCELLED, error=JobCancelled(f"{self.name} was cancelled before it started"))
            return
        self.status, self.message, self.started = RUNNING, "running", time.time()
        self._notify()
        try:
            result = self._work(self)
        except JobCancelled as exc:
            self._finish(CANCELLED, error=exc)
        except Exception as exc:  # noqa: BLE001 - a failed job records its error; the worker lives on
            self._finish(FAILED, error=exc)
        else:
            self.result = result
            self.progress = 1.0
            self._finish(DONE)

    def _finish(self, status: str, error: BaseException | None = None) -> None:
        self.status, self.error, self.ended = status, error, time.time()
        self.message = {DONE: "done", CANCELLED: "cancelled"}.get(status) or f"failed: {error}"
        self._notify()
        self._finished.set()

    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:  # noqa: BLE001 - a broken display must not kill the job or the worker
                _log.exception("listener of %s failed", self.id)


class JobQueue:
    """Runs submitted jobs one at a time on a background thread, refusing work when too many wait.

    ``max_waiting`` defaults to ``ORFEAS_QUEUE_LENGTH`` (read at each submit).
    """

    def __init__(self, max_waiting: int | None = None):
        self._max_waiting = max_waiting
        self._pending: collections.deque[Job] = collections.deque()
        self._current: Job | None = None
        self._condition = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        _queues.add(self)

    @property
    def limit(self) -> int:
        """How many jobs may wait before :meth:`submit` refuses new ones."""
        return self._max_waiting if self._max_waiting is not None else config.get("queue_length")

    @property
    def waiting(self) -> int:
        """Jobs submitted and not started yet (the queue length)."""
        with self._condition:
            return len(self._pending)

    @property
    def running(self) -> int:
        """Jobs in progress right now (0 or 1)."""
        with self._condition:
            return int(self._current is not None)

    def submit(self, work: Callable[[Job], Any], *, name: str = "job") -> Job:
        """Queue ``work(job)`` and return its :class:`Job`; raise :class:`OutOfResources` if the queue is full."""
        job = Job(work, name=name)
        with self._condition:
            if self._closed:
                raise OutOfResources("this job queue is closed; create a new one")
            limit = self.limit
            if len(self._pending) >= limit:
                raise OutOfResources(
                    f"job queue is full ({len(self._pending)} waiting); wait for a job to finish or raise "
                    "ORFEAS_QUEUE_LENGTH"
                )
            self._pending.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._worker, name="orfeas-jobs", daemon=True)
                self._thread.start()
            self._condition.notify()
        return job

    def close(self, *, cancel: bool = True, timeout: float | None = 30) -> None:
        """Stop the worker after the current job; with ``cancel`` also cancel running and waiting jobs."""
        with self._condition:
            self._closed = True
            if cancel:
                for job in [self._current, *self._pending]:
                    if job is not None:
                        job.cancel()
            self._condition.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _worker(self) -> None:
        while True:
            with self._condition:
                while not self._pending and not self._closed:
                    self._condition.wait()
                if not self._pending:
                    return
                job = self._current = self._pending.popleft()
            try:
                job._run()
            finally:
                with self._condition:
                    self._current = None
                job = None  # the idle worker must not keep the last job's model alive


def counts() -> dict[str, int]:
    """Jobs in progress and waiting, summed over every live :class:`JobQueue` (for monitoring gauges).

    >>> sorted(counts())
    ['running', 'waiting']
    """
    live = list(_queues)
    return {"running": sum(q.running for q in live), "waiting": sum(q.waiting for q in live)}
