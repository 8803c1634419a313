"""Print-aware meshes: a printer keeps what it can reproduce, against analytic answers and random pictures."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import orfeas_nb
from orfeas_nb.errors import InvalidInput
from orfeas_nb.mesh.heightfield import adaptive_pays, predicted_seconds
from orfeas_nb.mesh.printer import PRINTERS, printer_from
from orfeas_nb.mesh.quality import level

from .strategies import assert_printable, pictures, silhouettes

pytestmark = pytest.mark.unit
PRINTER_CASES = [{"printer": "exact"}, {"printer": "fdm"}, {"printer": "resin"},
                 {"printer": "fdm", "nozzle_mm": 0.8, "layer_mm": 0.2}]


def disk_picture(side: int = 400, radius_share: float = 0.3) -> Image.Image:
    yy, xx = np.mgrid[0:side, 0:side]
    centre = (side - 1) / 2
    inside = (xx - centre) ** 2 + (yy - centre) ** 2 < (radius_share * (side - 1)) ** 2
    return Image.fromarray(inside.astype(np.uint8) * 255, "L")


def grating(period_mm: float, size_mm: float = 40.0, side: int = 1000) -> Image.Image:
    """Vertical stripes: a sine of ``period_mm`` across a picture whose long side is ``size_mm``."""
    x_mm = np.arange(side) * size_mm / (side - 1)
    row = 127.5 + 127.5 * np.sin(2 * np.pi * x_mm / period_mm)
    return Image.fromarray(np.tile(np.round(row).astype(np.uint8), (side // 2, 1)), "L")


def top_relief_range(model, margin_mm: float = 3.0, base_mm: float = 2.0) -> float:
    """Height range of the top surface's vertices away from the edges (the walls and floor excluded)."""
    v = model.mesh.vertices
    x0, y0, _ = model.mesh.bounds[0]
    x1, y1, _ = model.mesh.bounds[1]
    inner = (v[:, 0] > x0 + margin_mm) & (v[:, 0] < x1 - margin_mm) & (v[:, 1] > y0 + margin_mm) & (v[:, 1] < y1 - margin_mm)
    top = v[inner & (v[:, 2] > base_mm / 2)][:, 2]
    return float(np.ptp(top))


@pytest.mark.parametrize("printer", PRINTER_CASES)
@pytest.mark.parametrize("method", ["relief", "lithophane"])
def test_a_flat_picture_is_an_exact_box_under_every_printer(printer, method):
    grey = Image.new("L", (401, 201), 100)
    model = orfeas_nb.image_to_3d(grey, method=method, quality=8, size_mm=80.0, **printer)
    height = 2.0 + 5.0 * 100 / 255 if method == "relief" else 0.8 + 2.4 * (1 - 100 / 255)
    assert model.mesh.extents == pytest.approx([80.0, 40.0, height], rel=1e-6)
    assert model.mesh.volume == pytest.approx(80.0 * 40.0 * height, rel=1e-6)
    assert model.manifest["error_vs_picture_mm"] == pytest.approx(0.0, abs=1e-5)
    assert len(model.mesh.faces) < 50  # a flat top needs two triangles


@pytest.mark.parametrize("printer", ["fdm", "resin"])
@pytest.mark.parametrize("method", ["relief", "lithophane", "extrude", "inflate"])
def test_a_disk_keeps_its_radius_within_one_nozzle(printer, method):
    """Within one nozzle, or two of the picture's pixels where those are coarser (a resin printer's
    0.05 mm is finer than this 1024-pixel picture's 0.05–0.08 mm)."""
    side = 1024
    model = orfeas_nb.image_to_3d(disk_picture(side), method=method, quality=10, size_mm=50.0, printer=printer)
    mesh = model.mesh
    if method in ("relief", "lithophane"):  # the disk's edge: where the surface is half way up
        low, high = (2.0, 7.0) if method == "relief" else (0.8, 3.2)
        radius, pixel = 0.3 * 50.0, 50.0 / (side - 1)
        points = mesh.section(plane_origin=[0, 0, (low + high) / 2], plane_normal=[0, 0, 1]).vertices[:, :2]
        points = points[np.linalg.norm(points - 25.0, axis=1) < 24.0]  # the disk, not the plate's own walls
    else:  # the silhouette's outline (scaled to the size), half way up
        radius, pixel = 25.0, 50.0 / (0.6 * (side - 1))
        points = mesh.section(plane_origin=[0, 0, mesh.bounds[1, 2] / 2 - 1e-3], plane_normal=[0, 0, 1]).vertices[:, :2]
    distance = np.linalg.norm(points - (points.max(axis=0) + points.min(axis=0)) / 2, axis=1)
    assert len(points) > 20
    assert np.abs(distance - radius).max() <= max(PRINTERS[printer].nozzle_mm, 2 * pixel), (distance.min(), distance.max())


