"""Settings for checking notebooks/*.ipynb with nbval (see .ci/run).

nbval starts a notebook's kernel while setting up its first cell, before any fixture runs, so the
environment that kernel inherits is set around that setup and restored right after, leaving the rest
of the session untouched: outputs go to a temporary folder, never into the checkout, and text_to_3d
gets CI's tiny text→image model through ``ORFEAS_TEXT_TO_IMAGE_MODEL`` (unless one is set already).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from functools import cache
from pathlib import Path

import pytest


def _scratch(prefix: str) -> str:
    folder = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@cache
def _output_dir() -> str:
    return _scratch("orfeas-notebooks-")


@cache
def _tiny_text_to_image() -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.tiny_models import build_tiny_sd

    return str(build_tiny_sd(_scratch("orfeas-tiny-sd-")))


def _kernel_env(notebook: str) -> dict[str, str]:
    env = {"ORFEAS_OUTPUT_DIR": os.environ.get("ORFEAS_OUTPUT_DIR") or _output_dir()}
    if notebook == "text_to_3d.ipynb":
        env["ORFEAS_TEXT_TO_IMAGE_MODEL"] = os.environ.get("ORFEAS_TEXT_TO_IMAGE_MODEL") or _tiny_text_to_image()
    return env


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """Around the setup that starts a notebook's kernel, give the process that kernel's environment."""
    if item.path.suffix != ".ipynb":
        yield
        return
    env = _kernel_env(item.path.name)
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def pytest_collection_modifyitems(config, items):
    """Mark nbval cells ``notebook`` and ``slow``: ``-m notebook`` selects them, ``-m "not slow"`` (the fast lane) skips them."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
            item.add_marker(pytest.mark.slow)
