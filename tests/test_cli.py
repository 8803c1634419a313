"""The ``orfeas`` command line as a user meets it: files written, one-line errors, exit codes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh

from orfeas_nb.demo import DEMO_RUNS
from tests.conftest import png_bytes, run_orfeas
from tests.core.test_validation import huge_header_png

pytestmark = pytest.mark.unit


def test_demo_writes_printable_files_that_load_back(tmp_path):
    """The README's first command: every listed file is a watertight mesh whose longest side is 100 mm."""
    out = tmp_path / "demo"
    result = run_orfeas("demo", "--out", out, "--quality", "3")
    assert result.returncode == 0, result.stderr
    listed = [line.removeprefix("wrote ") for line in result.stdout.splitlines() if line.startswith("wrote ")]
    meshes = [p for p in listed if not p.endswith(".json")]
    assert len(meshes) == len(DEMO_RUNS)
    for path in meshes:
        mesh = trimesh.load(path, force="mesh")
        assert mesh.is_watertight, path
        assert max(mesh.extents) == pytest.approx(100.0, rel=0.01), path
    summary = json.loads((out / "summary.json").read_text())
    assert {row["file"] for row in summary} == {p.rsplit("/", 1)[1] for p in meshes}
    assert "triangles" in result.stdout and "watertight" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("truncated.png", png_bytes(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8))[:300], "truncated"),
        ("x.png", b"just some text, not an image\n", "not a supported image"),
        ("huge.png", huge_header_png(), "ORFEAS_MAX_PIXELS"),
        ("empty.png", b"", "empty"),
    ],
)
def test_bad_images_exit_2_with_one_line_and_no_file(tmp_path, cli, name, content, message):
    image = tmp_path / name
    image.write_bytes(content)
    out = tmp_path / "out" / "model.stl"
    result = cli("image-to-3d", image, "-o", out)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_bad_image_in_a_real_process_has_no_traceback(tmp_path):
    image = tmp_path / "x.png"
    image.write_text("hello")
    result = run_orfeas("image-to-3d", image, "-o", tmp_path / "m.stl")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "model.xyz"], "use one of: stl, obj, glb, ply, 3mf"),
        (["-o", "m.stl", "--quality", "11"], "quality must be between 1 and 10"),
        (["-o", "m.stl", "--size-mm", "0"], "size_mm must be between"),
        (["-o", "m.stl", "--method", "magic"], "unknown method 'magic'"),
        (["-o", "m.stl", "-O", "height_mm=-1"], "height_mm must be between"),
        (["-o", "m.stl", "-O", "colour=red"], "has no option colour"),
        (["-o", "m.stl", "-O", "nonsense"], "name=value"),
    ],
)
def test_bad_parameters_exit_2(tmp_path, cli, disk_png, args, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("image-to-3d", disk_png, *args)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert not any(p.suffix in (".stl", ".xyz") for p in tmp_path.iterdir())


def test_image_to_3d_writes_the_file_and_manifest(tmp_path, cli, disk_png):
    out = tmp_path / "disk.ply"
    result = cli("image-to-3d", disk_png, "-o", out, "--quality", "2", "--size-mm", "40", "-O", "height_mm=3")
    assert result.exit_code == 0, result.stderr
    assert f"wrote {out}" in result.stdout
    mesh = trimesh.load(out)
    assert mesh.is_watertight and max(mesh.extents) == pytest.approx(40.0)
    manifest = json.loads((tmp_path / "disk.manifest.json").read_text())
    assert manifest["parameters"]["height_mm"] == 3
    assert manifest["format"] == "ply"


def test_usage_errors_exit_2(cli):
    assert cli("image-to-3d").exit_code == 2
    assert cli("no-such-command").exit_code == 2


def test_unexpected_errors_are_one_line_exit_1(cli, disk_png, tmp_path, monkeypatch):
    import orfeas_nb.api

    def broken(*_args, **_kwargs):
        raise RuntimeError("kaboom\nsecond line")

    monkeypatch.setattr(orfeas_nb.api, "image_to_3d", broken)
    result = cli("image-to-3d", disk_png, "-o", tmp_path / "m.stl")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "unexpected error: RuntimeError: kaboom second line (set ORFEAS_DEBUG=1 for the traceback)"
    )


def test_methods_and_doctor_and_version(cli):
    methods = cli("methods")
    assert methods.exit_code == 0 and "relief:" in methods.stdout and "height_mm=5.0" in methods.stdout
    doctor = cli("doctor")
    assert doctor.exit_code == 0
    assert "ORFEAS_MAX_PIXELS: 50000000" in doctor.stdout and "trimesh:" in doctor.stdout
    assert cli("--version").stdout.startswith("orfeas, version ")
