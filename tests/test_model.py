"""``image_to_3d`` and ``Model3D``: sizes, manifests and every export format read back."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh

import orfeas_nb
from orfeas_nb.errors import InvalidInput, UnsupportedFormat

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def model():
    return orfeas_nb.image_to_3d(orfeas_nb.samples.path("scene"), quality=3, size_mm=80.0)


def test_longest_side_and_watertight(model):
    assert max(model.mesh.extents) == pytest.approx(80.0)
    report = model.report()
    assert report.watertight and report.manifold and report.volume_mm3 > 0
    assert report.bounds_mm[0] == pytest.approx(80.0)
    assert "watertight: yes" in str(report)
    assert report.to_dict()["triangles"] == len(model.mesh.faces)


def test_manifest_records_how_it_was_made(model):
    manifest = model.manifest
    assert manifest["task"] == "image_to_3d" and manifest["method"] == "relief"
    assert manifest["parameters"]["quality"] == 3 and manifest["parameters"]["size_mm"] == 80.0
    assert len(manifest["input"]["sha256"]) == 64
    assert manifest["triangles"] == len(model.mesh.faces)
    assert manifest["versions"]["orfeas_nb"] == orfeas_nb.__version__
    assert set(manifest["timings_s"]) >= {"load", "mesh", "total"}
    assert "relief" in repr(model)


@pytest.mark.parametrize("fmt", ["stl", "obj", "glb", "ply", "3mf"])
def test_every_format_round_trips_watertight(model, tmp_path, fmt):
    path = model.export(tmp_path / f"scene.{fmt}")
    loaded = trimesh.load(path, force="mesh")
    assert loaded.is_watertight
    assert len(loaded.faces) == len(model.mesh.faces)
    assert loaded.extents == pytest.approx(model.mesh.extents, rel=1e-4)
    sidecar = json.loads((tmp_path / "scene.manifest.json").read_text())
    assert sidecar["format"] == fmt and sidecar["file"] == path.name


def test_binary_stl_and_explicit_format(model, tmp_path):
    path = model.export(tmp_path / "noext", format="STL", manifest=False)
    data = path.read_bytes()
    assert len(data) == 84 + 50 * len(model.mesh.faces)
    assert not (tmp_path / "noext.manifest.json").exists()
    with pytest.raises(UnsupportedFormat, match="use one of"):
        model.export(tmp_path / "model.step")


def test_flat_grey_image_is_a_box_of_known_volume():
    grey = np.full((50, 100), 128, np.uint8)
    model = orfeas_nb.image_to_3d(grey, quality=2, size_mm=100.0, height_mm=4.0, base_mm=2.0)
    thickness = 2.0 + 4.0 * 128 / 255
    assert model.mesh.volume == pytest.approx(100.0 * 50.0 * thickness, rel=0.02)
    assert model.report().min_wall_mm == 2.0


def test_relief_options_shape_the_heights():
    ramp = np.tile(np.linspace(0, 255, 64).astype(np.uint8), (32, 1))
    plain = orfeas_nb.image_to_3d(ramp, quality=2, size_mm=64.0, height_mm=10.0, base_mm=1.0)
    inverted = orfeas_nb.image_to_3d(ramp, quality=2, size_mm=64.0, height_mm=10.0, base_mm=1.0, invert=True)
    left = plain.mesh.vertices[:, 0] < 1.0
    top = plain.mesh.vertices[:, 2] > 0.5
    assert plain.mesh.vertices[left & top, 2].max() < 2.0
    assert inverted.mesh.vertices[inverted.mesh.vertices[:, 0] < 1.0, 2].max() > 10.0


def test_alpha_sets_the_height_of_a_logo():
    model = orfeas_nb.image_to_3d(orfeas_nb.samples.path("logo"), quality=2, source="alpha", height_mm=3.0)
    assert model.mesh.extents[2] == pytest.approx(5.0, abs=0.05)


def test_bad_arguments_raise_invalid_input():
    with pytest.raises(InvalidInput, match="unknown method"):
        orfeas_nb.image_to_3d(orfeas_nb.samples.path("logo"), method="nope")
    with pytest.raises(InvalidInput, match="true or false"):
        orfeas_nb.image_to_3d(orfeas_nb.samples.path("logo"), invert="yes")
    with pytest.raises(InvalidInput, match="choose one of"):
        orfeas_nb.image_to_3d(orfeas_nb.samples.path("logo"), source="depth")
    with pytest.raises(InvalidInput, match="no sample named"):
        orfeas_nb.samples.path("cat")
    assert "relief" in orfeas_nb.methods()
