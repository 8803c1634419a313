"""Load: 50 concurrent requests to a real server, mixing uploads, generations and status polls.

Only 200, 202 and 429 (with Retry-After) come back; every accepted job finishes; ``GET health`` answers in
under a second all along; ``orfeas_requests_total`` counts exactly the requests sent.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter

import httpx
import numpy as np
import pytest
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from .conftest import Served

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.security]
CONCURRENT = 50


def png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (48, 64), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


class Counted:
    """httpx requests to the API that are all counted (the metrics scrape is left out: it counts itself)."""

    def __init__(self, served: Served):
        self.api = served.url + "orfeas/"
        self.headers = {"Authorization": f"token {served.token}"}
        self.sent = Counter()
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str, *, token: bool = True, client: httpx.Client | None = None,
                 **kwargs) -> httpx.Response:
        with self._lock:
            self.sent[path.split("/")[0]] += 1
        headers = self.headers if token else {}
        if client is not None:
            return client.request(method, self.api + path, headers=headers, **kwargs)
        return httpx.request(method, self.api + path, headers=headers, timeout=60, **kwargs)

    def requests_total(self) -> float:
        text = httpx.get(self.api + "metrics", headers=self.headers, timeout=30).text
        return sum(sample.value for family in text_string_to_metric_families(text) if family.name == "orfeas_requests"
                   for sample in family.samples
                   if sample.name == "orfeas_requests_total" and sample.labels.get("endpoint") != "metrics")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = Served(tmp_path_factory.mktemp("served"), env={"ORFEAS_MAX_QUEUED_JOBS": "8"})
    yield server
    server.stop()


def test_fifty_concurrent_requests(served):
    call = Counted(served)
    before = call.requests_total()
    seeds = [call("POST", "upload-image", files={"file": ("a.png", png(i))}).json()["job_id"] for i in range(2)]
    first = call("POST", "generate-3d", json={"job_id": seeds[0], "quality": 1, "size_mm": 20}).json()["job_id"]

    health: list[tuple[float, int]] = []
    done_watching = threading.Event()

    def watch_health():
        with httpx.Client(timeout=30) as probe:
            while not done_watching.is_set():
                start = time.perf_counter()
                status = call("GET", "health", token=False, client=probe).status_code
                health.append((time.perf_counter() - start, status))
                done_watching.wait(0.05)

    def one(i: int) -> tuple[str, httpx.Response]:
        kind = ("upload", "generate", "status")[i % 3]
        barrier.wait()
        if kind == "upload":
            return kind, call("POST", "upload-image", files={"file": (f"{i}.png", png(100 + i))})
        if kind == "generate":
            body = {"job_id": seeds[i % 2], "quality": 1 + i % 3, "size_mm": 20, "format": ("stl", "3mf", "glb")[i % 3]}
            return kind, call("POST", "generate-3d", json=body)
        return kind, call("GET", f"jobs/{first}")

    watcher = threading.Thread(target=watch_health)
    watcher.start()
    barrier = threading.Barrier(CONCURRENT)
    answers: list[tuple[str, httpx.Response]] = [None] * CONCURRENT
    threads = [threading.Thread(target=lambda i=i: answers.__setitem__(i, one(i))) for i in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    codes = Counter(response.status_code for _, response in answers)
    assert set(codes) <= {200, 202, 429}, {code: [r.text for _, r in answers if r.status_code == code] for code in codes}
    for _, response in answers:
        if response.status_code == 429:
            assert float(response.headers["Retry-After"]) > 0 and response.json()["error"]["message"]
    accepted = [first] + [response.json()["job_id"] for kind, response in answers
                          if kind == "generate" and response.status_code == 202]
    assert len(accepted) > 1

    deadline = time.monotonic() + 600
    finished = {}
    while len(finished) < len(accepted) and time.monotonic() < deadline:
        for job in accepted:
            if job not in finished:
                status = call("GET", f"jobs/{job}").json()
                if status["status"] in ("done", "failed", "cancelled"):
                    finished[job] = status
        time.sleep(0.2)
    done_watching.set()
    watcher.join(60)
    assert {job: s["status"] for job, s in finished.items()} == dict.fromkeys(accepted, "done")
    assert all(s["report"]["watertight"] for s in finished.values())

    assert len(health) > 10 and {status for _, status in health} == {200}
    assert max(seconds for seconds, _ in health) < 1.0, sorted(seconds for seconds, _ in health)[-5:]
    sent = sum(call.sent.values())
    assert call.requests_total() - before == sent, json.dumps(call.sent)
