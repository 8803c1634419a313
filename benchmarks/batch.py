"""Benchmark: eight image_to_3d runs at quality 8 through `orfeas batch --workers 2` vs papermill in a row.

    python benchmarks/batch.py [--runs 8] [--workers 2] [--quality 8]

Prints both wall times, the speedup (sequential / batch; target ≥ 1.7 on 2 cores), and the overhead
per run: how much the batch takes beyond perfect division of the sequential time over the workers
(cluster start, task transfer, writing run folders). Both sides run the same notebook with the same
parameter sets (one size per run) and include kernel starts. Both start cold, as a user meets them: a
fresh Python process each (the baseline imports papermill once and runs the eight through its API; the
batch is the `orfeas batch` command), timed from launch to exit. The load average is printed too: other
work on the machine skews the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "image_to_3d.ipynb"


def cpu_seconds() -> float:
    """CPU time (user + system) of the whole machine, all processes: kernels, workers, fork servers."""
    busy = psutil.cpu_times()
    return busy.user + busy.nice + busy.system + busy.irq + busy.softirq


def parameter_sets(runs: int, quality: int) -> list[dict]:
    return [{"quality": quality, "size_mm": 60.0 + 10 * i, "formats": ["stl"]} for i in range(runs)]


SEQUENTIAL = """
import json, sys
import papermill

notebook, scratch, sets = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
for i, params in enumerate(sets):
    papermill.execute_notebook(
        notebook, f"{scratch}/seq-{i}.ipynb", parameters={**params, "output_dir": f"{scratch}/seq-{i}"},
        progress_bar=False, cwd=scratch, extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
"""


def sequential(sets: list[dict], scratch: Path) -> float:
    """papermill's Python API in a loop, in a fresh process: timed from launch to exit, like the batch command."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", SEQUENTIAL, str(NOTEBOOK), str(scratch), json.dumps(sets)], check=True)
    return time.perf_counter() - started


def batched(sets: list[dict], scratch: Path, workers: int) -> float:
    params = scratch / "sweep.json"
    params.write_text(json.dumps({"runs": sets}))
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "orfeas_nb", "batch", str(NOTEBOOK), "--params", str(params), "-o", str(scratch / "batch"),
         "--workers", str(workers)],
        capture_output=True, text=True, check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"orfeas batch failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quality", type=int, default=8)
    args = parser.parse_args()
    sets = parameter_sets(args.runs, args.quality)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="orfeas-bench-") as tmp:
        scratch = Path(tmp)
        cpu = cpu_seconds()
        t_seq = sequential(sets, scratch)
        cpu_seq, cpu = cpu_seconds() - cpu, cpu_seconds()
        t_batch = batched(sets, scratch, args.workers)
        cpu_batch = cpu_seconds() - cpu
        summary = json.loads((scratch / "batch" / "summary.json").read_text())
    load_after = os.getloadavg()[0]
    run_seconds = [r["seconds"] for r in summary["runs"]]
    overhead = (t_batch - t_seq / args.workers) / args.runs
    print(f"runs: {args.runs} × image_to_3d quality {args.quality}, {os.cpu_count()} CPUs, workers: {args.workers}")
    print(f"papermill, one after another: {t_seq:7.2f} s  ({t_seq / args.runs:.2f} s per run)")
    print(f"orfeas batch --workers {args.workers}:   {t_batch:7.2f} s  (median run inside a worker: "
          f"{sorted(run_seconds)[len(run_seconds) // 2]:.2f} s)")
    print(f"speedup: {t_seq / t_batch:.2f}×   (target ≥ 1.7×)")
    print(f"overhead per run beyond perfect {args.workers}-way division: {overhead:+.2f} s")
    print(f"CPU seconds (whole machine): sequential {cpu_seq:.1f}, batch {cpu_batch:.1f}; on {args.workers} idle cores "
          f"the batch could reach at most {args.workers * cpu_seq / cpu_batch:.2f}×")
    print(f"load average (1 min) before/after: {load_before:.2f} / {load_after:.2f}")


if __name__ == "__main__":
    main()
