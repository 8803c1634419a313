"""The Jupyter server extension's setup and teardown, in-process (the real server runs in test_jupyter_prometheus)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import types

import pytest
from tornado.web import Application

from orfeas_nb import server
from orfeas_nb.monitoring.multiprocess import ENV

pytestmark = pytest.mark.unit


def fake_serverapp(tmp_path) -> types.SimpleNamespace:
    """The three things the extension uses from a ServerApp: runtime_dir, web_app, log."""
    return types.SimpleNamespace(runtime_dir=str(tmp_path / "runtime"), web_app=Application(base_url="/jh/"),
                                 log=logging.getLogger("test-serverapp"))


def routes(app: Application) -> list[str]:
    return [inner.matcher.regex.pattern for host in app.default_router.rules for inner in getattr(host.target, "rules", [])]


@pytest.fixture(autouse=True)
def _jobs_dir(tmp_path, monkeypatch):
    """The extension's job store goes to a temporary folder, never into the user's Jupyter data dir."""
    monkeypatch.setenv("ORFEAS_JOBS_DIR", str(tmp_path / "jobs"))


def test_load_prepares_a_private_folder_that_kernels_inherit(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    app = fake_serverapp(tmp_path)
    server._load_jupyter_server_extension(app)
    state = app.web_app.settings[server.SETTINGS_KEY]
    try:
        folder = state["folder"]
        assert os.environ[ENV] == str(folder) and folder.is_dir() and state["owned"]
        assert folder.parent == tmp_path / "runtime"
        assert any(p.startswith("/jh/orfeas/metrics") for p in routes(app.web_app))
        assert any(p.startswith("/jh/orfeas/health") for p in routes(app.web_app))
        assert any(p.startswith("/jh/orfeas/health-detailed") for p in routes(app.web_app))
        engine = {"state": "idle", "reason": None}
        health = server.detailed_health(app.web_app.settings, 2, engine)
        assert health["status"] == "healthy" and health["kernels"] == 2 and health["engine"] is engine
        assert health["memory"]["total_bytes"] > 0 and health["gpus"] == []
        assert state["registry"].get_sample_value("orfeas_memory_total_bytes") > 0
    finally:
        server._cleanup(state)
    assert not folder.exists() and not state["sampler"].running


def test_a_given_folder_is_wiped_but_kept(tmp_path, monkeypatch):
    given = tmp_path / "shared"
    given.mkdir()
    (given / "counter_1.db").write_bytes(b"stale")
    monkeypatch.setenv(ENV, str(given))
    app = fake_serverapp(tmp_path)
    server._load_jupyter_server_extension(app)
    state = app.web_app.settings[server.SETTINGS_KEY]
    server._cleanup(state)
    assert state["folder"] == given and not state["owned"]
    assert given.is_dir() and not list(given.iterdir())


def test_folders_of_dead_servers_are_removed(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    runtime = tmp_path / "runtime"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (runtime / f"orfeas-metrics-{gone.pid}").mkdir(parents=True)
    (runtime / f"orfeas-metrics-{os.getppid()}").mkdir()  # a live process: kept
    folder, owned = server._metrics_folder(str(runtime))
    assert owned and folder.name == f"orfeas-metrics-{os.getpid()}"
    assert sorted(p.name for p in runtime.iterdir()) == sorted([f"orfeas-metrics-{os.getppid()}", folder.name])


def test_without_prometheus_client_the_server_still_starts(tmp_path, no_prometheus, caplog, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    app = fake_serverapp(tmp_path)
    server._load_jupyter_server_extension(app)
    assert server.SETTINGS_KEY not in app.web_app.settings
    assert ENV not in os.environ
    assert not any(p.startswith("/jh/orfeas/metrics") for p in routes(app.web_app))
    assert any(p.startswith("/jh/orfeas/health") for p in routes(app.web_app))  # the API is served all the same
    assert "pip install 'orfeas_nb[metrics]'" in caplog.text
