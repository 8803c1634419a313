"""``lithophane``: dark becomes thick, so a back-lit print shows the picture; flat or curved.

Thickness runs from ``min_mm`` (white) to ``max_mm`` (black); the defaults (0.8 and 3.2 mm) are two
and eight widths of a 0.4 mm nozzle. A curved lithophane bends the flat plate around a cylinder: its
flat back lies on a radius chosen so the arc of ``angle_deg`` keeps the picture's width, with the
picture (thickness) on the outside and the cylinder's axis vertical so it stands on its lower edge.
"""

from __future__ import annotations

import math

import numpy as np
import trimesh
from PIL import Image

from ..errors import InvalidInput
from ..timing import Stages
from . import images
from .heightfield import closed_surface, strip_slab
from .options import Option
from .quality import QualityLevel
from .relief import TRIANGULATION, gap_to_picture, printed_grid, printer_info
from .result import MeshResult

OPTIONS = (
    Option("min_mm", 0.8, "thickness where the picture is white, in mm", low=0.2, high=20.0, unit="mm",
           label="Thinnest"),
    Option("max_mm", 3.2, "thickness where the picture is black, in mm", low=0.3, high=50.0, unit="mm",
           label="Thickest"),
    Option("gamma", 1.0, "tone curve applied to the darkness before scaling", low=0.1, high=10.0, label="Gamma"),
    Option("frame_mm", 0.0, "frame of full thickness around the picture, width in mm (0 = none)", low=0.0, high=200.0,
           unit="mm", label="Frame"),
    Option("shape", "flat", "flat plate, or curved: bent round a vertical cylinder", choices=("flat", "curved"),
           label="Shape"),
    Option("angle_deg", 120.0, "arc of a curved lithophane, in degrees", low=10.0, high=300.0, unit="°",
           label="Arc"),
    TRIANGULATION,
)


def thickness_map(image: Image.Image, options: dict) -> np.ndarray:
    """Relative thickness in [0, 1] per pixel: 1 − luminance, after the gamma curve."""
    darkness = 1.0 - images.luminance(image)
    if options["gamma"] != 1.0:
        darkness = darkness ** np.float32(options["gamma"])
    return darkness


def bend(vertices: np.ndarray, angle_deg: float) -> np.ndarray:
    """Wrap a flat plate (x along the picture, y up the picture, z thickness) round a vertical cylinder.

    The back (z=0) keeps its length on a radius ``width / angle``; the result stands on z=0.
    """
    width = float(np.ptp(vertices[:, 0]))
    angle = math.radians(angle_deg)
    radius = width / angle
    theta = (vertices[:, 0] - vertices[:, 0].min()) / radius - angle / 2
    r = radius + vertices[:, 2]
    bent = np.column_stack([r * np.sin(theta), r * np.cos(theta), vertices[:, 1] - vertices[:, 1].min()])
    return bent - np.array([bent[:, 0].min(), bent[:, 1].min(), 0.0])


_MAX_CHORD_DEG = 5.0


def enough_columns(thickness: np.ndarray, pitch: float, angle_deg: float) -> tuple[np.ndarray, float]:
    """Upsample a tiny grid so each column step spans at most 5° of the arc.

    A chord over half the circle or more would turn the bent shell inside out; pictures with a few
    hundred columns are returned unchanged.
    """
    rows, columns = thickness.shape
    factor = math.ceil(angle_deg / _MAX_CHORD_DEG / (columns - 1))
    if factor <= 1:
        return thickness, pitch
    size = ((columns - 1) * factor + 1, (rows - 1) * factor + 1)
    field = Image.fromarray(np.asarray(thickness, dtype=np.float32), "F").resize(size, Image.Resampling.BILINEAR)
    return np.asarray(field, dtype=np.float64), pitch / factor


def build(image: Image.Image, *, size_mm: float, level: QualityLevel, options: dict, stages: Stages) -> MeshResult:
    """Lithophane whose picture's longest side is ``size_mm`` (flat, or unrolled when curved)."""
    low, high = options["min_mm"], options["max_mm"]
    if low >= high:
        raise InvalidInput(f"min_mm ({low:g}) must be below max_mm ({high:g}); the defaults are 0.8 and 3.2 mm")
    with stages("heights"):
        relative = thickness_map(image, options)
    with stages("resample"):
        grid, pitch, _, dense = printed_grid(relative, size_mm, level, options["frame_mm"])
        relative_grid = np.clip(grid, 0.0, 1.0)
        thickness = low + (high - low) * relative_grid.astype(np.float64)
    curved = options["shape"] == "curved"
    with stages("triangulate"):
        adaptive = options["triangulation"] == "adaptive"
        if curved:  # a bent surface keeps one column per sample: each flat triangle becomes a chord of the arc
            (vertices, faces), error, used = strip_slab(*enough_columns(thickness, pitch, options["angle_deg"])), 0.0, "grid"
        else:
            bound = level.max_error_mm if adaptive else None
            vertices, faces, error, used = closed_surface(thickness, pitch, bound, dense.size)
    if curved:
        with stages("bend"):
            # the wrap keeps orientation, but standing it up (y → z) swaps two axes: flip the winding
            vertices, faces = bend(vertices, options["angle_deg"]), faces[:, ::-1]
    with stages("fidelity"):
        gap = gap_to_picture(relative_grid, dense) * (high - low)
    mesh = trimesh.Trimesh(vertices, faces, process=False, validate=False)
    info = {
        "grid": [int(grid.shape[1]), int(grid.shape[0])],
        "pitch_mm": pitch,
        "triangulation": used,
        "achieved_max_error_mm": round(error, 6),
        **printer_info(level, error, gap),
        "min_wall_mm": low,
    }
    return MeshResult(mesh, info)
