"""What monitoring costs: recording overhead per generation, and scrape time as processes accumulate.

1. A small relief generation (quality 1, ~10 ms) through ``orfeas_nb.image_to_3d`` with recording, against
   the same function unwrapped (``__wrapped__``), interleaved, in this process (single-process mode) and
   in a child with ``PROMETHEUS_MULTIPROC_DIR`` set (multiprocess mode, as in a Jupyter kernel).
2. Scraping a multiprocess folder written by 1 process against one written by N finished processes
   (each batch run or kernel leaves its counter files behind until the server restarts).

    python benchmarks/monitoring.py [--repeats 40] [--processes 20]

Prints medians and ratios against the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OVERHEAD = """
import statistics, sys, time
import orfeas_nb
from orfeas_nb import api
image = orfeas_nb.samples.path("shapes")
plain, recorded = [], []
for _ in range({repeats}):
    for fn, out in ((api.image_to_3d.__wrapped__, plain), (api.image_to_3d, recorded)):
        start = time.perf_counter()
        fn(image, quality=1, size_mm=20)
        out.append(time.perf_counter() - start)
p, r = statistics.median(plain), statistics.median(recorded)
from orfeas_nb.monitoring import record_generation
start = time.perf_counter()
for _ in range(5000):
    with record_generation("image_to_3d", "relief"):
        pass
per_call = (time.perf_counter() - start) / 5000
print(f"{{p * 1000:.2f}} {{r * 1000:.2f}} {{r / p:.3f}} {{per_call * 1e6:.1f}}")
"""
WRITER = "from orfeas_nb.monitoring import record_generation\nwith record_generation('image_to_3d', 'relief'):\n    pass"


def overhead(repeats: int, multiprocess: bool) -> str:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as folder:
        if multiprocess:
            env["PROMETHEUS_MULTIPROC_DIR"] = folder
        out = subprocess.run([sys.executable, "-c", OVERHEAD.format(repeats=repeats)], env=env, check=True,
                             capture_output=True, text=True).stdout.split()
    plain, recorded, ratio, per_call = out
    return f"plain {plain} ms, recorded {recorded} ms, ratio {ratio}×; one empty recording {per_call} µs"


def scrape_seconds(folder: str, repeats: int = 20) -> float:
    from prometheus_client import generate_latest

    from orfeas_nb.monitoring.multiprocess import aggregate

    registry = aggregate(folder)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        generate_latest(registry)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--processes", type=int, default=20)
    args = parser.parse_args()
    print(f"recording, single-process: {overhead(args.repeats, False)}")
    print(f"recording, multiprocess:   {overhead(args.repeats, True)}")
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as many:
        for folder, count in ((one, 1), (many, args.processes)):
            for _ in range(count):
                subprocess.run([sys.executable, "-c", WRITER], env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": folder},
                               check=True)
        base, grown = scrape_seconds(one), scrape_seconds(many)
        print(f"scrape, 1 process: {base * 1000:.2f} ms; {args.processes} finished processes: {grown * 1000:.2f} ms "
              f"(ratio {grown / base:.1f}×)")


if __name__ == "__main__":
    main()
