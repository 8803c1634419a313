"""End to end: a Jupyter server with the extension, two kernels generating, a real Prometheus scraping it.

Prometheus (Debian's binary, 1 s scrape and rule evaluation) reads the committed prometheus.yml and
alerts.yml with three changes only: the target and token file of this test, the intervals, and
``for: 0s`` on the failure-ratio alert so it can fire within seconds (promtool tests the ``for``).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml
from jupyter_client import BlockingKernelClient
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import stop

from .conftest import MONITORING, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]
OTHER_EXTENSIONS = ("jupyterlab", "jupyter_lsp", "notebook_shim", "notebook", "nbclassic", "jupyter_server_terminals")
GENERATE = """
import os, orfeas_nb
assert os.environ["PROMETHEUS_MULTIPROC_DIR"], "the kernel did not inherit the metrics folder"
model = orfeas_nb.image_to_3d(orfeas_nb.samples.path("shapes"), quality=1, size_mm=20)
print(len(model.mesh.faces))
"""
FAIL_THREE_TIMES = """
import orfeas_nb
for _ in range(3):
    try:
        orfeas_nb.image_to_3d(b"not an image")
    except orfeas_nb.errors.InvalidInput:
        pass
"""
HOLD_A_JOB = """
import threading
from orfeas_nb.jobs import JobQueue
release = threading.Event()
queue = JobQueue()
job = queue.submit(lambda job: release.wait(600), name="held")
"""


def wait_for(check, timeout: float, what: str, interval: float = 0.25):
    """Call ``check()`` until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except (OSError, ValueError, KeyError) as exc:  # not up yet
            last = exc
        else:
            if result:
                return result
            last = result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {what}; last: {last!r}")


class Jupyter:
    """A jupyter_server subprocess with the extension, token auth, and its own runtime folder."""

    def __init__(self, tmp: Path):
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.runtime = tmp / "runtime"
        self.log = (tmp / "jupyter.log").open("w")
        extensions = {"orfeas_nb.server": True, **{name: False for name in OTHER_EXTENSIONS}}
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(self.runtime), "ORFEAS_METRICS_INTERVAL": "0.5"}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", "--ip=127.0.0.1",
             f"--port={self.port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={tmp}",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.jpserver_extensions={extensions!r}"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def request(self, path: str, method: str = "GET", token: str | None = "", body: dict | None = None):
        headers = {} if token is None else {"Authorization": f"token {token or self.token}"}
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()

    def status_without(self, path: str, token: str | None) -> int:
        try:
            return self.request(path, token=token)[0]
        except urllib.error.HTTPError as exc:
            return exc.code

    def metrics(self) -> dict[str, list]:
        text = self.request("/orfeas/metrics")[1]
        return {family.name: family.samples for family in text_string_to_metric_families(text)}

    def start_kernel(self) -> tuple[str, BlockingKernelClient]:
        kernel_id = json.loads(self.request("/api/kernels", "POST", body={"name": "python3"})[1])["id"]
        client = BlockingKernelClient(connection_file=str(self.runtime / f"kernel-{kernel_id}.json"))
        client.load_connection_file()
        client.start_channels(hb=False)  # the heartbeat may lag right after start; kernel_info is the real check
        client.wait_for_ready(timeout=60)
        return kernel_id, client

    def stop(self) -> None:
        stop(self.process)
        self.log.close()


