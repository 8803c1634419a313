"""benchmarks/api.py still runs against a real server and prints its table (tiny sizes: figures mean nothing)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.performance, pytest.mark.integration, pytest.mark.slow]
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "api.py"


def test_benchmark_prints_the_two_figures():
    done = subprocess.run([sys.executable, str(SCRIPT), "--side", "64", "--runs", "1", "--health", "20"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0].split() == ["benchmark", "figure", "times", "/", "counts", "target"]
    assert set(lines[1].replace(" ", "")) == {"-"} and len(lines) == 4
    assert re.search(r"client vs in-process, quality-7 relief of a 64² photo\s+\d+\.\d\d×\s+.*same STL size: yes\s+≤ 1\.3×$",
                     lines[2])
    assert re.search(r"GET health p99 while 2 workers are busy\s+\d+\.\d ms\s+p50 .* over 20; \d+ jobs running "
                     r"at the end\s+≤ 50 ms$", lines[3])
