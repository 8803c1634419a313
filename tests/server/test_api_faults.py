"""Faults: a Dask worker killed mid-job, and the server itself killed mid-job and started again."""

from __future__ import annotations

import os
import signal

import pytest

from .conftest import ApiServer, png, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.security]
SLOW = {"prompt": "a slow owl", "steps": 200, "width": 64, "height": 64}


@pytest.fixture(scope="module")
def api(tmp_path_factory, tiny_sd_folder):
    server = ApiServer(tmp_path_factory.mktemp("faults"), env={
        "ORFEAS_TEXT_TO_IMAGE_MODEL": str(tiny_sd_folder), "HF_HUB_OFFLINE": "1",
    })
    try:
        yield server.start()
    finally:
        server.stop()


def running(api: ApiServer, job_id: str) -> dict:
    return wait_for(lambda: (job := api.job(job_id))["progress"] > 0.02 and job, 300, f"job {job_id} to take steps")


def test_a_worker_killed_mid_job_fails_that_job_and_the_next_succeeds(api):
    job_id = api.call("POST", "text-to-image", json=SLOW).json()["job_id"]
    running(api, job_id)
    pids = api.call("GET", "health-detailed").json()["engine"]["worker_pids"]
    assert len(pids) == 1 and pids[0] > 1  # never os.kill(0, ...): that is this test's own process group
    os.kill(pids[0], signal.SIGKILL)
    job = api.wait_job(job_id, timeout=120)
    assert job["status"] == "failed" and job["error"]["type"] == "OutOfResources", job
    assert "worker process running this job died" in job["error"]["message"]
    assert api.call("GET", "health", token=False).json() == {"status": "ready"}
    upload = api.upload(png()).json()["job_id"]
    after = api.wait_job(api.call("POST", "generate-3d", json={"job_id": upload, "quality": 1}).json()["job_id"])
    assert after["status"] == "done" and after["report"]["watertight"], after
    new_pids = api.call("GET", "health-detailed").json()["engine"]["worker_pids"]
    assert len(new_pids) == 1 and new_pids != pids  # the nanny started a new worker


def test_a_server_killed_mid_job_keeps_finished_jobs_and_fails_the_interrupted_one(api):
    upload = api.upload(png()).json()["job_id"]
    accepted = api.call("POST", "generate-3d", json={"job_id": upload, "quality": 2, "size_mm": 30})
    finished = api.wait_job(accepted.json()["job_id"])
    assert finished["status"] == "done"
    model = api.call("GET", f"jobs/{finished['job_id']}/model").content
    interrupted = api.call("POST", "text-to-image", json=SLOW).json()["job_id"]
    running(api, interrupted)

    api.kill()
    api.start()  # the same jobs folder
    again = api.job(finished["job_id"])
    assert again["status"] == "done" and again["report"] == finished["report"]
    assert api.call("GET", f"jobs/{finished['job_id']}/model").content == model
    assert api.call("GET", f"jobs/{upload}/image").content == png()
    lost = api.job(interrupted)
    assert lost["status"] == "failed" and lost["finished"] is not None
    assert lost["error"] == {"type": "OrfeasError", "message": "interrupted by a server restart; submit the job again"}
    listed = [j["job_id"] for j in api.call("GET", "jobs").json()["jobs"]]
    assert {upload, finished["job_id"], interrupted} <= set(listed)
