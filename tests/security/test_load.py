"""Load: 50 jobs submitted at once from 50 threads to a bounded job queue.

Each job either finishes (a watertight model) or is refused at once with a clear "queue is full"
message; the queue never holds more than its limit; it keeps nothing once jobs are done; the
Prometheus counters count exactly the generations that ran.
"""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import psutil
import pytest
from prometheus_client import REGISTRY

import orfeas_nb
from orfeas_nb import jobs
from orfeas_nb.errors import OutOfResources

pytestmark = pytest.mark.security

SUBMITTERS = 50
IMAGE = (np.add.outer(np.arange(24), np.arange(32)) * 4).astype(np.uint8)


def generations(status: str) -> float:
    value = REGISTRY.get_sample_value(
        "orfeas_generations_total", {"type": "image_to_3d", "provider": "relief", "status": status}
    )
    return value or 0.0


def flood(queue: jobs.JobQueue) -> tuple[list[jobs.Job], list[OutOfResources], int]:
    """Submit from 50 threads released together; return accepted jobs, refusals and the most ever waiting."""
    barrier = threading.Barrier(SUBMITTERS)
    accepted: list[jobs.Job] = []
    refused: list[OutOfResources] = []
    lock = threading.Lock()
    most_waiting = 0

    def submit(index: int) -> None:
        nonlocal most_waiting
        barrier.wait()
        try:
            job = queue.submit(lambda job: orfeas_nb.image_to_3d(IMAGE, quality=1, size_mm=30), name=f"load-{index}")
        except OutOfResources as exc:
            with lock:
                refused.append(exc)
        else:
            with lock:
                accepted.append(job)
        with lock:
            most_waiting = max(most_waiting, queue.waiting)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(SUBMITTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return accepted, refused, most_waiting


def test_fifty_jobs_at_once_finish_or_are_refused_clearly(monkeypatch):
    monkeypatch.setenv("ORFEAS_QUEUE_LENGTH", "5")
    queue = jobs.JobQueue()
    successes_before, failures_before = generations("success"), generations("failed")
    process = psutil.Process()
    try:
        rss = []
        outcomes = []
        for _round in range(3):  # the same flood three times: memory must not grow with the rounds
            accepted, refused, most_waiting = flood(queue)
            assert len(accepted) + len(refused) == SUBMITTERS
            assert 1 <= len(accepted) and len(refused) >= 1  # 50 at once cannot all fit in 5 places
            assert most_waiting <= 5
            for exc in refused:
                assert "job queue is full" in str(exc) and "ORFEAS_QUEUE_LENGTH" in str(exc)
            for job in accepted:
                assert job.wait(120), f"{job} never finished"
                assert job.status == jobs.DONE, job.error
                assert job.result.report().watertight
            outcomes.append((len(accepted), len(refused)))
            results = [weakref.ref(job.result) for job in accepted]
            del accepted, refused, job, exc  # exc: its traceback reaches the submitters' closure
            gc.collect()
            # Bounded: at most the last job's model stays alive, referenced by the idle worker thread's local
            # variable in JobQueue._worker until the next job arrives (reported; one model, never a pile).
            assert sum(ref() is not None for ref in results) <= 1, "the queue keeps finished jobs and models"
            rss.append(process.memory_info().rss)
        assert queue.waiting == 0 and queue.running == 0
        assert jobs.counts() == {"running": 0, "waiting": 0}
        ran = sum(done for done, _ in outcomes)
        assert generations("success") - successes_before == ran, "one success counted per job that ran"
        assert generations("failed") - failures_before == 0, "a refused job never ran, so it is not a failed generation"
        assert rss[2] - rss[1] < 50 * 2**20, f"memory grew by {(rss[2] - rss[1]) / 2**20:.0f} MB between equal rounds"
        print(f"accepted/refused per round: {outcomes}; RSS after each round: {[r // 2**20 for r in rss]} MB")
    finally:
        queue.close()


def test_a_failing_job_is_counted_as_failed_and_the_worker_lives_on():
    queue = jobs.JobQueue(max_waiting=50)
    failed_before, success_before = generations("failed"), generations("success")
    try:
        bad = [queue.submit(lambda job: orfeas_nb.image_to_3d(b"<svg/>", quality=1)) for _ in range(3)]
        good = queue.submit(lambda job: orfeas_nb.image_to_3d(IMAGE, quality=1))
        assert good.wait(60)
        assert [job.status for job in bad] == [jobs.FAILED] * 3
        assert all("SVG/HTML" in job.message for job in bad)
        assert good.status == jobs.DONE
        assert generations("failed") - failed_before == 3
        assert generations("success") - success_before == 1
    finally:
        queue.close()


def test_a_closed_queue_refuses_new_work_clearly():
    queue = jobs.JobQueue(max_waiting=1)
    queue.close()
    with pytest.raises(OutOfResources, match="closed; create a new one"):
        queue.submit(lambda job: None)
