"""Benchmark: eight image_to_3d runs at quality 8 through `orfeas batch --workers 2` vs papermill in a row.

    python benchmarks/batch.py [--runs 8] [--workers 2] [--quality 8]

Prints the wall times, speedups (sequential / batch; target ≥ 1.7 on 2 cores), CPU seconds and the
median run inside a worker, for the default batch (warm kernels: each run's kernel is forked from a
server that imported ipykernel and orfeas_nb once) and for the batch with ``ORFEAS_BATCH_PRELOAD=none``
(a new kernel process per run, as papermill starts them): the second shows what the parallel workers
alone give, the first what users get. All sides run the same notebook with the same
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


def batched(sets: list[dict], out: Path, workers: int, warm: bool) -> tuple[float, list[float]]:
    """`orfeas batch` in a fresh process (warm kernels on or off): wall seconds and each run's seconds."""
    out.mkdir()
    params = out / "sweep.json"
    params.write_text(json.dumps({"runs": sets}))
    env = {**os.environ, **({} if warm else {"ORFEAS_BATCH_PRELOAD": "none"})}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "orfeas_nb", "batch", str(NOTEBOOK), "--params", str(params), "-o", str(out / "runs"),
         "--workers", str(workers)],
        capture_output=True, text=True, check=False, env=env,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"orfeas batch failed ({done.returncode}): {done.stderr[-2000:]}")
    summary = json.loads((out / "runs" / "summary.json").read_text())
    return seconds, sorted(r["seconds"] for r in summary["runs"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quality", type=int, default=8)
    args = parser.parse_args()
    sets = parameter_sets(args.runs, args.quality)
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="orfeas-bench-") as tmp:
        scratch = Path(tmp)
        cpu = cpu_seconds()
        t_seq = sequential(sets, scratch)
        rows.append(("papermill, one after another", t_seq, cpu_seconds() - cpu, None))
        for warm, name in ((True, "orfeas batch (default: warm kernels)"), (False, "orfeas batch, ORFEAS_BATCH_PRELOAD=none")):
            cpu = cpu_seconds()
            seconds, runs = batched(sets, scratch / f"batch-{warm}", args.workers, warm)
            rows.append((name, seconds, cpu_seconds() - cpu, runs[len(runs) // 2]))
    print(f"runs: {args.runs} × image_to_3d quality {args.quality}, {os.cpu_count()} CPUs, --workers {args.workers}")
    print(f"{'':42} {'wall s':>7} {'speedup':>8} {'CPU s':>6} {'median run s':>13}")
    for name, seconds, cpu_s, median in rows:
        run_s = f"{median:13.2f}" if median is not None else f"{seconds / args.runs:13.2f}"
        print(f"{name:42} {seconds:7.2f} {t_seq / seconds:7.2f}× {cpu_s:6.1f} {run_s}")
    print("target: speedup ≥ 1.7× (the default batch); CPU is the whole machine's, all processes")
    print(f"load average (1 min) before/after: {load_before:.2f} / {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
