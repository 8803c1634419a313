"""A real orfeas server for the client tests: ``orfeas serve`` (a headless Jupyter server with the extension)
as a subprocess on 127.0.0.1, a free port, its own runtime and jobs folders; one per test module."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.processes import stop

URL_LINE = re.compile(r"(http://127\.0\.0\.1:\d+/)\?token=([0-9a-f]+)")


class Served:
    """``python -m orfeas_nb serve --port 0`` and the URL with its token that it printed."""

    def __init__(self, folder: Path, env: dict[str, str] | None = None, timeout: float = 120, args: tuple[str, ...] = ()):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.log_path = folder / "serve.log"
        environment = {**os.environ, "JUPYTER_RUNTIME_DIR": str(folder / "runtime"), "JUPYTER_DATA_DIR": str(folder / "data"),
                       "ORFEAS_JOBS_DIR": str(folder / "jobs"), "HF_HUB_OFFLINE": "1", **(env or {})}
        environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
        environment.pop("ORFEAS_TOKEN", None)
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "orfeas_nb", "serve", "--ip", "127.0.0.1", "--port", "0", "--allow-root",
                 f"--ServerApp.root_dir={folder}", *args],
                env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=folder,
            )
        self.url, self.token = self._printed_url(timeout)
        self.token_url = f"{self.url}?token={self.token}"

    def _printed_url(self, timeout: float) -> tuple[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = URL_LINE.search(self.log())
            if match:
                return match.group(1), match.group(2)
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"orfeas serve printed no URL with a token in {timeout} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        """A plain GET (urllib, no client code): status and body."""
        headers = {"Authorization": f"token {token}"} if token else {}
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def stop(self) -> None:
        stop(self.process)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One orfeas server for the whole test module."""
    server = Served(tmp_path_factory.mktemp("served"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tiny_sd(tmp_path_factory):
    """A tiny Stable Diffusion folder (64×64 images), the servers' default text→image model in these tests."""
    from tests.tiny_models import build_tiny_sd

    return build_tiny_sd(tmp_path_factory.mktemp("tiny") / "sd")
