"""``extrude``: the subject's silhouette (alpha, or a plain background) → a solid of ``height_mm``.

Outlines keep their holes (the counter of an "O" stays open), are simplified to ``tolerance_mm``
and extruded with a constrained triangulation of each face; an optional base plate under the
outline's bounding box (with a small margin) joins separate parts into one printable body (a manifold3d union).
"""

from __future__ import annotations

import trimesh
from PIL import Image
from shapely.geometry import MultiPolygon

from ..timing import Stages
from . import outline
from .options import Option
from .quality import QualityLevel
from .result import MeshResult

OPTIONS = (
    Option("height_mm", 5.0, "extrusion height of the silhouette, in mm", low=0.1, high=500.0, unit="mm",
           label="Height"),
    Option(
        "base_mm",
        0.0,
        "base plate under the outline (its bounding box plus a 3% margin), thickness in mm (0 = none)",
        low=0.0,
        high=100.0,
        unit="mm",
        label="Base plate",
    ),
    *outline.OPTIONS,
)

#: Plate margin around the outline, as a fraction of the outline's longest side.
PLATE_MARGIN = 0.03


def extrude_outline(shape: MultiPolygon, height_mm: float, base_mm: float) -> trimesh.Trimesh:
    """Extrude every polygon of ``shape`` to ``height_mm``; with ``base_mm`` the parts stand on a plate
    that is the outline's bounding box grown by :data:`PLATE_MARGIN` of its size (a manifold3d union)."""
    if base_mm <= 0:
        return trimesh.util.concatenate([trimesh.creation.extrude_polygon(p, height_mm, engine="triangle") for p in shape.geoms])
    minx, miny, maxx, maxy = shape.bounds
    margin = PLATE_MARGIN * max(maxx - minx, maxy - miny)
    plate = trimesh.creation.box(bounds=[[minx - margin, miny - margin, 0.0], [maxx + margin, maxy + margin, base_mm]])
    # parts start inside the plate, so no face of a part lies in a face of the plate
    lift = trimesh.transformations.translation_matrix([0.0, 0.0, base_mm / 2])
    parts = [
        trimesh.creation.extrude_polygon(p, height_mm + base_mm / 2, transform=lift, engine="triangle") for p in shape.geoms
    ]
    mesh = trimesh.boolean.union([plate, *parts], engine="manifold")
    mesh.apply_translation([margin - minx, margin - miny, 0.0])
    return mesh


def build(image: Image.Image, *, size_mm: float, level: QualityLevel, options: dict, stages: Stages) -> MeshResult:
    """Extruded silhouette whose outline's longest side is ``size_mm``."""
    tolerance = options["tolerance_mm"] or level.outline_tolerance_mm
    with stages("outline"):
        outline_mm = size_mm / (1 + 2 * PLATE_MARGIN) if options["base_mm"] > 0 else size_mm
        shape, mask, mm_per_pixel = outline.outline_mm(
            image, size_mm=outline_mm, resolution=level.resolution, options=options, tolerance_mm=tolerance
        )
    with stages("fidelity"):
        gap = outline.gap_to_picture(shape, image, size_mm=outline_mm, resolution=level.dense_resolution, options=options)
    with stages("extrude"):
        mesh = extrude_outline(shape, options["height_mm"], options["base_mm"])
    stroke = outline.thinnest_width_mm(mask, mm_per_pixel)
    info = {
        "grid": [int(mask.shape[1]), int(mask.shape[0])],
        "pitch_mm": mm_per_pixel,
        "parts": len(shape.geoms),
        "holes": int(sum(len(p.interiors) for p in shape.geoms)),
        "achieved_max_error_mm": round(float(tolerance), 6),
        **outline.printer_info(level, gap, tolerance),
        "min_wall_mm": round(min(stroke, options["height_mm"] + options["base_mm"]), 4),
        "outline_area_mm2": round(float(shape.area), 3),
    }
    return MeshResult(mesh, info)

