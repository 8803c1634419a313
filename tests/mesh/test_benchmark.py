"""The benchmark script still runs and prints its table (at a tiny size: ratios there mean nothing)."""

from __future__ import annotations

import importlib.util
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
    for photo in ("astronaut 48²", "camera 48²", "coffee 48²", "rocket 48²", "scene.png"):
        assert f"{photo} relief: public path vs dense path" in body and f"{photo} lithophane: public path" in body
    assert "× the time" in body and "of the triangles" in body
    assert "public path vs lithophane pkg" in body and "faster" in body, "the dev extra installs the lithophane package:\n" + body
    assert "watertight yes vs" in body
    assert "vs numpy tofile + fsync" in body and "the floor" in body


def test_an_absent_peer_package_prints_its_rows_as_not_installed(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "lithophane", None)  # `import lithophane` raises ImportError
    monkeypatch.setenv("ORFEAS_MAX_GRID", "1024")  # main() sets it when unset; this keeps it out of other tests
    spec = importlib.util.spec_from_file_location("bench_mesh", SCRIPT)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.main(["--side", "32"])
    rows = [line for line in capsys.readouterr().out.splitlines() if "vs lithophane pkg" in line]
    assert [row.split("  ")[0] for row in rows] == [f"{photo} 32² lithophane: public path vs lithophane pkg"
                                                     for photo in ("astronaut", "camera", "coffee", "rocket")]
    for row in rows:
        cells = [cell for cell in row.split("  ") if cell.strip()]
        assert cells[1].strip() == "not installed"
        assert "pip install lithophane" in row
