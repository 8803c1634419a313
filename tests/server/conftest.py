"""A real ``jupyter server`` with the orfeas_nb extension on 127.0.0.1, and an HTTP helper that checks
every answer against the server's own ``openapi.json`` (status listed, JSON body valid, media type listed)."""

from __future__ import annotations

import io
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from openapi_schema_validator import OAS31Validator
from PIL import Image

from tests.monitoring.conftest import free_port
from tests.processes import stop

OTHER_EXTENSIONS = ("jupyterlab", "jupyter_lsp", "notebook_shim", "notebook", "nbclassic", "jupyter_server_terminals")


def wait_for(check, timeout: float, what: str, interval: float = 0.2):
    """Call ``check()`` until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (httpx.HTTPError, OSError, KeyError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {what}; last: {last!r}")


class OpenAPI:
    """Finds the operation of a request in the spec and validates the answer against it."""

    def __init__(self, spec: dict[str, Any]):
        self.spec = spec
        self.paths = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p) for p in spec["paths"]]

    def check(self, method: str, path: str, response: httpx.Response) -> None:
        templates = [t for rx, t in self.paths if rx.match(path)]
        if not templates:  # a route that does not exist: a JSON error all the same
            assert response.status_code in (403, 404), f"{path} is not in openapi.json"
            error = {**self.spec["components"]["schemas"]["Error"], "components": self.spec["components"]}
            OAS31Validator(error).validate(response.json())
            return
        operation = self.spec["paths"][templates[0]].get(method.lower())
        if operation is None:  # a method the route does not have: 405 (403 without auth), a JSON error
            assert response.status_code in (403, 405), f"{method} {templates[0]} is not in openapi.json"
            error = {**self.spec["components"]["schemas"]["Error"], "components": self.spec["components"]}
            OAS31Validator(error).validate(response.json())
            return
        documented = operation["responses"].get(str(response.status_code))
        assert documented is not None, f"{method} {templates[0]} answered {response.status_code}, not in openapi.json"
        media = response.headers.get("content-type", "").split(";")[0]
        content = documented.get("content", {})
        assert media in content, f"{method} {templates[0]} {response.status_code}: {media} not in {sorted(content)}"
        if media == "application/json":
            schema = {**content[media]["schema"], "components": self.spec["components"]}
            OAS31Validator(schema).validate(response.json())


class ApiServer:
    """One Jupyter server subprocess with its own runtime and jobs folders; ``call`` checks answers against the spec."""

    def __init__(self, tmp: Path, env: dict[str, str] | None = None):
        self.tmp = tmp
        self.token = secrets.token_hex(16)
        self.jobs_dir = tmp / "jobs"
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        self.spec: OpenAPI | None = None

    def start(self) -> ApiServer:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        extensions = {"orfeas_nb.server": True, **{name: False for name in OTHER_EXTENSIONS}}
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(self.tmp / "runtime"), "ORFEAS_JOBS_DIR": str(self.jobs_dir),
               "ORFEAS_METRICS_INTERVAL": "0.5", **self.extra_env}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.log = (self.tmp / "jupyter.log").open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", "--ip=127.0.0.1",
             f"--port={self.port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={self.tmp}",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.jpserver_extensions={extensions!r}"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.http = httpx.Client(base_url=self.url, timeout=60)
        wait_for(lambda: self.http.get("/orfeas/health").status_code == 200, 60, "the Jupyter server")
        self.spec = OpenAPI(self.http.get("/orfeas/openapi.json", headers=self.auth).json())
        return self

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def call(self, method: str, path: str, *, token: bool = True, **kwargs: Any) -> httpx.Response:
        """A request to ``/orfeas/<path>``; the answer is validated against openapi.json before it is returned."""
        headers = {**(self.auth if token else {}), **kwargs.pop("headers", {})}
        response = self.http.request(method, f"/orfeas/{path}", headers=headers, **kwargs)
        self.http.cookies.clear()  # Jupyter sets a login cookie for token requests: keep every call on its own
        self.spec.check(method, f"/orfeas/{path.split('?')[0]}", response)
        return response

    def job(self, job_id: str) -> dict[str, Any]:
        return self.call("GET", f"jobs/{job_id}").json()

    def wait_job(self, job_id: str, timeout: float = 240, statuses=("done", "failed", "cancelled")) -> dict[str, Any]:
        return wait_for(lambda: (job := self.job(job_id))["status"] in statuses and job, timeout, f"job {job_id}")

    def upload(self, data: bytes, name: str = "image.png") -> httpx.Response:
        return self.call("POST", "upload-image", files={"file": (name, data, "application/octet-stream")})

    def kill(self) -> None:
        """SIGKILL the server and everything it started (its session: fork server, workers)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        self.http.close()
        self.log.close()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        stop(self.process)
        with_group = self.process.pid
        try:  # workers of a local cluster that outlived the server
            os.killpg(with_group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.http.close()
        self.log.close()


def png(width: int = 96, height: int = 64) -> bytes:
    """A small PNG with a bright rectangle: a relief of it is one closed solid."""
    pixels = np.zeros((height, width), np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 5 : 4 * width // 5] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def tiny_sd_folder(tmp_path_factory) -> Path:
    """A tiny Stable Diffusion folder (64×64 images), built once per module that needs it."""
    from tests.tiny_models import build_tiny_sd

    return build_tiny_sd(tmp_path_factory.mktemp("tiny") / "sd")
