"""The job layer: statuses, progress, cancel, the bounded queue and the counts monitoring reads."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orfeas_nb import jobs
from orfeas_nb.errors import InvalidInput, JobCancelled, OutOfResources
from orfeas_nb.jobs import Job, JobQueue

pytestmark = pytest.mark.unit


@pytest.fixture
def queue():
    q = JobQueue(max_waiting=2)
    yield q
    q.close()


def blocker(gate: threading.Event, started: threading.Event | None = None):
    def work(job):
        if started is not None:
            started.set()
        gate.wait(10)
        return "released"

    return work


def test_a_job_runs_in_the_background_and_reports_each_status(queue):
    seen = []
    job = queue.submit(lambda job: (job.update(0.5, "half way"), 42)[1], name="answer")
    job.on_change(lambda j: seen.append((j.status, round(j.progress, 2), j.message)))
    assert job.wait(10)
    assert (job.status, job.result, job.error, job.progress, job.finished) == ("done", 42, None, 1.0, True)
    assert seen[-1] == ("done", 1.0, "done")
    assert job.id.startswith("job-") and "answer" in repr(job)


def test_a_failing_job_keeps_its_error_and_the_worker_goes_on(queue):
    def broken(job):
        raise InvalidInput("size_mm must be between 1 and 2000")

    bad = queue.submit(broken)
    good = queue.submit(lambda job: "fine")
    assert bad.wait(10) and good.wait(10)
    assert bad.status == "failed" and isinstance(bad.error, InvalidInput)
    assert bad.message == "failed: size_mm must be between 1 and 2000"
    assert good.status == "done" and good.result == "fine"


def test_cancel_stops_a_running_job_at_its_next_check(queue):
    started = threading.Event()

    def loop(job):
        started.set()
        while True:
            job.update(0.1, "working")  # raises JobCancelled once cancelled
            job.cancel_event.wait(0.01)

    job = queue.submit(loop, name="loop")
    assert started.wait(10)
    job.cancel()
    assert job.wait(10)
    assert job.status == "cancelled" and isinstance(job.error, JobCancelled) and job.message == "cancelled"


def test_a_job_cancelled_while_queued_never_runs(queue):
    gate, ran = threading.Event(), []
    first = queue.submit(blocker(gate))
    second = queue.submit(lambda job: ran.append(1))
    second.cancel()
    gate.set()
    assert first.wait(10) and second.wait(10)
    assert second.status == "cancelled" and ran == []
    assert "before it started" in str(second.error)


def test_a_full_queue_refuses_with_the_documented_message(monkeypatch):
    monkeypatch.setenv("ORFEAS_QUEUE_LENGTH", "2")
    queue = JobQueue()
    gate, started = threading.Event(), threading.Event()
    try:
        queue.submit(blocker(gate, started))
        assert started.wait(10)
        queue.submit(lambda job: 1)
        queue.submit(lambda job: 2)
        assert (queue.running, queue.waiting, queue.limit) == (1, 2, 2)
        with pytest.raises(OutOfResources) as refused:
            queue.submit(lambda job: 3)
        assert str(refused.value) == (
            "job queue is full (2 waiting); wait for a job to finish or raise ORFEAS_QUEUE_LENGTH"
        )
        assert refused.value.exit_code == 4
    finally:
        gate.set()
        queue.close(cancel=False)
    assert (queue.running, queue.waiting) == (0, 0)


def test_counts_sum_running_and_waiting_jobs_over_live_queues(queue):
    gate, started = threading.Event(), threading.Event()
    before = jobs.counts()
    queue.submit(blocker(gate, started))
    assert started.wait(10)
    queue.submit(lambda job: None)
    now = jobs.counts()
    assert now["running"] == before["running"] + 1 and now["waiting"] == before["waiting"] + 1
    gate.set()


def test_close_cancels_waiting_jobs_and_refuses_new_ones():
    queue = JobQueue(max_waiting=3)
    gate, started = threading.Event(), threading.Event()
    running = queue.submit(blocker(gate, started))
    assert started.wait(10)
    waiting = queue.submit(lambda job: "never")
    threading.Timer(0.2, gate.set).start()
    queue.close(cancel=True)
    assert waiting.status == "cancelled" and running.finished
    with pytest.raises(OutOfResources, match="closed"):
        queue.submit(lambda job: None)


def test_a_broken_listener_does_not_break_the_job(caplog):
    job = Job(lambda job: "ok", name="listened")
    job.on_change(lambda j: 1 / 0)
    job._run()
    assert job.status == "done" and job.result == "ok"
    assert "listener of" in caplog.text


@given(st.floats(allow_nan=False))
def test_progress_is_clamped_to_0_1(value):
    job = Job(lambda job: None)
    job.update(value)
    assert 0.0 <= job.progress <= 1.0
    assert job.progress == min(1.0, max(0.0, value))
