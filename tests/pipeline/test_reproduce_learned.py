"""``orfeas reproduce`` on results of a tiny model: same pixels (same device), and an account of what differs."""

from __future__ import annotations

import json

import pytest

import orfeas_nb
from orfeas_nb.model import manifest_path

pytestmark = pytest.mark.integration


def test_a_tiny_model_picture_reproduces_pixel_identical(cli, tiny_sd, tmp_path):
    out = tmp_path / "owl.png"
    made = cli("text-to-image", "a small owl", "-o", out, "--model", tiny_sd, "--seed", 5, "--steps", 2)
    assert made.exit_code == 0, made.stderr
    manifest = json.loads(manifest_path(out).read_text())
    assert manifest["output"]["name"] == "owl.png" and len(manifest["output"]["pixels_sha256"]) == 64
    result = cli("reproduce", manifest_path(out), "-o", tmp_path / "again.png")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("identical: the rebuilt picture has the recorded pixels (sha256 ")
    again = json.loads((tmp_path / "again.manifest.json").read_text())
    assert again["output"]["pixels_sha256"] == manifest["output"]["pixels_sha256"]

    manifest.update(seed=6, device="cuda")
    manifest["model"]["revision"] = "folder:0000"
    manifest_path(out).write_text(json.dumps(manifest))
    result = cli("reproduce", manifest_path(out))
    assert result.exit_code == 1 and result.stdout.count("\n") == 1
    assert result.stdout.startswith("differs: the rebuilt picture's pixels have sha256 ")
    assert "device cuda → cpu" in result.stdout and "model revision folder:0000 → " in result.stdout


def test_text_to_3d_through_a_tiny_picture_model_reproduces_byte_identical(tiny_sd, tmp_path):
    model = orfeas_nb.text_to_3d("a pawn", method="relief", quality=1, model=tiny_sd, seed=3, steps=2, progress=False)
    path = model.export(tmp_path / "pawn.stl")
    result = orfeas_nb.reproduce(manifest_path(path))
    assert result.identical, result.summary()


def test_a_depth_model_reproduces_byte_identical(tiny_depth, tmp_path):
    picture = orfeas_nb.samples.path("scene")
    model = orfeas_nb.image_to_3d(picture, method="depth", quality=1, model=tiny_depth, progress=False)
    path = model.export(tmp_path / "scene.glb")
    result = orfeas_nb.reproduce(manifest_path(path))
    assert result.identical, result.summary()