@pytest.mark.parametrize("method", ["relief", "lithophane"])
def test_a_grating_finer_than_the_nozzle_is_flattened_and_a_coarser_one_kept(method):
    fine, coarse = grating(0.3), grating(2.0)  # a 0.4 mm nozzle: ridges of 0.15 mm, and of 1 mm
    amplitude = 5.0 if method == "relief" else 2.4
    base = 2.0 if method == "relief" else 0.8
    runs = {(name, printer): orfeas_nb.image_to_3d(picture, method=method, quality=10, size_mm=40.0, printer=printer)
            for name, picture in (("fine", fine), ("coarse", coarse)) for printer in ("fdm", "exact")}
    ranges = {key: top_relief_range(model, base_mm=base) for key, model in runs.items()}
    assert ranges["fine", "fdm"] < 0.1 * amplitude  # flattened: less than a layer on a 5 mm relief
    assert ranges["fine", "exact"] > 0.8 * amplitude  # exact keeps what the picture has
    assert ranges["coarse", "fdm"] > 0.6 * amplitude  # a stripe 2.5 nozzles wide is printable and kept
    assert ranges["coarse", "exact"] > 0.9 * amplitude
    assert runs["fine", "fdm"].manifest["error_vs_picture_mm"] > 0.4 * amplitude  # the manifest says what went


PRINTERS_DRAWN = st.sampled_from(PRINTER_CASES)
FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(picture=pictures(max_side=60), printer=PRINTERS_DRAWN, size=st.floats(5.0, 300.0), quality=st.integers(1, 10),
       method=st.sampled_from(["relief", "lithophane"]))
def test_height_fields_are_printable_within_their_bound_for_every_printer(picture, printer, size, quality, method):
    model = orfeas_nb.image_to_3d(picture, method=method, quality=quality, size_mm=size, **printer)
    assert_printable(model.mesh, size)
    manifest = model.manifest
    assert manifest["achieved_max_error_mm"] <= manifest["max_error_mm_target"] + 1e-6
    assert manifest["error_vs_picture_mm"] >= manifest["achieved_max_error_mm"] - 1e-6
    assert manifest["printer"]["name"] == printer["printer"]
    if printer["printer"] != "exact":
        nozzle = printer.get("nozzle_mm", PRINTERS[printer["printer"]].nozzle_mm)
        assert manifest["pitch_mm"] >= nozzle - 1e-9 or manifest["grid"] == [picture.width, picture.height]
        layer = printer.get("layer_mm", PRINTERS[printer["printer"]].layer_mm)
        assert manifest["max_error_mm_target"] == pytest.approx(level(quality, size, printer=PRINTERS["fdm"]).max_error_mm
                                                                / 0.05 * layer / 2)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(picture=silhouettes(), printer=PRINTERS_DRAWN, size=st.floats(5.0, 300.0), quality=st.integers(1, 8),
       method=st.sampled_from(["extrude", "inflate"]))
def test_silhouettes_are_printable_for_every_printer(picture, printer, size, quality, method):
    model = orfeas_nb.image_to_3d(picture, method=method, quality=quality, size_mm=size, **printer)
    assert_printable(model.mesh, size)
    assert model.manifest["error_vs_picture_mm"] >= 0.0
    bound = level(quality, size, printer=printer_from(printer)).outline_tolerance_mm
    assert model.manifest["achieved_max_error_mm"] == pytest.approx(bound, abs=1e-6)
    if printer["printer"] != "exact" and quality >= 7:  # half a nozzle: all the printer can draw
        assert bound == pytest.approx(printer.get("nozzle_mm", PRINTERS[printer["printer"]].nozzle_mm) / 2)


