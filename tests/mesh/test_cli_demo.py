"""The four weight-free methods through the CLI and ``orfeas demo``."""

from __future__ import annotations

import json

import pytest
import trimesh

from orfeas_nb import samples
from orfeas_nb.demo import DEMO_RUNS
from orfeas_nb.mesh.methods import METHODS

pytestmark = pytest.mark.unit


def test_orfeas_methods_lists_every_method_with_its_option_ranges(cli):
    result = cli("methods")
    assert result.exit_code == 0
    for name in ("relief", "lithophane", "extrude", "inflate"):
        assert f"{name}: " in result.stdout
    assert "min_mm=0.8 [0.2–20.0]" in result.stdout
    assert "shape=flat [flat|curved]" in result.stdout
    assert "triangulation=adaptive [adaptive|grid]" in result.stdout


@pytest.mark.parametrize(
    ("method", "options"),
    [
        ("relief", ["-O", "border_mm=3", "-O", "blur=0.5"]),
        ("lithophane", ["-O", "shape=curved", "-O", "angle_deg=90"]),
        ("extrude", ["-O", "base_mm=1", "-O", "mask=alpha"]),
        ("inflate", ["-O", "roundness=0.5"]),
    ],
)
def test_image_to_3d_runs_every_method(cli, tmp_path, method, options):
    out = tmp_path / f"{method}.stl"
    result = cli("image-to-3d", samples.path("logo"), "-o", out, "--method", method, "--quality", "2",
                 "--size-mm", "40", *options)
    assert result.exit_code == 0, result.stderr
    assert "watertight: yes" in result.stdout
    mesh = trimesh.load(out)
    assert mesh.is_watertight
    manifest = json.loads((tmp_path / f"{method}.manifest.json").read_text())
    assert manifest["method"] == method


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "lithophane", "-O", "min_mm=5", "-O", "max_mm=1"], "min_mm"),
        (["--method", "extrude", "-O", "speck_percent=50"], "speck_percent"),
        (["--method", "inflate", "-O", "depth=3"], "no option depth"),
        (["--method", "lithophane", "-O", "shape=round"], "shape"),
    ],
)
def test_bad_method_options_exit_2_with_one_line(cli, tmp_path, args, message):
    out = tmp_path / "x.stl"
    result = cli("image-to-3d", samples.path("shapes"), "-o", out, "--quality", "1", *args)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_demo_shows_every_weight_free_method(cli, tmp_path):
    assert {run.method for run in DEMO_RUNS} == set(METHODS)
    result = cli("demo", "--out", tmp_path, "--quality", "2")
    assert result.exit_code == 0, result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert {row["method"] for row in summary} == {"relief", "lithophane", "extrude", "inflate"}
    assert all(row["watertight"] for row in summary)
    for row in summary:
        path = tmp_path / row["file"]
        assert trimesh.load(path, force="mesh").is_watertight
        assert f"{row['file']}" in result.stdout
