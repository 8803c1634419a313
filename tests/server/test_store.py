"""The job store: durable records, restart semantics, old-job removal and paths never taken from input."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orfeas_nb.jobstate import CANCELLED, DONE, FAILED, QUEUED, RUNNING
from orfeas_nb.server.store import INTERRUPTED, JobStore, valid_id

pytestmark = pytest.mark.unit


@pytest.fixture
def store(tmp_path):
    opened = JobStore(tmp_path / "jobs")
    yield opened
    opened.close()


def test_records_and_files_survive_a_reopen(tmp_path, store):
    done = store.create("generate-3d", params={"quality": 3})
    store.publish(done, {"model.stl": b"solid", "manifest.json": b"{}"})
    store.update(done, status=DONE, progress=1.0, result={"files": ["manifest.json", "model.stl"]}, finished=time.time())
    running = store.create("text-to-image")
    store.update(running, status=RUNNING, started=time.time())
    queued = store.create("generate-3d")
    store.close()

    reopened = JobStore(tmp_path / "jobs")
    assert reopened.interrupt_unfinished() == 2
    assert reopened.get(done)["status"] == DONE and reopened.get(done)["params"] == {"quality": 3}
    assert reopened.path(done, "model.stl").read_bytes() == b"solid"
    for job_id in (running, queued):
        record = reopened.get(job_id)
        assert record["status"] == FAILED and record["error_message"] == INTERRUPTED
        assert record["error_type"] == "OrfeasError" and record["finished"] is not None
    reopened.close()


def test_a_restart_leaves_the_jobs_of_another_live_server_alone(tmp_path, store):
    import os
    import subprocess
    import sys

    live, dead = os.getppid(), subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    theirs, lost = store.create("generate-3d"), store.create("generate-3d")
    store.update(theirs, owner=live)
    store.update(lost, owner=dead.pid)
    assert store.interrupt_unfinished() == 1
    assert store.get(theirs)["status"] == QUEUED and store.get(lost)["status"] == FAILED


def test_updates_can_be_guarded_by_status(store):
    job_id = store.create("generate-3d")
    assert store.update(job_id, status=CANCELLED, only_if=(QUEUED,))
    assert not store.update(job_id, status=RUNNING, only_if=(QUEUED,))  # a late "started" event changes nothing
    assert store.get(job_id)["status"] == CANCELLED
    with pytest.raises(ValueError, match="unknown job fields"):
        store.update(job_id, **{"status = 'done' --": 1})


def test_old_finished_jobs_and_their_files_are_removed(store):
    old = store.create("upload", status=DONE)
    store.publish(old, {"input": b"png"})
    store._db.execute("UPDATE jobs SET created = ? WHERE id = ?", (time.time() - 3 * 86400, old))
    waiting = store.create("generate-3d")
    store._db.execute("UPDATE jobs SET created = ? WHERE id = ?", (time.time() - 3 * 86400, waiting))
    recent = store.create("upload", status=DONE)
    assert store.purge(keep_days=2) == [old]
    assert store.get(old) is None and not store.path(old, "input").parent.exists()
    assert store.get(waiting) and store.get(recent)


def test_pages_newest_first(store):
    ids = [store.create("upload", status=DONE) for _ in range(5)]
    page, total = store.recent(limit=2, offset=1)
    assert total == 5 and [r["id"] for r in page] == ids[::-1][1:3]


@settings(max_examples=60)
@given(st.text(max_size=60))
def test_no_path_is_built_from_client_input(text):
    """Only canonical UUIDs name a folder, and only fixed names a file."""
    canonical = valid_id(text)
    assert canonical is None or (len(canonical) == 36 and "/" not in canonical and ".." not in canonical)


def test_file_names_are_fixed(store):
    job_id = store.create("upload", status=DONE)
    for job, name in ((job_id, "../../etc/passwd"), ("../x", "input"), (job_id, "model.exe")):
        with pytest.raises(ValueError, match="not a job file"):
            store.path(job, name)
