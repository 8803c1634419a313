"""Back-pressure and upload limits on a server with small ORFEAS_* limits: 429 with Retry-After, 413."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .conftest import ApiServer, png, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.security]


@pytest.fixture(scope="module")
def api(tmp_path_factory, tiny_sd_folder):
    server = ApiServer(tmp_path_factory.mktemp("limits"), env={
        "ORFEAS_TEXT_TO_IMAGE_MODEL": str(tiny_sd_folder), "HF_HUB_OFFLINE": "1", "ORFEAS_MAX_QUEUED_JOBS": "1",
        "ORFEAS_RATE_LIMIT": "120", "ORFEAS_MAX_UPLOAD_BYTES": "200000",
    })
    try:
        yield server.start()
    finally:
        server.stop()


def test_uploads_above_the_limit_get_413(api):
    big = png()[:16] + bytes(250_000)
    response = api.upload(big)
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "PayloadTooLarge"
    assert "ORFEAS_MAX_UPLOAD_BYTES" in response.json()["error"]["message"]
    assert api.upload(png()).status_code == 200  # the connection and the server carry on


def test_more_waiting_jobs_than_the_limit_get_429(api):
    slow = {"prompt": "a slow owl", "steps": 200, "width": 64, "height": 64}
    running = api.call("POST", "text-to-image", json=slow).json()["job_id"]
    assert api.call("GET", "health", token=False).json() == {"status": "online"}  # the first job starts the engine
    # polls once a second: under the refill of 2 a second, so the rate limit stays out of this test
    wait_for(lambda: api.job(running)["status"] == "running", 300, "the first job to run", interval=1.0)
    waiting = api.call("POST", "text-to-image", json=slow)
    assert waiting.status_code == 202  # one may wait
    refused = api.call("POST", "generate-3d", json={"prompt": "a pawn", "method": "relief"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "ORFEAS_MAX_QUEUED_JOBS" in refused.json()["error"]["message"]
    gauges = {s.labels["status"]: s.value for family in text_string_to_metric_families(api.call("GET", "metrics").text)
              for s in family.samples if s.name == "orfeas_api_jobs"}
    assert gauges == {"queued": 1.0, "running": 1.0}
    # a queued job is cancelled at once; the running one at its next step
    assert api.call("DELETE", f"jobs/{waiting.json()['job_id']}").json()["status"] == "cancelled"
    api.call("DELETE", f"jobs/{running}")
    assert wait_for(lambda: api.job(running)["status"] == "cancelled", 120, "the cancel", interval=1.0)
    assert api.call("GET", "health", token=False).json() == {"status": "ready"}


def test_a_client_above_the_rate_limit_gets_429_and_health_stays_open(api):
    answers = [api.call("GET", "jobs?limit=1") for _ in range(150)]  # 120 a minute, bursts of 20
    codes = {r.status_code for r in answers}
    assert codes == {200, 429}
    refused = next(r for r in answers if r.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1 and "ORFEAS_RATE_LIMIT" in refused.json()["error"]["message"]
    assert all(api.call("GET", "health", token=False).status_code == 200 for _ in range(20))