def test_the_manifest_and_the_report_say_what_the_printer_kept():
    model = orfeas_nb.image_to_3d(orfeas_nb.samples.path("scene"), quality=10)
    manifest = model.manifest
    assert manifest["parameters"]["printer"] == "fdm"
    assert manifest["printer"] == {"name": "fdm", "nozzle_mm": 0.4, "layer_mm": 0.1}
    assert manifest["feature_mm"] == 0.4 and manifest["max_error_mm_target"] == 0.05
    assert 0 < manifest["achieved_max_error_mm"] <= 0.05 < manifest["error_vs_picture_mm"]
    line = [row for row in str(model.report()).splitlines() if row.startswith("printer:")]
    assert line == [model.report().printer]
    assert line[0].startswith("printer: fdm (0.4 mm nozzle, 0.1 mm layers): features ≥ 0.4 mm kept; off by ≤ 0.05 mm")
    exact = orfeas_nb.image_to_3d(orfeas_nb.samples.path("scene"), quality=10, printer="exact")
    assert exact.manifest["feature_mm"] is None and exact.manifest["error_vs_picture_mm"] == 0.0
    assert exact.report().printer == "printer: exact (every sample kept); off by ≤ 0 mm from the picture"
    assert len(model.mesh.faces) < 0.25 * len(exact.mesh.faces)


def test_explicit_nozzle_and_layer_override_the_printer():
    model = orfeas_nb.image_to_3d(orfeas_nb.samples.path("scene"), quality=10, size_mm=100.0, nozzle_mm=1.0, layer_mm=0.3)
    assert model.manifest["printer"] == {"name": "fdm", "nozzle_mm": 1.0, "layer_mm": 0.3}
    assert model.manifest["grid"][0] == 101 and model.manifest["max_error_mm_target"] == pytest.approx(0.15)


@pytest.mark.parametrize(("options", "message"), [
    ({"printer": "exact", "nozzle_mm": 0.4}, "printer=exact keeps every sample"),
    ({"printer": "sla"}, "fdm, resin, exact"),
    ({"nozzle_mm": -1.0}, "nozzle_mm"),
])
def test_bad_printer_settings_say_what_to_do(options, message):
    with pytest.raises(InvalidInput, match=message):
        orfeas_nb.image_to_3d(Image.new("L", (20, 20), 90), quality=1, **options)


def test_quality_means_how_much_of_what_the_printer_can_do():
    fdm, resin, exact = PRINTERS["fdm"], PRINTERS["resin"], PRINTERS["exact"]
    assert [level(q, 100.0, printer=fdm).resolution for q in (1, 4, 6, 7, 10)] == [64, 192, 251, 251, 251]
    assert [level(q, 100.0, printer=resin).resolution for q in (1, 7, 10)] == [64, 400, 1024]
    # half a layer from the default quality up, at any size; lower qualities ask for less
    for size in (10.0, 100.0, 300.0):
        assert {level(q, size, printer=fdm).max_error_mm for q in range(7, 11)} == {0.05}
        assert {level(q, size, printer=resin).max_error_mm for q in range(7, 11)} == {0.0125}
    assert [level(q, 100.0, printer=fdm).max_error_mm for q in (1, 4, 6)] == pytest.approx([0.4, 0.15, 0.075])
    assert level(1, 100.0, printer=resin).max_error_mm == pytest.approx(0.1)
    assert level(10, 100.0, printer=exact).max_error_mm == pytest.approx(0.01)


def test_the_triangulation_is_chosen_by_predicted_cost_and_size():
    noise = np.random.default_rng(1).random((300, 300)) * 5
    smooth = np.add.outer(np.linspace(0, 5, 300), np.linspace(0, 5, 300))
    adaptive, grid = predicted_seconds(noise, 0.05)
    assert adaptive > grid and not adaptive_pays(noise, 0.05)  # grain: the grid is cheaper
    model = orfeas_nb.image_to_3d(Image.fromarray((noise * 51).astype(np.uint8)), quality=10, size_mm=30.0, printer="exact")
    assert model.manifest["triangulation"] == "grid"
    adaptive, grid = predicted_seconds(smooth, 0.05)
    assert adaptive < grid and adaptive_pays(smooth, 0.05)
    # the same grain made for an FDM printer: a sixteenth of the samples, adaptive beats the dense grid
    assert adaptive_pays(noise[::4, ::4], 0.05, dense_samples=noise.size)


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(3, 40), columns=st.integers(3, 40), seed=st.integers(0, 2**32 - 1),
       bound=st.sampled_from([0.01, 0.1, 1.0]))
