"""The job engine in-process: with GPUs, one worker per GPU that sees only its own and offers a GPU resource."""

from __future__ import annotations

import os
import time

import pytest

from orfeas_nb.jobstate import DONE
from orfeas_nb.server.engine import Engine
from orfeas_nb.server.store import JobStore

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_with_gpus_each_worker_sees_its_own_and_jobs_ask_for_one(tmp_path, monkeypatch):
    monkeypatch.delenv("ORFEAS_SCHEDULER", raising=False)
    store = JobStore(tmp_path / "jobs")
    engine = Engine(store, gpus=2)  # no GPU here: the cluster's layout is what is checked
    try:
        client = engine._connect()
        seen = client.run(lambda: os.environ.get("CUDA_VISIBLE_DEVICES"))
        assert sorted(seen.values()) == ["0", "1"]
        workers = client.scheduler_info(n_workers=-1)["workers"].values()
        assert [w["resources"] for w in workers] == [{"GPU": 1}, {"GPU": 1}]
        assert engine.describe()["workers"] == 2
        from PIL import Image

        image = tmp_path / "square.png"
        Image.new("L", (40, 40), 255).save(image)
        job_id = store.create("generate-3d")
        engine.submit(job_id, "generate-3d", {"format": "stl", "method": "relief", "quality": 1, "size_mm": 20.0}, image)
        deadline = time.monotonic() + 120
        while store.get(job_id)["status"] != DONE and time.monotonic() < deadline:
            time.sleep(0.2)
        record = store.get(job_id)
        assert record["status"] == DONE, record
        assert store.path(job_id, "model.stl").stat().st_size > 84
        assert record["result"]["report"]["watertight"]
    finally:
        engine.close()
        store.close()


def wait_finished(store: JobStore, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while store.get(job_id)["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
    return store.get(job_id)


def test_jobs_go_to_the_scheduler_in_orfeas_scheduler_and_a_rerun_after_a_dead_worker_fails(tmp_path, monkeypatch):
    from distributed import Event, LocalCluster
    from PIL import Image

    from orfeas_nb.server import work

    image = tmp_path / "square.png"
    Image.new("L", (40, 40), 255).save(image)
    params = {"format": "obj", "method": "relief", "quality": 1, "size_mm": 15.0}
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        monkeypatch.setenv("ORFEAS_SCHEDULER", cluster.scheduler_address)
        store = JobStore(tmp_path / "jobs")
        engine = Engine(store)
        try:
            done = store.create("generate-3d")
            engine.submit(done, "generate-3d", params, image)
            assert wait_finished(store, done)["status"] == DONE
            assert engine.describe()["scheduler"] == cluster.scheduler_address
            # a remote scheduler retries a task whose worker died; the job sees it had started and fails instead
            rerun = store.create("generate-3d")
            Event(work.started_name(rerun), client=engine._client).set()
            engine.submit(rerun, "generate-3d", params, image)
            record = wait_finished(store, rerun)
            assert record["status"] == "failed" and record["error_type"] == "OutOfResources"
            assert record["error_message"] == work.WORKER_DIED
        finally:
            engine.close()
            store.close()


def test_an_unreachable_scheduler_fails_the_job_with_the_reason(tmp_path, monkeypatch):
    from tests.monitoring.conftest import free_port

    monkeypatch.setenv("ORFEAS_SCHEDULER", f"tcp://127.0.0.1:{free_port()}")
    monkeypatch.setenv("ORFEAS_SCHEDULER_TIMEOUT_S", "2")
    store = JobStore(tmp_path / "jobs")
    engine = Engine(store)
    try:
        job_id = store.create("generate-3d")
        engine.submit(job_id, "generate-3d", {}, None)
        record = wait_finished(store, job_id, timeout=60)
        assert record["status"] == "failed" and record["error_type"] == "EngineUnavailable"
        assert "cannot reach the Dask scheduler" in record["error_message"] and "ORFEAS_SCHEDULER" in record["error_message"]
        assert engine.describe()["state"] == "failed"
    finally:
        engine.close()
        store.close()