class Prometheus:
    """Debian's prometheus on a loopback port, scraping ``target`` every second with the committed config."""

    def __init__(self, tmp: Path, target: str, token: str):
        config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
        config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
        job = config["scrape_configs"][0]
        job["static_configs"] = [{"targets": [target]}]
        job["authorization"]["credentials_file"] = str(tmp / "jupyter_token")
        (tmp / "jupyter_token").write_text(token)
        rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
        for rule in rules["groups"][0]["rules"]:
            if rule["alert"] == "OrfeasGenerationFailureRatioHigh":
                rule["for"] = "0s"
        (tmp / "alerts.yml").write_text(yaml.safe_dump(rules))
        config["rule_files"] = [str(tmp / "alerts.yml")]
        (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = (tmp / "prometheus.log").open("w")
        self.process = subprocess.Popen(
            [shutil.which("prometheus") or "prometheus", f"--config.file={tmp / 'prometheus.yml'}",
             f"--storage.tsdb.path={tmp / 'tsdb'}", f"--web.listen-address={self.url.removeprefix('http://')}"],
            stdout=self.log, stderr=subprocess.STDOUT,
        )

    def api(self, path: str, **params) -> dict:
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as response:
            reply = json.loads(response.read())
        assert reply["status"] == "success", reply
        return reply["data"]

    def value(self, query: str) -> float | None:
        result = self.api("query", query=query)["result"]
        return float(result[0]["value"][1]) if result else None

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


def run(client: BlockingKernelClient, code: str) -> str:
    out = []
    reply = client.execute_interactive(code, timeout=120, output_hook=lambda msg: out.append(msg["content"].get("text", "")))
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(out)


def sample(families, name, **labels) -> float | None:
    found = [s.value for samples in families.values() for s in samples if s.name == name and s.labels == labels]
    return found[0] if found else None


@pytest.fixture
def stack(tmp_path):
    jupyter = Jupyter(tmp_path)
    prometheus = Prometheus(tmp_path, f"127.0.0.1:{jupyter.port}", jupyter.token)
    clients = []
    try:
        wait_for(lambda: jupyter.request("/api/status")[0] == 200, 60, "the Jupyter server")
        yield jupyter, prometheus, clients
    finally:
        for client in clients:
            client.stop_channels()
        jupyter.stop()
        prometheus.stop()


def test_kernels_metrics_reach_prometheus_and_the_failure_alert_fires(stack, tmp_path):
    jupyter, prometheus, clients = stack
    # refused without the token, or with a wrong one
    for path in ("/orfeas/metrics", "/orfeas/health-detailed"):
        assert jupyter.status_without(path, token=None) == 403
        assert jupyter.status_without(path, token="wrong") == 403

    # two generations in two kernels started by the server
    kernels = [jupyter.start_kernel() for _ in range(2)]
    clients.extend(client for _, client in kernels)
    faces = [int(run(client, GENERATE)) for _, client in kernels]
    assert all(f > 0 for f in faces)
    families = jupyter.metrics()
    labels = {"type": "image_to_3d", "provider": "relief"}
    assert sample(families, "orfeas_generations_total", **labels, status="success") == 2
    assert sample(families, "orfeas_mesh_triangles_sum", **labels) == sum(faces)
    health = json.loads(jupyter.request("/orfeas/health-detailed")[1])
    assert health["status"] == "healthy" and health["kernels"] == 2 and health["memory"]["total_bytes"] > 0
    folder = Path(health["metrics_dir"])
    assert folder.parent == jupyter.runtime

    # Prometheus scrapes it through the token (the first sample can take ~5 s)
    query = "sum(orfeas_generations_total)"
    wait_for(lambda: prometheus.value(query) == 2, 60, f"{query} == 2 in Prometheus")
    result = prometheus.api("query", query="sum by (status) (orfeas_generations_total)")["result"]
    print(f"\nPromQL sum by (status) (orfeas_generations_total): {json.dumps(result)}")
    assert {r["metric"]["status"]: r["value"][1] for r in result} == {"success": "2", "failed": "0", "cancelled": "0"}

    # a job held in kernel 2 shows as in progress; when that kernel dies, its live gauge goes, counts stay
    kernel_2, client_2 = kernels[1]
    run(client_2, HOLD_A_JOB)
    wait_for(lambda: sample(jupyter.metrics(), "orfeas_jobs_in_progress") == 1, 30, "orfeas_jobs_in_progress == 1")
    assert jupyter.request(f"/api/kernels/{kernel_2}", "DELETE")[0] == 204
    wait_for(lambda: sample(jupyter.metrics(), "orfeas_jobs_in_progress") == 0, 30, "the dead kernel's gauge to go")
    assert sample(jupyter.metrics(), "orfeas_generations_total", **labels, status="success") == 2

    # inject failures: the failure-ratio alert fires
    run(kernels[0][1], FAIL_THREE_TIMES)
    wait_for(lambda: prometheus.value(query) == 5, 30, f"{query} == 5")

    def firing():
        alerts = prometheus.api("alerts")["alerts"]
        return [a for a in alerts if a["labels"]["alertname"] == "OrfeasGenerationFailureRatioHigh" and a["state"] == "firing"]

    alert = wait_for(firing, 30, "OrfeasGenerationFailureRatioHigh to fire")[0]
    print(f"firing: {alert['labels']['alertname']} — {alert['annotations']['summary']}")
    assert alert["labels"]["severity"] == "warning"
    assert prometheus.value('up{job="orfeas"}') == 1

    # every dashboard expression is valid PromQL for this Prometheus
    dashboard = json.loads((MONITORING / "grafana" / "dashboards" / "orfeas.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            prometheus.api("query", query=target["expr"].replace("$__rate_interval", "1m"))
    assert prometheus.value("sum(orfeas_memory_total_bytes)") > 0

    jupyter.stop()
    assert not folder.exists()  # the extension removes its folder when the server exits
