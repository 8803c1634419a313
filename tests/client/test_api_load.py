"""Load: 50 concurrent requests to a real server, mixing uploads, generations and status polls.

Only 200, 202 and 429 (with Retry-After) come back; every accepted job finishes; ``GET health`` answers in
under a second all along (probed from a process of its own, as a load balancer would); ``orfeas_requests_total``
counts exactly the requests sent. Before that, the first job of the module starts the Dask workers: health
stays under a second then too.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

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


PROBE = """
import sys, time, urllib.request
url, out, stop = sys.argv[1:]
with open(out, "w") as log:
    while True:
        start = time.time()
        with urllib.request.urlopen(url, timeout=30) as answer:
            status = answer.status
        log.write(f"{start} {time.time() - start} {status}\\n")
        log.flush()
        try:
            open(stop).close()
            break
        except FileNotFoundError:
            time.sleep(0.05)
"""


class HealthProbe:
    """``GET health`` every 50 ms from a process of its own (as a load balancer would; the test's threads
    cannot delay it), counted as sent; :meth:`stop` returns (started at, seconds, status) per request."""

    def __init__(self, served: Served, call: Counted):
        self.log = Path(tempfile.mkdtemp(dir=served.folder)) / "health.log"
        self.stop_file = self.log.with_suffix(".stop")
        self.call = call
        self.process = subprocess.Popen([sys.executable, "-c", PROBE, call.api + "health", str(self.log), str(self.stop_file)])

    def stop(self) -> list[tuple[float, float, int]]:
        self.stop_file.touch()
        assert self.process.wait(60) == 0
        rows = [tuple(float(x) for x in line.split()) for line in self.log.read_text().splitlines()]
        self.call.sent["health"] += len(rows)
        return [(start, seconds, int(status)) for start, seconds, status in rows]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = Served(tmp_path_factory.mktemp("served"), env={"ORFEAS_MAX_QUEUED_JOBS": "8"},
                    args=tuple(os.environ.get("ORFEAS_TEST_SERVE_ARGS", "").split()))
    yield server
    server.stop()


def assert_health_fast(health: list[tuple[float, float, int]], since: float, what: str) -> None:
    assert len(health) > 5 and {status for _, _, status in health} == {200}
    slowest = max(health, key=lambda probe: probe[1])
    assert slowest[1] < 1.0, f"GET health took {slowest[1]:.2f} s, {slowest[0] - since:+.2f} s after {what}"


def test_health_stays_fast_while_the_first_job_starts_the_engine(served):
    call = Counted(served)
    probe = HealthProbe(served, call)
    start = time.time()
    upload = call("POST", "upload-image", files={"file": ("a.png", png(0))}).json()["job_id"]
    first = call("POST", "generate-3d", json={"job_id": upload, "quality": 1, "size_mm": 20}).json()["job_id"]
    deadline = time.monotonic() + 300
    while call("GET", f"jobs/{first}").json()["status"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
    health = probe.stop()
    assert call("GET", f"jobs/{first}").json()["status"] == "done"
    assert_health_fast(health, start, "the first upload (the first job starts the Dask workers)")


def test_fifty_concurrent_requests(served):
    call = Counted(served)
    before = call.requests_total()
    seeds = [call("POST", "upload-image", files={"file": ("a.png", png(i))}).json()["job_id"] for i in range(2)]
    first = call("POST", "generate-3d", json={"job_id": seeds[0], "quality": 1, "size_mm": 20}).json()["job_id"]
    probe = HealthProbe(served, call)

    def one(i: int) -> tuple[str, httpx.Response]:
        kind = ("upload", "generate", "status")[i % 3]
        barrier.wait()
        if kind == "upload":
            return kind, call("POST", "upload-image", files={"file": (f"{i}.png", png(100 + i))})
        if kind == "generate":
            body = {"job_id": seeds[i % 2], "quality": 1 + i % 3, "size_mm": 20, "format": ("stl", "3mf", "glb")[i % 3]}
            return kind, call("POST", "generate-3d", json=body)
        return kind, call("GET", f"jobs/{first}")

    barrier = threading.Barrier(CONCURRENT)
    answers: list[tuple[str, httpx.Response]] = [None] * CONCURRENT
    threads = [threading.Thread(target=lambda i=i: answers.__setitem__(i, one(i))) for i in range(CONCURRENT)]
    burst = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    burst_s = time.time() - burst
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
    health = probe.stop()
    assert {job: s["status"] for job, s in finished.items()} == dict.fromkeys(accepted, "done")
    assert all(s["report"]["watertight"] for s in finished.values())

    assert_health_fast(health, burst, f"the burst of {CONCURRENT} started (it lasted {burst_s:.2f} s)")
    sent = sum(call.sent.values())
    assert call.requests_total() - before == sent, json.dumps(call.sent)
