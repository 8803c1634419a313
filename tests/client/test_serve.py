"""``orfeas serve``: a headless Jupyter server with the orfeas extension, its URL and token printed."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_serve_prints_a_url_whose_token_opens_the_api(served):
    status, body = served.get("orfeas/health")
    assert status == 200 and json.loads(body)["status"] in ("ready", "online")
    assert served.get("orfeas/metrics")[0] == 403
    status, body = served.get("orfeas/metrics", token=served.token)
    assert status == 200 and b"orfeas_" in body
    assert f"orfeas HTTP API at {served.url}orfeas/" in served.log()


def test_serve_runs_no_jupyterlab(served):
    assert served.get("lab", token=served.token)[0] == 404
    assert served.get("api/status", token=served.token)[0] == 200  # the Jupyter server itself


def test_sigterm_stops_the_server(tmp_path):
    from .conftest import Served

    server = Served(tmp_path)
    server.process.terminate()
    assert server.process.wait(30) == 0
