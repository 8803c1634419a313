"""Debian's prusa-slicer and admesh accept our STL and 3MF (skipped only outside CI where the tool is absent)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

import orfeas_nb

pytestmark = pytest.mark.slow


def absent(tool: str) -> bool:
    """True where ``tool`` is missing on a developer's machine; in CI (.ci/run installs it) it must be there."""
    return shutil.which(tool) is None and not os.environ.get("CI")

CASES = [("relief", "shapes", {}), ("lithophane", "scene", {"shape": "curved"}), ("extrude", "logo", {"base_mm": 1.0}),
         ("inflate", "shapes", {})]


@pytest.fixture(scope="module")
def models():
    return {m: orfeas_nb.image_to_3d(orfeas_nb.samples.path(s), method=m, quality=4, size_mm=60.0, **o) for m, s, o in CASES}


@pytest.mark.skipif(absent("prusa-slicer"), reason="prusa-slicer is installed by .ci/run (apt)")
@pytest.mark.parametrize(
    ("method", "fmt"), [("relief", "stl"), ("lithophane", "3mf"), ("extrude", "3mf"), ("inflate", "stl")]
)
def test_prusa_slicer_slices_our_files(models, method, fmt, tmp_path):
    model_path = models[method].export(tmp_path / f"part.{fmt}")
    gcode = tmp_path / "part.gcode"
    done = subprocess.run(["prusa-slicer", "--export-gcode", "--output", str(gcode), str(model_path)],
                          capture_output=True, text=True, errors="replace", timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error" not in (done.stdout + done.stderr).lower()
    text = gcode.read_text()
    assert text.count("\nG1 ") > 100  # real moves, not an empty print


@pytest.mark.skipif(absent("admesh"), reason="admesh is installed by .ci/run (apt)")
@pytest.mark.parametrize("method", [c[0] for c in CASES])
def test_admesh_finds_nothing_to_fix(models, method, tmp_path):
    stl = models[method].export(tmp_path / "part.stl")
    done = subprocess.run(["admesh", str(stl)], capture_output=True, text=True, errors="replace", timeout=120)
    assert done.returncode == 0
    # the header is NUL-padded: admesh prints its readable text and nothing past it (no padding, no garbage)
    text = f"orfeas_nb {method} mm sha256={models[method].manifest['input']['sha256'][:16]}"
    assert re.search(r"^Header\s*:\s*(.*)$", done.stdout, re.MULTILINE).group(1) == text
    stats = dict(re.findall(r"^(\w[\w ]*?)\s*:\s*(\S+)", done.stdout, re.MULTILINE))
    for key in ("Degenerate facets", "Edges fixed", "Facets removed", "Facets added", "Facets reversed",
                "Backwards edges", "Normals fixed"):
        assert stats[key] == "0", (key, done.stdout)
    volume = float(re.search(r"Volume\s*:\s*([\d.]+)", done.stdout).group(1))
    assert volume == pytest.approx(models[method].mesh.volume, rel=1e-3)


def _print_seconds(gcode: str) -> int:
    """PrusaSlicer's ``; estimated printing time (normal mode) = 1h 2m 3s`` in seconds."""
    found = re.search(r"^; estimated printing time \(normal mode\) = (.+)$", gcode, re.MULTILINE)
    assert found, "no estimated printing time in the G-code"
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([dhms])", found.group(1)))


def _slice(model_path, gcode) -> float:
    """Slice with PrusaSlicer's default FDM profile; the CPU seconds the slicer spent (its work, whatever
    else the machine is doing)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(["prusa-slicer", "--export-gcode", "--output", str(gcode), str(model_path)],
                          capture_output=True, text=True, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, done.stdout + done.stderr
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


@pytest.mark.skipif(absent("prusa-slicer"), reason="prusa-slicer is installed by .ci/run (apt)")
def test_the_fdm_model_of_a_photo_slices_faster_prints_no_longer_and_is_smaller_than_the_exact_one(tmp_path):
    """A small relief (25 mm) of scikit-image's photo of coins, exact and for the default FDM printer.

    The slicer's speed is compared as the CPU time it spends on each file in this one test (a ratio,
    robust to a busy machine): about 10× here, 5× asked."""
    import skimage

    coins = skimage.data.coins()
    made = {p: orfeas_nb.image_to_3d(coins, quality=5, size_mm=25.0, printer=p) for p in ("exact", "fdm")}
    files = {p: model.export(tmp_path / f"{p}.stl") for p, model in made.items()}
    cpu = {p: _slice(files[p], tmp_path / f"{p}.gcode") for p in made}
    printing = {p: _print_seconds((tmp_path / f"{p}.gcode").read_text()) for p in made}
    assert made["fdm"].mesh.volume == pytest.approx(made["exact"].mesh.volume, rel=0.01)
    assert cpu["exact"] >= 5 * cpu["fdm"], cpu
    assert printing["fdm"] <= printing["exact"], printing
    assert files["exact"].stat().st_size >= 4 * files["fdm"].stat().st_size
