"""Ctrl-C during ``orfeas batch``: finished runs stay intact, nothing half-written, a rerun does the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from orfeas_nb.batch import run_id
from tests.batch.conftest import write_notebook

pytestmark = [pytest.mark.integration, pytest.mark.notebook, pytest.mark.slow]  # a Dask cluster


def test_ctrl_c_keeps_finished_runs_and_leaves_no_partial_files(tmp_path):
    nb = write_notebook(
        tmp_path / "nap.ipynb",
        "import os, pathlib, time\npathlib.Path(pids, f'{seconds}.pid').write_text(str(os.getpid()))\ntime.sleep(seconds)\n"
        "pathlib.Path(output_dir, 'done.txt').write_text(str(seconds))",
        parameters="seconds = 0  # how long to sleep\noutput_dir = 'out'  # where files go\npids = '.'  # kernels' pids go here",
    )
    pids = tmp_path / "pids"
    pids.mkdir()
    (tmp_path / "p.json").write_text(json.dumps({"grid": {"seconds": [0, 120, 121], "pids": [str(pids)]}}))
    out = tmp_path / "runs"
    finished = out / run_id({"seconds": 0, "pids": str(pids)}) / "record.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "orfeas_nb", "batch", str(nb), "--params", str(tmp_path / "p.json"), "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not finished.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert finished.exists(), "the quick run never finished"
        os.killpg(process.pid, signal.SIGINT)  # what a terminal sends to the whole foreground group
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 130, stderr
    assert "interrupted: finished runs" in stderr and "Traceback" not in stderr
    assert json.loads(finished.read_text())["status"] == "ok"
    assert (finished.parent / "outputs" / "done.txt").read_text() == "0"
    for seconds in (120, 121):
        assert not (out / run_id({"seconds": seconds, "pids": str(pids)}) / "record.json").exists()
    statuses = {r["params"]["seconds"]: r["status"] for r in json.loads((out / "summary.json").read_text())["runs"]}
    assert statuses == {0: "ok", 120: "not run", 121: "not run"}
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]
    deadline = time.monotonic() + 15
    kernels = {int(p.read_text()) for p in pids.glob("12*.pid")}
    assert kernels, "the long runs had started"
    while any(alive(pid) for pid in kernels) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in kernels if alive(pid)], "an interrupted batch must leave no kernel running"


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to collect it has ended)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
