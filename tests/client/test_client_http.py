"""The client's own logic against scripted HTTP answers (httpx.MockTransport): URLs and tokens, error
classes, 429 retries, refusing foreign URLs, cancelling. The real server is in test_client_server.py."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orfeas_nb import errors
from orfeas_nb.client import Client, connect, error_from

pytestmark = pytest.mark.unit
ERROR_CLASSES = [errors.OrfeasError, errors.InvalidInput, errors.UnsupportedFormat, errors.ModelUnavailable,
                 errors.OutOfResources, errors.JobCancelled, errors.ExportError]


def scripted(answers, seen):
    """A transport that records each request and answers with the next (status, body, headers) in ``answers``."""
    answers = iter(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status, body, headers = next(answers)
        if isinstance(body, (dict, list)):
            return httpx.Response(status, json=body, headers=headers)
        return httpx.Response(status, content=body, headers=headers)

    return httpx.MockTransport(handle)


def client_with(answers, seen, **settings) -> Client:
    return Client("http://gpu-box:8888/jh/", token="secret", transport=scripted(answers, seen), **settings)


def test_the_url_and_token_come_from_jupyters_printed_url_then_the_environment(monkeypatch):
    monkeypatch.delenv("ORFEAS_TOKEN", raising=False)
    client = connect("http://127.0.0.1:8888/jh/lab?token=abc")
    assert client.api == "http://127.0.0.1:8888/jh/orfeas/"
    assert client._http.headers["Authorization"] == "token abc"
    monkeypatch.setenv("ORFEAS_TOKEN", "from-env")
    assert connect("http://127.0.0.1:8888")._http.headers["Authorization"] == "token from-env"
    assert connect("http://127.0.0.1:8888/?token=abc", token="given")._http.headers["Authorization"] == "token given"
    monkeypatch.delenv("ORFEAS_TOKEN")
    assert "Authorization" not in connect("http://127.0.0.1:8888/")._http.headers


@pytest.mark.parametrize("url", ["127.0.0.1:8888", "ftp://host/", "http://", ""])
def test_a_url_that_is_not_http_is_refused(url):
    with pytest.raises(errors.InvalidInput, match="must look like http://host:port/"):
        connect(url)


@given(st.sampled_from(ERROR_CLASSES), st.text(min_size=1, max_size=80), st.sampled_from([400, 404, 415, 500, 503]))
def test_a_json_error_becomes_the_class_it_names_with_its_message(cls, message, status):
    error = error_from({"type": cls.__name__, "message": message}, status)
    assert type(error) is cls and str(error) == message


@pytest.mark.parametrize(("status", "kind", "cls"), [
    (404, "NotFound", errors.InvalidInput), (413, "PayloadTooLarge", errors.InvalidInput),
    (415, "Whatever", errors.UnsupportedFormat), (500, "InternalError", errors.OrfeasError),
])
def test_http_level_errors_map_by_status(status, kind, cls):
    seen = []
    client = client_with([(status, {"error": {"type": kind, "message": "the server says why"}}, {})], seen)
    with pytest.raises(cls, match="^the server says why$") as caught:
        client.status("abc")
    assert type(caught.value) is cls


def test_an_html_404_says_the_extension_may_be_missing():
    seen = []
    client = client_with([(404, b"<html>Not Found</html>", {})], seen)
    with pytest.raises(errors.InvalidInput, match=r"answered 404 to GET health; is orfeas_nb installed there"):
        client.health()


@pytest.mark.parametrize("token", ["secret", None])
def test_403_says_how_to_give_the_token(token, monkeypatch):
    monkeypatch.delenv("ORFEAS_TOKEN", raising=False)
    seen = []
    client = Client("http://gpu-box:8888/", token=token, transport=scripted([(403, {"error": {}}, {})], seen))
    word = "was not accepted" if token else "is missing"
    with pytest.raises(errors.InvalidInput, match=f"refused GET jobs/x \\(403\\): the token {word}; pass the server's "
                                                  "token with token= \\(CLI: --token\\) or set ORFEAS_TOKEN"):
        client.status("x")


def test_429_is_retried_after_retry_after_then_answered():
    seen = []
    busy = (429, {"error": {"type": "TooManyRequests", "message": "too many requests"}}, {"Retry-After": "0"})
    client = client_with([busy, busy, (200, {"status": "ready"}, {})], seen)
    assert client.health() == {"status": "ready"}
    assert len(seen) == 3 and seen[0].headers["Authorization"] == "token secret"


def test_429_past_the_retries_is_out_of_resources():
    seen = []
    busy = (429, {"error": {"type": "TooManyRequests", "message": "too many requests from 127.0.0.1"}},
            {"Retry-After": "0.01"})
    client = client_with([busy] * 3, seen, retries=2)
    with pytest.raises(errors.OutOfResources, match=r"^too many requests from 127.0.0.1 \(still busy after 2 retries"):
        client.health()
    assert len(seen) == 3


def test_a_refused_connection_names_the_url():
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = connect(f"http://127.0.0.1:{port}/")
    with pytest.raises(errors.OrfeasError, match=f"cannot connect to the orfeas server at http://127.0.0.1:{port}/"):
        client.health()


def test_files_are_fetched_from_this_server_only():
    seen = []
    client = client_with([], seen)
    with pytest.raises(errors.OrfeasError, match="outside http://gpu-box:8888/jh/; refusing to send the token"):
        client.fetch("http://elsewhere:8888/jh/orfeas/jobs/1/model")
    assert seen == []


def job(status, progress=0.0, **more):
    return (200, {"job_id": "j1", "status": status, "progress": progress, "message": status, **more}, {})


def test_wait_reports_progress_and_returns_the_finished_job():
    seen, steps = [], []
    client = client_with([job("queued"), job("running", 0.5), job("done", 1.0, model_url="/jh/orfeas/jobs/j1/model")],
                         seen, poll_interval=0.01)
    status = client.wait("j1", progress=False, callback=lambda step, total: steps.append((step, total)))
    assert status["model_url"] == "/jh/orfeas/jobs/j1/model"
    assert steps == [(0, 100), (50, 100), (100, 100)]
    assert [str(r.url) for r in seen] == ["http://gpu-box:8888/jh/orfeas/jobs/j1"] * 3


def test_a_failed_job_raises_its_error_class():
    seen = []
    failed = job("failed", error={"type": "ModelUnavailable", "message": "no weights for 'x'"})
    client = client_with([failed], seen)
    with pytest.raises(errors.ModelUnavailable, match="^no weights for 'x'$"):
        client.wait("j1", progress=False)


def test_cancel_deletes_the_job_on_the_server():
    seen, cancel = [], threading.Event()
    client = client_with([job("running", 0.1), (200, {"job_id": "j1", "status": "cancelled"}, {})], seen,
                         poll_interval=0.01)
    with pytest.raises(errors.JobCancelled, match="cancelled"):
        client.wait("j1", progress=False, cancel=cancel, callback=lambda step, total: cancel.set())
    assert [(r.method, r.url.path) for r in seen] == [("GET", "/jh/orfeas/jobs/j1"), ("DELETE", "/jh/orfeas/jobs/j1")]


def test_a_cancelled_job_raises_job_cancelled():
    seen = []
    client = client_with([job("cancelled", message="cancelled by its user")], seen)
    with pytest.raises(errors.JobCancelled, match="cancelled by its user"):
        client.wait("j1", progress=False)


def test_a_generation_sends_json_with_the_options():
    seen = []
    client = client_with([(202, {"job_id": "j2", "status_url": "/jh/orfeas/jobs/j2"}, {})], seen)
    assert client.submit("generate-3d", {"job_id": "u1", "quality": 7, "height_mm": 6.0}) == "j2"
    assert seen[0].url.path == "/jh/orfeas/generate-3d" and seen[0].headers["Content-Type"] == "application/json"
    assert json.loads(seen[0].content) == {"job_id": "u1", "quality": 7, "height_mm": 6.0}


def test_text_to_3d_sends_the_run_keywords_and_models():
    seen = []
    client = client_with([(400, {"error": {"type": "InvalidInput", "message": "stop here"}}, {})], seen)
    with pytest.raises(errors.InvalidInput, match="stop here"):
        client.text_to_3d("a pawn", method="depth", image_model="tiny-sd", depth_model="tiny-depth", seed=3,
                          progress=False)
    assert json.loads(seen[0].content) == {"prompt": "a pawn", "method": "depth", "quality": 7, "size_mm": 100.0,
                                           "style": "realistic", "format": "stl", "image_model": "tiny-sd",
                                           "depth_model": "tiny-depth", "seed": 3}


def test_the_client_module_is_light():
    code = ("import json, sys\nimport orfeas_nb\nbefore = set(sys.modules)\nimport orfeas_nb.client\n"
            "print(json.dumps([sorted(before), sorted(sys.modules)]))")
    before, after = map(set, json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                                       check=True).stdout))
    assert "httpx" not in before and "httpx" in after
    assert not {"torch", "diffusers", "transformers", "ipywidgets", "pythreejs", "trimesh", "orfeas_nb.api"} & after
