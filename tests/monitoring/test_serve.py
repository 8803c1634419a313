"""Exposure from one process: serve(), `orfeas metrics`, and push() to a Pushgateway."""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from typing import ClassVar

import pytest
from prometheus_client.parser import text_string_to_metric_families

from orfeas_nb import monitoring
from orfeas_nb.errors import InvalidInput, OrfeasError
from orfeas_nb.monitoring import exposition as serve_module
from orfeas_nb.monitoring.multiprocess import prepare_dir

from .conftest import free_port

pytestmark = pytest.mark.unit


def scrape(url: str) -> dict[str, list]:
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def test_serve_exposes_generations_and_host_gauges():
    with monitoring.record_generation("image_to_3d", "serve-test"):
        pass
    server = monitoring.serve(port=0)
    try:
        assert monitoring.serve(port=server.port) is server  # re-running the cell
        families = scrape(server.url)
        ours = [s for s in families["orfeas_generations"] if s.labels.get("provider") == "serve-test"]
        assert {s.labels["status"]: s.value for s in ours} == {"success": 1, "failed": 0, "cancelled": 0}
        assert families["orfeas_memory_usage_bytes"][0].value > 0
        assert 0 <= families["orfeas_cpu_usage_percent"][0].value <= 100
        assert "orfeas_jobs_in_progress" in families
    finally:
        server.stop()


def test_serve_in_multiprocess_mode_sums_the_folder(tmp_path, monkeypatch):
    folder = prepare_dir(tmp_path)
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    code = "from orfeas_nb.monitoring import record_generation\nwith record_generation('image_to_3d', 'mp'):\n    pass"
    for _ in range(2):
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    server = monitoring.serve(port=0)
    try:
        samples = scrape(server.url)["orfeas_generations"]
        assert [s.value for s in samples if s.labels == {"type": "image_to_3d", "provider": "mp", "status": "success"}] == [2]
        assert "orfeas_memory_usage_bytes" in scrape(server.url)
    finally:
        server.stop()


def test_port_in_use_is_a_clear_error():
    server = monitoring.serve(port=0)
    try:
        with pytest.raises(InvalidInput, match=rf"cannot serve metrics on 127.0.0.1:{server.port}.*--port"):
            _bind_again(server.port)
    finally:
        server.stop()


def _bind_again(port: int):
    serve_module._servers.clear()  # as another process would: it does not know our server
    return monitoring.serve(port=port)


@pytest.mark.parametrize("port", [-1, 70000, "9100", True])
def test_bad_port(port):
    with pytest.raises(InvalidInput, match="port"):
        monitoring.serve(port=port)


def test_without_prometheus_client_serve_says_how_to_install(no_prometheus):
    with pytest.raises(OrfeasError, match=r"pip install 'orfeas_nb\[metrics\]'"):
        monitoring.serve(port=0)
    with pytest.raises(OrfeasError, match="pip install"):
        monitoring.metrics()


def test_cli_metrics_without_prometheus_client(cli, no_prometheus):
    result = cli("metrics", "--port", "0")
    assert result.exit_code == 1
    assert "pip install 'orfeas_nb[metrics]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_metrics_serves_until_interrupted(cli, monkeypatch):
    seen = {}

    def interrupted():
        seen.update(scrape(serve_module._servers[next(iter(serve_module._servers))].url))
        raise KeyboardInterrupt

    monkeypatch.setattr(serve_module, "wait_until_interrupted", interrupted)
    result = cli("metrics", "--port", "0")
    assert result.exit_code == 0, result.stderr
    assert "serving metrics at http://127.0.0.1:" in result.stdout and "stopped" in result.stdout
    assert "orfeas_memory_usage_bytes" in seen
    assert not serve_module._servers  # the port was freed


def test_cli_metrics_bad_address(cli):
    result = cli("metrics", "--port", "0", "--addr", "203.0.113.7")  # not an address of this machine
    assert result.exit_code == 2
    assert "cannot serve metrics on 203.0.113.7:0" in result.stderr


@pytest.mark.integration
def test_orfeas_metrics_command_in_a_shell():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "orfeas_nb", "metrics", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith(f"serving metrics at http://127.0.0.1:{port}/metrics")
        assert "orfeas_cpu_usage_percent" in scrape(f"http://127.0.0.1:{port}/metrics")
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "stopped" in out


class Gateway(http.server.BaseHTTPRequestHandler):
    """A Pushgateway stand-in that keeps what it was sent."""

    received: ClassVar[list] = []

    def do_PUT(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Gateway.received.append((self.path, body.decode()))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_push_sends_this_process_metrics_under_its_instance():
    with monitoring.record_generation("image_to_3d", "push-test"):
        pass
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        monitoring.push(f"http://127.0.0.1:{httpd.server_port}", job="orfeas_batch")
    finally:
        httpd.shutdown()
        httpd.server_close()
    path, body = Gateway.received[-1]
    path = urllib.parse.unquote(path)
    assert path.startswith("/metrics/job/orfeas_batch/instance/")
    assert path.endswith(f":{os.getpid()}")
    assert 'orfeas_generations_total{provider="push-test",status="success",type="image_to_3d"} 1.0' in body


def test_push_to_nowhere_is_a_clear_error():
    with pytest.raises(OrfeasError, match="could not push metrics to http://127.0.0.1:1"):
        monitoring.push("http://127.0.0.1:1", grouping_key={"instance": "test"})


def test_serve_reports_this_process_job_queues():
    from orfeas_nb import jobs

    queue, release = jobs.JobQueue(), threading.Event()
    job = queue.submit(lambda job: release.wait(30), name="held")
    server = monitoring.serve(port=0)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            families = scrape(server.url)
            shown = families["orfeas_jobs_in_progress"][0].value
            if shown >= 1 and shown == jobs.counts()["running"]:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"orfeas_jobs_in_progress stayed {shown}, jobs.counts() is {jobs.counts()}")
    finally:
        release.set()
        job.wait(10)
        queue.close()
        server.stop()
