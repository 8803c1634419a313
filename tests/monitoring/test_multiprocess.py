"""Multiprocess mode: two real processes write, one registry adds them up; dead processes' gauges go."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from orfeas_nb.errors import InvalidInput
from orfeas_nb.monitoring.multiprocess import aggregate, pid_alive, prepare_dir, remove_dead

pytestmark = pytest.mark.integration

WORKER = """
import sys
from orfeas_nb.monitoring import record_generation, set_job_counts
with record_generation("image_to_3d", "relief"):
    pass
try:
    with record_generation("image_to_3d", "relief"):
        raise ValueError("bad")
except ValueError:
    pass
set_job_counts(running=1, waiting=int(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
"""


def start_worker(folder, waiting: int) -> subprocess.Popen:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    process = subprocess.Popen([sys.executable, "-c", WORKER, str(waiting)], env=env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdout.readline().strip() == "ready"
    return process


def test_two_processes_add_up_and_a_dead_one_loses_its_live_gauges(tmp_path):
    folder = prepare_dir(tmp_path / "metrics")
    first, second = start_worker(folder, 2), start_worker(folder, 3)
    try:
        registry = aggregate(folder)
        labels = {"type": "image_to_3d", "provider": "relief"}
        assert registry.get_sample_value("orfeas_generations_total", {**labels, "status": "success"}) == 2
        assert registry.get_sample_value("orfeas_generations_total", {**labels, "status": "failed"}) == 2
        assert registry.get_sample_value("orfeas_generation_duration_seconds_count", labels) == 2
        assert registry.get_sample_value("orfeas_jobs_in_progress") == 2
        assert registry.get_sample_value("orfeas_job_queue_length") == 5
        first.communicate("\n", timeout=30)
        # the next scrape drops the dead worker's gauges; its counters stay (totals never go back)
        assert registry.get_sample_value("orfeas_job_queue_length") == 3
        assert registry.get_sample_value("orfeas_jobs_in_progress") == 1
        assert registry.get_sample_value("orfeas_generations_total", {**labels, "status": "success"}) == 2
        assert not list(folder.glob(f"gauge_livesum_{first.pid}.db"))
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.communicate("\n", timeout=30)


def test_prepare_dir_wipes_only_metric_files(tmp_path):
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "gauge_livesum_9.db").write_bytes(b"old")
    (tmp_path / "notes.db").write_text("mine")
    prepare_dir(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_remove_dead_keeps_live_processes(tmp_path):
    live, dead = os.getpid(), _a_dead_pid()
    for pid in (live, dead):
        (tmp_path / f"gauge_livesum_{pid}.db").write_bytes(b"")
        (tmp_path / f"counter_{pid}.db").write_bytes(b"")
    assert remove_dead(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"gauge_livesum_{live}.db", f"counter_{live}.db", f"counter_{dead}.db"]
    )
    assert pid_alive(live) and not pid_alive(dead)


def test_aggregate_needs_an_existing_folder(tmp_path):
    with pytest.raises(InvalidInput, match="PROMETHEUS_MULTIPROC_DIR"):
        aggregate(tmp_path / "missing")


def _a_dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid
