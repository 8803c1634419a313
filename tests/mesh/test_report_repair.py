"""report(): the facts and warnings a printer user reads; repair(): what trimesh/manifold3d can fix."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

import orfeas_nb
from orfeas_nb.mesh.repair import repair
from orfeas_nb.mesh.report import report, thinnest_wall
from orfeas_nb.model import Model3D

pytestmark = pytest.mark.unit


def test_a_sound_box_reports_its_size_volume_and_wall():
    r = report(trimesh.creation.box(extents=(40, 30, 6)))
    assert r.watertight and r.winding_consistent and r.manifold
    assert r.volume_mm3 == pytest.approx(7200.0)
    assert r.bounds_mm == pytest.approx((40, 30, 6))
    assert r.triangles == 12 and r.bodies == 1
    assert r.min_wall_mm == pytest.approx(6.0, rel=1e-3)  # estimated by rays: the thinnest direction
    assert r.warnings == ()
    data = r.to_dict()
    assert data["manifold"] is True and data["bounds_mm"] == pytest.approx([40, 30, 6])
    assert "thinnest wall: 6.00 mm" in str(r)


def test_thin_loose_and_oversized_models_get_warnings():
    thin = report(trimesh.creation.box(extents=(20, 20, 0.5)))
    assert any("thinnest wall 0.50 mm" in w for w in thin.warnings)
    two = trimesh.util.concatenate([trimesh.creation.box(extents=(5, 5, 5)), trimesh.creation.box(
        extents=(5, 5, 5), transform=trimesh.transformations.translation_matrix([20, 0, 0]))])
    loose = report(two)
    assert loose.bodies == 2 and any("2 separate parts" in w for w in loose.warnings)
    big = report(trimesh.creation.box(extents=(300, 10, 10)))
    assert any("print volume" in w for w in big.warnings)
    assert report(trimesh.creation.box(extents=(240, 200, 200))).warnings == ()  # fits when turned


def test_open_and_inside_out_meshes_are_flagged_and_repaired():
    box = trimesh.creation.box(extents=(10, 10, 10))
    holed = trimesh.Trimesh(box.vertices, box.faces[2:], process=False)
    r = report(holed)
    assert not r.watertight and r.volume_mm3 == 0.0 and "repair" in r.warnings[0]
    fixed, actions = repair(holed)
    assert fixed.is_watertight and fixed.volume == pytest.approx(1000.0) and "filled holes" in actions
    inside_out = box.copy()
    inside_out.invert()
    assert any("inside out" in w for w in report(inside_out).warnings)
    fixed, actions = repair(inside_out)
    assert fixed.volume == pytest.approx(1000.0) and actions


def test_repair_merges_split_seams_and_overlapping_parts():
    box = trimesh.creation.box(extents=(10, 10, 10))
    soup = trimesh.Trimesh(box.triangles.reshape(-1, 3), np.arange(36).reshape(-1, 3), process=False)
    assert not soup.is_watertight
    fixed, actions = repair(soup)
    assert fixed.is_watertight and any("merged" in a for a in actions)
    shifted = box.copy()
    shifted.apply_translation([5, 0, 0])
    fused, actions = repair(trimesh.util.concatenate([box, shifted]))
    assert fused.body_count == 1 and fused.volume == pytest.approx(1500.0)
    assert any("union" in a for a in actions)
    assert repair(box)[1] == []


def test_model_repair_records_what_it_did():
    box = trimesh.creation.box(extents=(10, 10, 10))
    model = Model3D(trimesh.Trimesh(box.vertices, box.faces[1:], process=False), {"method": "test"})
    repaired = model.repair()
    assert repaired.report().watertight and repaired.manifest["repairs"] == ["filled holes"]
    assert repaired.manifest["triangles"] == len(repaired.mesh.faces)
    assert model.manifest == {"method": "test"}  # the original is untouched


def test_thinnest_wall_finds_the_thin_part_of_a_model():
    plate = trimesh.creation.box(bounds=[[0, 0, 0], [50, 50, 1.2]])
    post = trimesh.creation.box(bounds=[[20, 20, 0.6], [30, 30, 20]])
    mesh = trimesh.boolean.union([plate, post], engine="manifold")
    assert thinnest_wall(mesh, rays=512) == pytest.approx(1.2, abs=0.01)
    assert thinnest_wall(trimesh.Trimesh()) is None


def test_builders_report_their_walls_and_inflated_rims_are_estimated():
    logo = orfeas_nb.samples.path("logo")
    litho = orfeas_nb.image_to_3d(logo, method="lithophane", quality=2)
    assert litho.report().min_wall_mm == 0.8 and litho.report().warnings == ()  # two 0.4 mm lines
    thinner = orfeas_nb.image_to_3d(logo, method="lithophane", quality=2, min_mm=0.6)
    assert "thinnest wall 0.60 mm" in " ".join(thinner.report().warnings)
    balloon = orfeas_nb.image_to_3d(logo, method="inflate", quality=2)
    assert balloon.manifest.get("min_wall_mm") is None
    # estimated by sampling rays: somewhere between the thin rim and the full height of the balloon
    assert 0 < balloon.report().min_wall_mm < balloon.mesh.extents[2] * 0.9
