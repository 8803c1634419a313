"""HTTP API benchmarks: a table of figures, every one measured in this one run against a real server.

1. the client against in-process: a quality-7 relief of a real photograph (scikit-image's astronaut,
   enlarged to side × side) through ``orfeas_nb.connect`` (upload, generate-3d, poll, download the STL
   to a file) against ``image_to_3d`` + ``export`` in this process: time ratio, median of the runs,
   alternated, after one warm-up of each (the server's Dask workers start on its first job), and where
   the client's seconds went (upload, queued, running on the worker, noticing the end, downloads).
   Target: ≤ 1.3×.
2. ``GET health`` latency while both of the server's 2 workers are busy with quality-10 reliefs (one job
   per 50 requests, at least 4: 2 running, the others waiting): p99 over the answers (one keep-alive
   connection without a token, as a load balancer's probe); the table says how many jobs were still
   running after the last answer.
   Target: ≤ 50 ms.

The server is ``orfeas serve`` on 127.0.0.1 (a subprocess, its own temporary folders, 2 workers).

Usage: ``python benchmarks/api.py [--side 1024] [--runs 3] [--health 500]`` (the smoke test uses
``--side 64 --runs 1 --health 20``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from PIL import Image

import orfeas_nb

URL_LINE = re.compile(r"(http://127\.0\.0\.1:\d+/)\?token=")


def photo(side: int, folder: Path) -> Path:
    """scikit-image's astronaut (a real photograph), resized to side × side, as a PNG file."""
    import skimage

    source = Path(skimage.__file__).parent / "data" / "astronaut.png"
    path = folder / f"astronaut-{side}.png"
    Image.open(source).convert("RGB").resize((side, side), Image.Resampling.BICUBIC).save(path)
    return path


@contextlib.contextmanager
def served(folder: Path, workers: int = 2) -> Iterator[str]:
    """``orfeas serve`` on a free port; yields its URL with the token."""
    token = secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(folder / "runtime"), "JUPYTER_DATA_DIR": str(folder / "data"),
           "ORFEAS_JOBS_DIR": str(folder / "jobs"), "ORFEAS_SERVER_WORKERS": str(workers),
           "ORFEAS_RATE_LIMIT": "1000000", "ORFEAS_MAX_QUEUED_JOBS": "100"}  # latency, not the limits
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log_path = folder / "serve.log"
    root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "orfeas_nb", "serve", "--port", "0", *root,
                                    f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}"],
                                   env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    try:
        deadline = time.monotonic() + 120
        while not (match := URL_LINE.search(log_path.read_text())):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"orfeas serve did not start:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        yield f"{match.group(1)}?token={token}"
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def in_process(image: Path, out: Path) -> float:
    start = time.perf_counter()
    orfeas_nb.image_to_3d(image, method="relief", quality=7, size_mm=100).export(out)
    return time.perf_counter() - start


def through_client(client: orfeas_nb.Client, image: Path, out: Path) -> tuple[float, dict[str, float]]:
    """Upload, generate-3d, poll, download the STL and its manifest to files (what `--server` users get).

    Returns the seconds and where they went: upload, waiting in the queue, running on the worker (model,
    STL, report and preview, files written by the server), noticing the end by polling, and downloads.
    """
    start = time.perf_counter()
    upload = client.upload(image)
    uploaded = time.perf_counter()
    status = client.run("generate-3d", {"job_id": upload["job_id"], "method": "relief", "quality": 7,
                                        "size_mm": 100, "format": "stl"}, progress=False)
    seen_done, seen_wall = time.perf_counter(), time.time()
    out.write_bytes(client.fetch(status["model_url"]))
    out.with_name(f"{out.stem}.manifest.json").write_bytes(client.fetch(status["manifest_url"]))
    end = time.perf_counter()
    created, started, finished = (_epoch(status[key]) for key in ("created", "started", "finished"))
    stages = {"upload": uploaded - start, "queued": started - created, "running": finished - started,
              "poll": seen_wall - finished, "download": end - seen_done}
    return end - start, stages


def _epoch(stamp: str | float) -> float:
    return float(stamp) if isinstance(stamp, (int, float)) else datetime.datetime.fromisoformat(stamp).timestamp()


def health_while_busy(client: orfeas_nb.Client, image: Path, samples: int) -> tuple[list[float], int]:
    """Seconds per ``GET health`` while quality-10 jobs keep both workers busy (one job per 50 samples, at least
    4: 2 run, the others wait), and how many were still running after the last sample."""
    upload = client.upload(image)
    body = {"job_id": upload["job_id"], "quality": 10, "size_mm": 100, "method": "relief", "format": "stl"}
    jobs = [client.submit("generate-3d", body) for _ in range(max(4, samples // 50))]

    def running() -> tuple[int, int]:
        states = [client.status(job)["status"] for job in jobs]
        return states.count("running"), sum(state in ("done", "failed", "cancelled") for state in states)

    while (counts := running())[0] < 2 and counts[1] < len(jobs) - 1:
        time.sleep(0.02)
    probe = httpx.Client(timeout=10)  # no token: what a load balancer sends
    seconds = []
    for _ in range(samples):
        start = time.perf_counter()
        answer = probe.get(client.api + "health")
        seconds.append(time.perf_counter() - start)
        answer.raise_for_status()
    busy = running()[0]
    for job in jobs:
        client.wait(job, progress=False)
    probe.close()
    return seconds, busy


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def table(rows: list[tuple[str, ...]]) -> str:
    """A fixed-width text table with a header."""
    header = ("benchmark", "figure", "times / counts", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=1024, help="photo side in pixels (default 1024)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each way, alternated (default 3)")
    parser.add_argument("--health", type=int, default=500, help="health requests while the workers are busy")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="orfeas-api-bench-") as tmp:
        folder = Path(tmp)
        image = photo(args.side, folder)
        with served(folder, workers=2) as url, orfeas_nb.connect(url) as client:
            through_client(client, image, folder / "warm-client.stl")  # starts the cluster, loads the workers
            in_process(image, folder / "warm-local.stl")
            local, remote, stages = [], [], []
            for run in range(args.runs):
                local.append(in_process(image, folder / f"local-{run}.stl"))
                seconds, where = through_client(client, image, folder / f"client-{run}.stl")
                remote.append(seconds)
                stages.append(where)
            same = (folder / "local-0.stl").stat().st_size == (folder / "client-0.stl").stat().st_size
            seconds, running = health_while_busy(client, image, args.health)
    local_s, remote_s = statistics.median(local), statistics.median(remote)
    where = ", ".join(f"{name} {statistics.median(run[name] for run in stages):.2f}" for name in stages[0])
    p99_ms, p50_ms = percentile(seconds, 99) * 1000, statistics.median(seconds) * 1000
    rows = [
        (f"client vs in-process, quality-7 relief of a {args.side}² photo", f"{remote_s / local_s:.2f}×",
         f"{remote_s:.3f} s vs {local_s:.3f} s (median of {args.runs}: {where}); same STL size: {'yes' if same else 'NO'}",
         "≤ 1.3×"),
        ("GET health p99 while 2 workers are busy", f"{p99_ms:.1f} ms",
         f"p50 {p50_ms:.1f} ms, max {max(seconds) * 1000:.1f} ms over {len(seconds)}; {running} jobs running at the end",
         "≤ 50 ms"),
    ]
    print(table(rows))


if __name__ == "__main__":
    main()
