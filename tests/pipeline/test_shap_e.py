"""Shap-E text→3D and image→3D through the API and the CLI, with tiny pipelines; surface extraction."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh

import orfeas_nb
from orfeas_nb.errors import InvalidInput, JobCancelled, OrfeasError
from orfeas_nb.learned import solid_from_surface
from orfeas_nb.pipeline import shap_e

pytestmark = pytest.mark.integration


def _text(tiny_shap_e, **kwargs):
    kwargs = {"model": tiny_shap_e, "quality": 1, "steps": 2, "progress": False, **kwargs}
    return orfeas_nb.text_to_3d("a chess pawn", **kwargs)


def test_text_to_3d_gives_a_printable_solid_of_the_asked_size(tiny_shap_e):
    model = _text(tiny_shap_e, seed=3, size_mm=40)
    report = model.report()
    assert report.watertight and report.volume_mm3 > 0
    assert max(model.mesh.extents) == pytest.approx(40.0)
    assert model.mesh.bounds[0].tolist() == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    manifest = model.manifest
    assert manifest["task"] == "text_to_3d" and manifest["method"] == "shap-e" and manifest["seed"] == 3
    assert manifest["prompt"] == "a chess pawn" and manifest["grid"] == 32 and manifest["steps"] == 2
    assert manifest["model"]["id"] == str(tiny_shap_e) and manifest["model"]["revision"].startswith("sha256:")
    assert manifest["triangles"] == len(model.mesh.faces)


@pytest.mark.slow
def test_same_seed_same_mesh(tiny_shap_e):
    first, again, other = _text(tiny_shap_e, seed=4), _text(tiny_shap_e, seed=4), _text(tiny_shap_e, seed=5)
    assert np.array_equal(first.mesh.vertices, again.mesh.vertices)
    assert first.mesh.vertices.shape != other.mesh.vertices.shape or not np.array_equal(
        first.mesh.vertices, other.mesh.vertices)


def test_progress_counts_scheduler_steps_and_cancel_stops_within_one(tiny_shap_e, recorder):
    steps = recorder()
    _text(tiny_shap_e, seed=1, steps=3, callback=steps)
    total = steps.calls[-1][1]
    assert [s for s, _ in steps.calls] == list(range(1, total + 1)) and total >= 3
    stopper = recorder(cancel_at=2)
    with pytest.raises(JobCancelled, match="shap-e \\(text\\) was cancelled after 2 of"):
        _text(tiny_shap_e, seed=1, steps=6, callback=stopper, cancel=stopper.cancel)
    assert len(stopper.calls) == 2


def test_image_to_3d_with_shap_e(tiny_shap_e_img2img, monkeypatch):
    monkeypatch.setenv("ORFEAS_SHAP_E_IMG2IMG_MODEL", str(tiny_shap_e_img2img))
    model = orfeas_nb.image_to_3d(orfeas_nb.samples.path("logo"), method="shap-e", quality=1, steps=2, seed=0,
                                  size_mm=25, progress=False)
    assert model.report().watertight and max(model.mesh.extents) == pytest.approx(25.0)
    assert model.manifest["method"] == "shap-e" and model.manifest["guidance_scale"] == 3.0
    assert model.manifest["input"]["format"] == "PNG"


@pytest.mark.slow
def test_text_to_3d_through_an_image_method(tiny_sd, tiny_depth):
    model = orfeas_nb.text_to_3d("an owl", method="depth", model=tiny_sd, depth_model=tiny_depth, seed=9, steps=1,
                                 quality=1, progress=False)
    assert model.report().watertight
    manifest = model.manifest
    assert manifest["task"] == "text_to_3d" and manifest["seed"] == 9 and manifest["prompt"] == "an owl"
    assert manifest["image"]["model"]["id"] == str(tiny_sd) and manifest["model"]["id"] == str(tiny_depth)
    relief = orfeas_nb.text_to_3d("an owl", method="relief", image_model=tiny_sd, seed=9, steps=1, quality=1,
                                  progress=False)
    assert relief.manifest["method"] == "relief" and relief.manifest["image"]["seed"] == 9


def test_transparent_pictures_are_put_on_white():
    from PIL import Image

    clear = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert shap_e._encode("image", clear).getpixel((0, 0)) == (255, 255, 255)
    assert shap_e._encode("image", Image.new("L", (2, 2), 7)).getpixel((0, 0)) == (7, 7, 7)
    with pytest.raises(InvalidInput, match="kind must be 'text' or 'image'"):
        shap_e._encode("video", clear)


def test_a_sphere_field_becomes_a_closed_sphere():
    grid = 40
    axis = np.linspace(-1, 1, grid)
    x, y, z = np.meshgrid(axis, axis, axis, indexing="ij")
    field = 0.5 - np.sqrt(x**2 + y**2 + z**2)  # positive inside a sphere of radius 0.5
    vertices, faces = shap_e.surface_from_field(field, np.array([-1.0] * 3), np.array([1.0] * 3))
    mesh = solid_from_surface(vertices, faces, 20.0)
    assert mesh.is_watertight and mesh.volume > 0
    assert mesh.volume == pytest.approx(4 / 3 * np.pi * 10.0**3, rel=0.03)
    radii = np.linalg.norm(vertices, axis=1)
    assert radii == pytest.approx(np.full_like(radii, 0.5), abs=0.02)


@pytest.mark.parametrize("value", [-1.0, 1.0])
def test_an_empty_field_is_a_clear_error(value):
    with pytest.raises(OrfeasError, match="empty surface"):
        shap_e.surface_from_field(np.full((8, 8, 8), value), np.zeros(3), np.ones(3))


def test_an_empty_shap_e_result_is_an_error_not_a_crash(tiny_shap_e, monkeypatch, cli, tmp_path):
    monkeypatch.setattr(shap_e, "_signed_distance", lambda renderer, latent, grid: -np.ones((grid,) * 3))
    with pytest.raises(OrfeasError, match="empty surface"):
        _text(tiny_shap_e, seed=1)
    result = cli("text-to-3d", "a pawn", "-o", tmp_path / "p.stl", "--model", tiny_shap_e, "--quality", 1,
                 "--steps", 1)
    last_line = result.stderr.rstrip("\n").split("\n")[-1].split("\r")[-1]
    assert result.exit_code == 1 and last_line.startswith("error: Shap-E produced an empty surface")
    assert not (tmp_path / "p.stl").exists()


def test_an_open_surface_that_cannot_be_closed_is_refused():
    sheet = trimesh.creation.box().vertices, np.array([[0, 1, 2], [1, 3, 2]])
    with pytest.raises(OrfeasError, match="not printable"):
        solid_from_surface(*sheet, 10.0)


def test_a_small_hole_is_repaired():
    box = trimesh.creation.box((1.0, 2.0, 3.0))
    mesh = solid_from_surface(box.vertices, box.faces[1:], 30.0)
    assert mesh.is_watertight and mesh.extents.tolist() == pytest.approx([10.0, 20.0, 30.0])


def test_inverted_surfaces_are_turned_outward():
    box = trimesh.creation.box()
    mesh = solid_from_surface(box.vertices, box.faces[:, ::-1], 10.0)
    assert mesh.volume == pytest.approx(1000.0)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"quality": 11}, "quality must be between 1 and 10"),
    ({"steps": 0}, "steps must be between 1 and 500"),
    ({"guidance_scale": -1}, "guidance_scale must be between"),
    ({"method": "sculpt"}, "unknown method 'sculpt'"),
])
def test_bad_values_are_refused(tiny_shap_e, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        _text(tiny_shap_e, **kwargs)


def test_cli_text_to_3d_writes_mesh_and_manifest(cli, tiny_shap_e, tmp_path):
    out = tmp_path / "pawn.3mf"
    result = cli("text-to-3d", "a chess pawn", "-o", out, "--model", tiny_shap_e, "--quality", 1, "--steps", 2,
                 "--seed", 7, "--size-mm", 30)
    assert result.exit_code == 0, result.stderr
    assert "watertight: yes" in result.stdout and "seed 7" in result.stdout
    loaded = trimesh.load(out, force="mesh")
    assert loaded.is_watertight and max(loaded.extents) == pytest.approx(30.0, rel=1e-4)
    manifest = json.loads((tmp_path / "pawn.manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["format"] == "3mf"


def test_cli_text_to_3d_without_weights_exits_3(cli, tmp_path):
    result = cli("text-to-3d", "a pawn", "-o", tmp_path / "p.stl")
    assert result.exit_code == 3 and "openai/shap-e" in result.stderr and "ORFEAS_SHAP_E_MODEL" in result.stderr
