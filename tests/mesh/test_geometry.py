"""Geometry against analytic answers, the error bound of adaptive triangulation, and the options."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.tri import LinearTriInterpolator, Triangulation
from PIL import Image

import orfeas_nb
from orfeas_nb.errors import InvalidInput
from orfeas_nb.mesh.heightfield import adaptive_surface, height_solid

pytestmark = pytest.mark.unit


def disk(side: int = 256, radius: float = 100.0, mode: str = "L") -> Image.Image:
    yy, xx = np.mgrid[0:side, 0:side]
    inside = (xx - (side - 1) / 2) ** 2 + (yy - (side - 1) / 2) ** 2 < radius**2
    if mode == "RGBA":
        rgba = np.zeros((side, side, 4), np.uint8)
        rgba[inside] = (10, 20, 30, 255)
        return Image.fromarray(rgba, "RGBA")
    return Image.fromarray(inside.astype(np.uint8) * 255, "L")


@pytest.mark.parametrize("mode", ["L", "RGBA"])
def test_a_white_disk_extruded_is_a_cylinder(mode):
    model = orfeas_nb.image_to_3d(disk(mode=mode), method="extrude", quality=7, size_mm=60.0, height_mm=4.0)
    assert model.mesh.volume == pytest.approx(math.pi * 30.0**2 * 4.0, rel=0.02)
    assert model.mesh.body_count == 1
    assert model.report().warnings == ()


def test_a_disk_inflated_is_a_sphere():
    model = orfeas_nb.image_to_3d(disk(), method="inflate", quality=6, size_mm=50.0)
    assert model.mesh.volume == pytest.approx(4 / 3 * math.pi * 25.0**3, rel=0.03)
    assert model.mesh.extents == pytest.approx([50.0, 50.0, 50.0], rel=0.03)


def test_a_disk_inflated_with_a_flat_bottom_is_a_hemisphere():
    model = orfeas_nb.image_to_3d(disk(), method="inflate", quality=6, size_mm=50.0, flat_bottom=True)
    assert model.mesh.volume == pytest.approx(2 / 3 * math.pi * 25.0**3, rel=0.03)
    assert model.mesh.extents[2] == pytest.approx(25.0, rel=0.03)
    assert model.mesh.is_watertight and model.mesh.body_count == 1


def test_roundness_scales_the_balloon_height():
    full = orfeas_nb.image_to_3d(disk(), method="inflate", quality=3, size_mm=50.0)
    half = orfeas_nb.image_to_3d(disk(), method="inflate", quality=3, size_mm=50.0, roundness=0.5)
    assert half.mesh.volume == pytest.approx(full.mesh.volume / 2, rel=1e-6)


def test_a_ring_keeps_its_hole_when_extruded_and_inflated():
    yy, xx = np.mgrid[0:200, 0:200]
    r2 = (xx - 99.5) ** 2 + (yy - 99.5) ** 2
    ring = Image.fromarray(((r2 < 90**2) & (r2 > 45**2)).astype(np.uint8) * 255, "L")
    extruded = orfeas_nb.image_to_3d(ring, method="extrude", quality=6, size_mm=90.0, height_mm=2.0)
    assert extruded.manifest["holes"] == 1
    assert extruded.mesh.volume == pytest.approx(math.pi * (45.0**2 - 22.5**2) * 2.0, rel=0.02)
    assert extruded.mesh.euler_number == 0  # a torus-like solid: genus 1
    inflated = orfeas_nb.image_to_3d(ring, method="inflate", quality=4, size_mm=90.0)
    assert inflated.mesh.is_watertight and inflated.mesh.euler_number == 0


def test_a_flat_grey_relief_is_a_box():
    grey = Image.new("L", (101, 51), 128)
    model = orfeas_nb.image_to_3d(grey, method="relief", quality=5, size_mm=100.0, height_mm=5.0, base_mm=2.0)
    height = 2.0 + 5.0 * 128 / 255
    assert model.mesh.volume == pytest.approx(100.0 * 50.0 * height, rel=1e-6)
    assert model.mesh.extents == pytest.approx([100.0, 50.0, height])
    assert len(model.mesh.faces) < 50  # adaptive: a flat top needs two triangles


def test_a_flat_grey_lithophane_has_the_thickness_of_its_darkness():
    grey = Image.new("L", (101, 51), 64)
    model = orfeas_nb.image_to_3d(grey, method="lithophane", quality=5, size_mm=100.0)
    thickness = 0.8 + 2.4 * (1 - 64 / 255)
    assert model.mesh.volume == pytest.approx(100.0 * 50.0 * thickness, rel=1e-6)
    assert model.manifest["min_wall_mm"] == 0.8


def test_a_curved_grey_lithophane_is_a_cylinder_shell():
    grey = Image.new("L", (200, 100), 0)
    model = orfeas_nb.image_to_3d(grey, method="lithophane", quality=5, size_mm=100.0, shape="curved", angle_deg=180)
    radius, thickness, height = 100.0 / math.pi, 3.2, 100.0 * 99 / 199
    shell = math.pi / 2 * ((radius + thickness) ** 2 - radius**2) * height
    assert model.mesh.volume == pytest.approx(shell, rel=0.01)
    assert model.mesh.extents[0] == pytest.approx(2 * (radius + thickness), rel=0.01)


def test_frames_and_borders_sit_at_full_height_around_the_picture():
    white = Image.new("L", (100, 100), 255)
    framed = orfeas_nb.image_to_3d(white, method="lithophane", quality=5, size_mm=100.0, frame_mm=5.0)
    assert framed.mesh.extents[2] == pytest.approx(3.2)
    black = Image.new("L", (100, 100), 0)
    bordered = orfeas_nb.image_to_3d(black, method="relief", quality=5, size_mm=100.0, border_mm=10.0, base_mm=1.0)
    # the rim (about 10 mm wide, at full height) around a picture at base height
    inner = 100.0 - 2 * 10.0
    expected = 100.0**2 * 6.0 - inner**2 * 5.0
    assert bordered.mesh.volume == pytest.approx(expected, rel=0.05)


def test_relief_options_change_the_heights():
    ramp = Image.fromarray(np.tile(np.linspace(0, 255, 64).astype(np.uint8), (32, 1)), "L")
    plain = orfeas_nb.image_to_3d(ramp, quality=3, size_mm=64.0, height_mm=4.0, base_mm=1.0)
    inverted = orfeas_nb.image_to_3d(ramp, quality=3, size_mm=64.0, height_mm=4.0, base_mm=1.0, invert=True)
    darker = orfeas_nb.image_to_3d(ramp, quality=3, size_mm=64.0, height_mm=4.0, base_mm=1.0, gamma=3.0)
    blurred = orfeas_nb.image_to_3d(ramp, quality=3, size_mm=64.0, height_mm=4.0, base_mm=1.0, blur=3.0)
    assert inverted.mesh.volume == pytest.approx(plain.mesh.volume, rel=0.02)  # a linear ramp mirrored
    top = plain.mesh.vertices[plain.mesh.vertices[:, 0] > 63.9][:, 2].max()
    top_inverted = inverted.mesh.vertices[inverted.mesh.vertices[:, 0] > 63.9][:, 2].max()
    assert top == pytest.approx(5.0, abs=0.05) and top_inverted == pytest.approx(1.0, abs=0.1)
    assert darker.mesh.volume < plain.mesh.volume * 0.8  # gamma 3 pushes the middle tones down
    assert blurred.mesh.volume == pytest.approx(plain.mesh.volume, rel=0.05)
    assert blurred.mesh.bounds[1, 2] < plain.mesh.bounds[1, 2]  # the bright edge is smoothed down


@pytest.mark.parametrize("bound", [0.02, 0.1, 0.5])
def test_adaptive_triangulation_keeps_every_sample_within_the_error_bound(bound):
    rng = np.random.default_rng(7)
    heights = 2.0 + np.cumsum(np.cumsum(rng.normal(0, 0.05, (60, 90)), axis=0), axis=1) * 0.02
    heights -= heights.min() - 1.0
    vertices, faces, achieved = adaptive_surface(heights, 0.5, bound)
    assert achieved <= bound
    interpolate = LinearTriInterpolator(Triangulation(vertices[:, 0], vertices[:, 1], faces), vertices[:, 2])
    rows, columns = heights.shape
    xx, yy = np.meshgrid(np.arange(columns) * 0.5, (rows - 1 - np.arange(rows)) * 0.5)
    gap = np.abs(np.asarray(interpolate(xx, yy)) - heights)
    assert gap.max() <= achieved + 1e-5
    mesh, _, kind = height_solid(heights, 0.5, bound)
    grid, _, _ = height_solid(heights, 0.5, None)
    assert kind == "adaptive" and mesh.is_watertight and len(mesh.faces) < len(grid.faces)
    assert mesh.volume == pytest.approx(grid.volume, rel=bound / heights.mean())


def test_the_manifest_records_how_the_model_was_made():
    model = orfeas_nb.image_to_3d(orfeas_nb.samples.path("logo"), method="extrude", quality=3, size_mm=40.0)
    manifest = model.manifest
    assert manifest["method"] == "extrude"
    assert manifest["parameters"]["height_mm"] == 5.0 and manifest["parameters"]["mask"] == "auto"
    assert len(manifest["input"]["sha256"]) == 64
    assert manifest["triangles"] == len(model.mesh.faces)
    assert manifest["achieved_max_error_mm"] > 0
    assert {"load", "outline", "extrude", "mesh", "total"} <= set(manifest["timings_s"])


@pytest.mark.parametrize(
    ("method", "options", "message"),
    [
        ("lithophane", {"min_mm": 3.0, "max_mm": 2.0}, "min_mm"),
        ("relief", {"border_mm": 60.0}, "border_mm"),
        ("extrude", {"mask": "alpha"}, "alpha channel"),
        ("inflate", {"mask": "magic"}, "mask"),
        ("extrude", {"height": 3}, "no option height"),
    ],
)
def test_bad_options_say_what_to_do(method, options, message):
    with pytest.raises(InvalidInput, match=message):
        orfeas_nb.image_to_3d(Image.new("L", (20, 20), 90), method=method, quality=1, size_mm=50.0, **options)


@pytest.mark.parametrize("mask", ["otsu", "border", "auto"])
def test_a_blank_picture_has_no_foreground(mask):
    with pytest.raises(InvalidInput, match="foreground|no foreground|flat"):
        orfeas_nb.image_to_3d(Image.new("RGB", (20, 20), (9, 9, 9)), method="extrude", quality=1, mask=mask)


def test_specks_are_removed_from_silhouettes():
    picture = np.asarray(disk(side=128, radius=40.0), dtype=np.uint8).copy()
    picture[5, 5] = picture[120, 7] = 255  # two one-pixel specks
    picture[64, 64] = 0  # and a pin hole
    model = orfeas_nb.image_to_3d(Image.fromarray(picture), method="extrude", quality=5, size_mm=40.0)
    assert model.manifest["parts"] == 1 and model.manifest["holes"] == 0
    kept = orfeas_nb.image_to_3d(Image.fromarray(picture), method="extrude", quality=5, size_mm=40.0, speck_percent=0.0,
                                 printer="exact")  # one-pixel specks (0.31 mm) are finer than an FDM nozzle
    assert kept.manifest["parts"] == 3 and kept.manifest["holes"] == 1


def test_border_colour_mask_finds_a_subject_of_the_same_brightness():
    rgb = np.empty((80, 80, 3), np.uint8)
    rgb[:] = (200, 30, 30)
    rgb[20:60, 30:50] = (30, 90, 200)  # similar luminance, different colour
    model = orfeas_nb.image_to_3d(Image.fromarray(rgb), method="extrude", quality=4, size_mm=40.0, mask="border")
    assert model.mesh.extents[:2] == pytest.approx([20.0, 40.0], rel=0.03)


def test_grainy_pictures_fall_back_to_the_grid_where_adaptive_would_not_pay():
    grain = np.random.default_rng(3).integers(0, 256, (80, 80), dtype=np.uint8)
    noisy = orfeas_nb.image_to_3d(Image.fromarray(grain), quality=5, size_mm=50.0)
    assert noisy.manifest["triangulation"] == "grid" and noisy.manifest["achieved_max_error_mm"] == 0.0
    assert len(noisy.mesh.faces) == 2 * 79 * 79 + 4 * 79 * 2 + 4 * 79  # top, walls, floor fan
    smooth = orfeas_nb.image_to_3d(orfeas_nb.samples.path("shapes"), quality=5, size_mm=50.0)
    assert smooth.manifest["triangulation"] == "adaptive"


def test_nested_outlines_alternate_between_shells_and_holes():
    from orfeas_nb.mesh.outline import polygons

    yy, xx = np.mgrid[0:200, 0:200]
    r2 = (xx - 99.5) ** 2 + (yy - 99.5) ** 2
    target = ((r2 < 90**2) & (r2 > 60**2)) | ((r2 < 40**2) & (r2 > 20**2)) | (r2 < 8**2)
    shape = polygons(target)
    assert sorted(len(p.interiors) for p in shape.geoms) == [0, 1, 1]
    assert shape.area == pytest.approx(math.pi * (90**2 - 60**2 + 40**2 - 20**2 + 8**2), rel=0.01)


@pytest.mark.parametrize("shape", [(2, 3), (7, 9), (40, 2), (60, 80)])
def test_a_strip_floor_closes_the_plate_with_the_same_volume_and_fewer_triangles(shape):
    import trimesh

    from orfeas_nb.mesh.heightfield import grid_faces, grid_vertices, slab, strip_slab

    heights = np.random.default_rng(1).random(shape) + 0.5
    strip = trimesh.Trimesh(*strip_slab(heights, 0.5), process=False)
    full = trimesh.Trimesh(*slab(grid_vertices(heights, 0.5), grid_faces(*shape)), process=False)
    assert strip.is_watertight and strip.is_winding_consistent
    assert strip.volume == pytest.approx(full.volume, rel=1e-9)
    assert len(strip.faces) <= len(full.faces) and strip.area_faces.min() > 0
