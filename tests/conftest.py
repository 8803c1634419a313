"""Fixtures shared by every test layer. Heavy fixtures (tiny models, servers) live in their folder's conftest."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import settings
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent

# CI must be repeatable: the same examples every run and no wall-clock deadline on a loaded 2-core machine.
# Developers keep random exploration (the default profile), which is how new counter-examples are found.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# nbval (--nbval in .ci/run) checks notebooks/ only; notebooks that tests need are generated in tmp folders
collect_ignore_glob = ["*.ipynb"]


@pytest.fixture(autouse=True)
def _restored_environment():
    """Whatever a test or the code under test puts in os.environ (e.g. the Jupyter extension setting
    PROMETHEUS_MULTIPROC_DIR for its kernels) is undone, so later subprocesses and kernels never inherit it."""
    saved = dict(os.environ)
    yield
    if dict(os.environ) != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(autouse=True)
def _isolated_output(tmp_path_factory, monkeypatch):
    """Default outputs go to a temporary folder, never into the checkout; the model hub is never contacted."""
    monkeypatch.setenv("ORFEAS_OUTPUT_DIR", str(tmp_path_factory.mktemp("orfeas_output")))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a default model id must fail fast (exit 3), never download


@pytest.fixture
def cli():
    """Invoke the ``orfeas`` CLI in-process: ``cli("demo", "--out", d)`` → click Result (stdout, stderr)."""
    from orfeas_nb.cli import cli as group

    runner = CliRunner()

    def invoke(*args: str, **kwargs):
        return runner.invoke(group, [str(a) for a in args], catch_exceptions=False, **kwargs)

    return invoke


def run_orfeas(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m orfeas_nb ARGS`` in a subprocess, as a user's shell would."""
    return subprocess.run(
        [sys.executable, "-m", "orfeas_nb", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def png_bytes(array: np.ndarray, mode: str | None = None, format: str = "PNG", **save) -> bytes:
    """Encode an array as image bytes (PNG by default)."""
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format=format, **save)
    return buffer.getvalue()


@pytest.fixture
def disk_png(tmp_path):
    """A grey disk on black, 128×128, as a PNG file path."""
    yy, xx = np.mgrid[0:128, 0:128]
    disk = (((xx - 63.5) ** 2 + (yy - 63.5) ** 2) < 50**2).astype(np.uint8) * 255
    path = tmp_path / "disk.png"
    path.write_bytes(png_bytes(disk))
    return path
