"""Image → depth → relief through ``image_to_3d(method="depth")`` and the CLI, with a tiny Depth Anything."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import orfeas_nb
from orfeas_nb.errors import InvalidInput
from orfeas_nb.pipeline import depth
from orfeas_nb.validation import load_image

pytestmark = pytest.mark.integration


def test_depth_relief_is_printable_and_recorded(tiny_depth):
    model = orfeas_nb.image_to_3d(orfeas_nb.samples.path("scene"), method="depth", model=tiny_depth, quality=2,
                                  size_mm=80, height_mm=6, progress=False)
    report = model.report()
    assert report.watertight and report.volume_mm3 > 0
    assert max(model.mesh.extents[:2]) == pytest.approx(80.0)
    assert model.mesh.extents[2] <= 2.0 + 6.0 + 1e-6  # base + relief height
    manifest = model.manifest
    assert manifest["method"] == "depth" and manifest["seed"] is None
    assert manifest["model"]["id"] == str(tiny_depth) and manifest["model"]["revision"].startswith("sha256:")
    assert manifest["parameters"]["height_mm"] == 6 and manifest["input"]["size_px"] == [320, 240]
    assert "depth" in manifest["timings_s"] and manifest["versions"]["torch"].startswith("2.")


def test_depth_is_deterministic_and_invert_flips_it(tiny_depth):
    image = orfeas_nb.samples.path("scene")
    pil = load_image(image).image
    first = depth.estimate(pil, model=tiny_depth, progress=False)
    again = depth.estimate(pil, model=tiny_depth, progress=False)
    assert first.depth.shape == (240, 320) and first.depth.dtype == np.float32
    assert np.array_equal(first.depth, again.depth)
    assert first.depth.min() == 0.0 and first.depth.max() == 1.0
    plain = orfeas_nb.image_to_3d(image, method="depth", model=tiny_depth, quality=1, progress=False)
    flipped = orfeas_nb.image_to_3d(image, method="depth", model=tiny_depth, quality=1, invert=True, progress=False)
    # near-high plus far-high fill exactly two bases and one full relief height over the footprint
    x, y, _ = plain.mesh.extents
    assert plain.mesh.volume + flipped.mesh.volume == pytest.approx(x * y * (2 * 2.0 + 5.0), rel=0.03)
    assert plain.mesh.volume != pytest.approx(flipped.mesh.volume, rel=1e-3)


def test_depth_model_from_the_environment_and_progress(monkeypatch, tiny_depth, recorder):
    monkeypatch.setenv("ORFEAS_DEPTH_MODEL", str(tiny_depth))
    steps = recorder()
    model = orfeas_nb.image_to_3d(orfeas_nb.samples.path("logo"), method="depth", quality=1, callback=steps,
                                  progress=False)
    assert model.report().watertight and steps.calls == [(1, 1)]


def test_depth_options_are_checked(tiny_depth):
    with pytest.raises(InvalidInput, match="method 'depth' has no option colour"):
        orfeas_nb.image_to_3d(orfeas_nb.samples.path("logo"), method="depth", model=tiny_depth, colour=3)
    assert "depth" in orfeas_nb.methods() and "shap-e" in orfeas_nb.methods()


@settings(max_examples=30, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 8), st.integers(1, 8)),
              elements=st.floats(-1e6, 1e6, width=32)))
def test_normalised_depth_lies_in_unit_range(raw):
    out = depth.normalise(raw)
    assert out.shape == raw.shape and np.isfinite(out).all()
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out.max() == 1.0 or np.ptp(raw) <= 1e-12 or not out.any()


def test_cli_depth_method(cli, tiny_depth, tmp_path):
    out = tmp_path / "scene.stl"
    result = cli("image-to-3d", orfeas_nb.samples.path("scene"), "-o", out, "--method", "depth", "--quality", 1,
                 "-O", f"model={tiny_depth}")
    assert result.exit_code == 0, result.stderr
    assert "watertight: yes" in result.stdout
    manifest = json.loads((tmp_path / "scene.manifest.json").read_text())
    assert manifest["method"] == "depth" and manifest["model"]["id"] == str(tiny_depth)


def test_cli_depth_without_weights_exits_3(cli, tmp_path):
    result = cli("image-to-3d", orfeas_nb.samples.path("scene"), "-o", tmp_path / "x.stl", "--method", "depth")
    assert result.exit_code == 3
    assert "Depth-Anything-V2-Small-hf" in result.stderr and "ORFEAS_DEPTH_MODEL" in result.stderr
    assert not (tmp_path / "x.stl").exists()