def test_the_outline_from_the_rectangle_is_the_outline_of_the_faces(rows, columns, seed, bound):
    from orfeas_nb.mesh.heightfield import adaptive_surface, boundary_edges, grid_faces, grid_vertices, rectangle_outline

    heights = 1 + np.random.default_rng(seed).random((rows, columns)) * np.random.default_rng(seed).choice([0.0, 0.1, 3.0])
    for vertices, faces in (adaptive_surface(heights, 0.7, bound)[:2], (grid_vertices(heights, 0.7), grid_faces(rows, columns))):
        found = sorted(map(tuple, boundary_edges(faces).tolist()))
        assert sorted(map(tuple, rectangle_outline(vertices, 0.7, rows, columns).tolist())) == found


def test_a_printer_is_much_smaller_than_exact_on_a_real_photo():
    import skimage

    camera = skimage.data.camera()
    fdm = orfeas_nb.image_to_3d(camera, quality=10, size_mm=100.0)
    exact = orfeas_nb.image_to_3d(camera, quality=10, size_mm=100.0, printer="exact", triangulation="grid")
    assert len(fdm.mesh.faces) <= 0.25 * len(exact.mesh.faces)
    assert fdm.mesh.volume == pytest.approx(exact.mesh.volume, rel=0.01)
    assert math.isclose(max(fdm.mesh.extents[:2]), 100.0)


def test_the_catalogue_declares_the_printers_once_and_every_weight_free_method_takes_them():
    cat = orfeas_nb.catalogue()
    assert list(cat.printers) == ["fdm", "resin", "exact"]
    assert cat.printer("resin").layer_mm == 0.025
    with pytest.raises(InvalidInput, match="unknown printer 'sla'; choose one of: fdm, resin, exact"):
        cat.printer("sla")
    for spec in cat.methods.values():
        names = [opt.name for opt in spec.options]
        if spec.reads_prompt:  # Shap-E makes its own mesh
            assert "printer" not in names
        else:
            assert names[-3:] == ["printer", "nozzle_mm", "layer_mm"], spec.name
            assert spec.option("printer").choices == tuple(cat.printers)
    assert cat.to_dict()["printers"]["fdm"] == {"name": "fdm", "nozzle_mm": 0.4, "layer_mm": 0.1,
                                                 "summary": PRINTERS["fdm"].summary}


def test_the_cli_takes_a_printer(cli, tmp_path):
    import json

    done = cli("image-to-3d", orfeas_nb.samples.path("scene"), "-o", tmp_path / "scene.stl", "--quality", "10",
               "--printer", "exact")
    assert done.exit_code == 0, done.stderr
    manifest = json.loads((tmp_path / "scene.manifest.json").read_text())
    assert manifest["printer"]["name"] == "exact" and manifest["triangles"] > 150_000
    default = cli("image-to-3d", orfeas_nb.samples.path("scene"), "-o", tmp_path / "fdm.stl", "--quality", "10")
    assert json.loads((tmp_path / "fdm.manifest.json").read_text())["printer"]["name"] == "fdm", default.stderr
    bad = cli("image-to-3d", orfeas_nb.samples.path("scene"), "-o", tmp_path / "bad.stl", "--printer", "sla")
    assert bad.exit_code == 2 and bad.stderr == "error: unknown printer 'sla'; choose one of: fdm, resin, exact\n"
    assert not (tmp_path / "bad.stl").exists()
    assert "--printer [fdm|resin|exact]" in cli("text-to-3d", "--help").stdout


def test_the_studio_has_a_printer_control():
    from orfeas_nb.widgets import Studio

    studio = Studio(method="relief")
    try:
        control = studio.parameters.option_widgets["printer"]
        assert control.description == "Printer" and list(control.options) == ["fdm", "resin", "exact"]
        control.set_state({"index": 2})
        assert studio.parameters.values()["options"]["printer"] == "exact"
    finally:
        studio.close()


def test_thin_walls_are_judged_by_the_printers_own_width():
    grey = Image.new("L", (60, 40), 200)
    warnings = {printer: orfeas_nb.image_to_3d(grey, method="lithophane", quality=3, size_mm=30.0, min_mm=0.3,
                                               printer=printer).report().warnings for printer in ("fdm", "resin")}
    assert warnings["fdm"] == ("thinnest wall 0.30 mm is under two 0.4 mm nozzle widths",)
    assert warnings["resin"] == ()
