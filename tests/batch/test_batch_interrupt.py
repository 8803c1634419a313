"""Ctrl-C during ``orfeas batch``: finished runs stay intact, nothing half-written, a rerun does the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from orfeas_nb.batch import run_id
from tests.batch.conftest import write_notebook

pytestmark = [pytest.mark.integration, pytest.mark.notebook]


def test_ctrl_c_keeps_finished_runs_and_leaves_no_partial_files(tmp_path):
    nb = write_notebook(
        tmp_path / "nap.ipynb",
        "import pathlib, time\ntime.sleep(seconds)\npathlib.Path(output_dir, 'done.txt').write_text(str(seconds))",
        parameters="seconds = 0  # how long to sleep\noutput_dir = 'out'  # where files go",
    )
    (tmp_path / "p.json").write_text(json.dumps({"runs": [{"seconds": 0}, {"seconds": 120}, {"seconds": 121}]}))
    out = tmp_path / "runs"
    finished = out / run_id({"seconds": 0}) / "record.json"
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
        assert not (out / run_id({"seconds": seconds}) / "record.json").exists()
    statuses = {r["params"]["seconds"]: r["status"] for r in json.loads((out / "summary.json").read_text())["runs"]}
    assert statuses == {0: "ok", 120: "not run", 121: "not run"}
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]
