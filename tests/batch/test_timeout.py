"""A run past its time limit is stopped, its kernel and the kernel's children killed, and recorded as failed."""

from __future__ import annotations

import json

import psutil
import pytest

from orfeas_nb.batch import run_id
from orfeas_nb.batch.execute import execute_run
from tests.batch.conftest import write_notebook
from tests.conftest import run_orfeas

pytestmark = [pytest.mark.integration, pytest.mark.notebook, pytest.mark.slow]

# The kernel writes its pid and a child's; both ignore SIGINT and SIGTERM (only SIGKILL stops them) and sleep.
SLEEP_FOREVER = (
    "import os, pathlib, signal, subprocess, sys, time\n"
    "out = pathlib.Path(output_dir)\nout.mkdir(parents=True, exist_ok=True)\n"
    "if forever:\n"
    "    quiet = 'import signal, time; [signal.signal(s, signal.SIG_IGN) for s in (2, 15)]; time.sleep(600)'\n"
    "    child = subprocess.Popen([sys.executable, '-c', quiet])\n"
    "    (out / 'pids.json').write_text(f'[{os.getpid()}, {child.pid}]')\n"
    "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "    while True:\n"
    "        time.sleep(1)\n"
    "(out / 'done.txt').write_text(str(x))"
)


@pytest.fixture
def sleeps_forever(tmp_path):
    """``sleeps_forever.ipynb``: with ``forever`` true it never returns; otherwise it writes ``done.txt``."""
    return write_notebook(
        tmp_path / "sleeps_forever.ipynb", SLEEP_FOREVER,
        parameters="forever = True  # never return\nx = 0  # written to done.txt\noutput_dir = 'out'  # where files go",
    )


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to collect it has ended)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize("preload", ["", "none"], ids=["warm-kernel", "new-process-kernel"])
def test_a_run_past_its_deadline_fails_with_the_reason_and_leaves_no_kernel(sleeps_forever, monkeypatch, preload):
    monkeypatch.setenv("ORFEAS_BATCH_PRELOAD", preload)
    # a first run without a limit loads the kernel server, so that the limit below falls in the sleep
    warm_up = execute_run(sleeps_forever.read_text(), {"forever": False}, output_param="output_dir")
    assert warm_up["status"] == "ok" and warm_up["files"] == {"done.txt": b"0"}
    result = execute_run(sleeps_forever.read_text(), {"forever": True}, output_param="output_dir", timeout_s=8)
    assert result["kernel"] == ("new process" if preload == "none" else "warm (forked, modules preloaded)")
    assert result["status"] == "failed" and result["seconds"] >= 8
    # cell 0 parameters, 1 injected parameters, 2 the sleep
    assert result["error"] == {"cell_index": 2, "ename": "TimeoutError",
                               "evalue": "timed out after 8 s (--timeout or ORFEAS_BATCH_RUN_TIMEOUT)"}
    kernel, child = json.loads(result["files"]["pids.json"])
    assert not alive(kernel) and not alive(child), "the kernel and its process group are killed when the run returns"
    assert result["notebook"] is not None and "injected-parameters" in result["notebook"]


def test_a_batch_times_out_one_run_and_runs_the_others(sleeps_forever, tmp_path):
    runs = [{"forever": False, "x": 1}, {"forever": True}, {"forever": False, "x": 2}]
    (tmp_path / "p.json").write_text(json.dumps({"runs": runs}))
    out = tmp_path / "runs"
    # one worker, which runs its tasks in submission order: the first run loads the kernel server (so the
    # limit falls in the sleep), the last runs only once the endless one has been stopped
    result = run_orfeas("batch", sleeps_forever, "--params", tmp_path / "p.json", "-o", out, "--workers", "1",
                        "--timeout", "5", timeout=300)
    assert result.returncode == 1, result.stderr
    assert "3 runs: 2 ok (0 reused), 1 failed" in result.stdout
    endless = run_id(runs[1])
    assert f"failed {endless} in cell 2: TimeoutError: timed out after 5 s" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    summary = {r["run"]: r for r in json.loads((out / "summary.json").read_text())["runs"]}
    assert summary[endless]["status"] == "failed"
    assert summary[endless]["error"]["ename"] == "TimeoutError" and summary[endless]["seconds"] >= 5
    for params in (runs[0], runs[2]):
        assert (out / run_id(params) / "outputs" / "done.txt").read_text() == str(params["x"])
    assert json.loads((out / "summary.json").read_text())["run_timeout_s"] == 5.0
    kernel, child = json.loads((out / endless / "outputs" / "pids.json").read_text())
    assert not alive(kernel) and not alive(child)
