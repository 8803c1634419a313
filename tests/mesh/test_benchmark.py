"""The benchmark script still runs and prints its table (at a tiny size: ratios there mean nothing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.performance, pytest.mark.slow]  # a benchmark script run as a test
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "mesh.py"


def test_benchmark_prints_the_table_of_ratios():
    done = subprocess.run([sys.executable, str(SCRIPT), "--side", "48"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].split()[:2] == ["benchmark", "ratio"]
    body = "\n".join(lines[2:])
    assert "vs lithophane pkg" in body and "faster" in body
    assert "adaptive vs grid at 0.05 mm" in body and "of the triangles" in body
    assert "vs numpy tofile" in body and "the floor" in body
    assert "watertight yes vs" in body
