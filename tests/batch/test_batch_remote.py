"""``orfeas batch --scheduler``: runs on a Dask scheduler and worker started separately on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess

import pytest
from distributed import Client

from orfeas_nb import batch
from orfeas_nb.errors import InvalidInput

pytestmark = [pytest.mark.integration, pytest.mark.notebook]


@pytest.mark.slow
def test_runs_go_to_an_existing_scheduler_and_files_come_back(dask_scheduler, square_notebook, tmp_path, monkeypatch):
    monkeypatch.setenv("ORFEAS_SCHEDULER_TIMEOUT_S", "60")  # the worker may still be starting
    result = batch.run(square_notebook, {"grid": {"x": [4, 5]}}, tmp_path / "out", scheduler=dask_scheduler, progress=False)
    assert [r["status"] for r in result.runs] == ["ok", "ok"] and not result.failed
    for record in result.runs:
        x = record["params"]["x"]
        assert (tmp_path / "out" / record["run"] / "outputs" / "square.txt").read_text() == str(x * x)
    assert json.loads(result.summary_json.read_text())["runs"][0]["params"] == {"x": 4}


def test_an_unreachable_scheduler_is_a_clear_error(square_notebook, tmp_path, monkeypatch, cli):
    monkeypatch.setenv("ORFEAS_SCHEDULER_TIMEOUT_S", "1")
    with pytest.raises(InvalidInput, match="cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"):
        batch.run(square_notebook, {"grid": {"x": [1]}}, tmp_path / "out", scheduler="tcp://127.0.0.1:9")
    (tmp_path / "p.json").write_text('{"grid": {"x": [1]}}')
    result = cli("batch", square_notebook, "--params", tmp_path / "p.json", "-o", tmp_path / "o", "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == 2 and "start one with `dask scheduler`" in result.stderr


@pytest.mark.slow
def test_a_scheduler_without_workers_is_out_of_resources_exit_4(square_notebook, tmp_path, monkeypatch, cli):
    from tests.batch.conftest import _free_port, _stop, dask_command

    port = _free_port()
    scheduler = subprocess.Popen([dask_command(), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        monkeypatch.setenv("ORFEAS_SCHEDULER_TIMEOUT_S", "20")
        with Client(f"tcp://127.0.0.1:{port}", timeout=20):
            pass  # the scheduler is up
        monkeypatch.setenv("ORFEAS_SCHEDULER_TIMEOUT_S", "1")
        (tmp_path / "p.json").write_text('{"grid": {"x": [1]}}')
        result = cli("batch", square_notebook, "--params", tmp_path / "p.json", "-o", tmp_path / "o",
                     "--scheduler", f"tcp://127.0.0.1:{port}")
    finally:
        _stop(scheduler)
    assert result.exit_code == 4
    assert "no Dask worker joined the scheduler" in result.stderr and "dask worker tcp://127.0.0.1:" in result.stderr
