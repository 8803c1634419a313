"""The benchmark script still runs and prints its table (at a tiny size: ratios there mean nothing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.performance
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "mesh.py"


def test_benchmark_prints_the_table_of_ratios():
    done = subprocess.run([sys.executable, str(SCRIPT), "--side", "48"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].split()[:2] == ["benchmark", "ratio"]
    body = "\n".join(lines[2:])
    for photo in ("astronaut 48²", "camera 48²", "coffee 48²", "rocket 48²", "scene.png"):
        assert f"{photo} relief: public path vs dense path" in body and f"{photo} lithophane: public path" in body
    assert "× the time" in body and "of the triangles" in body
    assert "public path vs lithophane pkg" in body and ("faster" in body or "not installed" in body)
    assert "vs numpy tofile + fsync" in body and "the floor" in body
