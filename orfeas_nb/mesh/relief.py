"""``relief``: brightness (or alpha) becomes height above a flat base."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..timing import Stages
from . import images
from .heightfield import grid_solid
from .options import Option
from .quality import QualityLevel
from .result import MeshResult

OPTIONS = (
    Option("height_mm", 5.0, "relief depth above the base, in mm", low=0.1, high=500.0),
    Option("base_mm", 2.0, "thickness of the flat base, in mm", low=0.2, high=500.0),
    Option("invert", False, "dark becomes high instead of bright"),
    Option("gamma", 1.0, "tone curve applied before scaling (below 1 lifts shadows)", low=0.1, high=10.0),
    Option(
        "source",
        "auto",
        "what sets the height: luminance, alpha, or auto (luminance × alpha when the image has alpha)",
        choices=("auto", "luminance", "alpha"),
    ),
)


def height_map(image: Image.Image, options: dict) -> np.ndarray:
    """Relative height in [0, 1] per pixel from the image and the relief options."""
    lum = images.luminance(image)
    alpha = images.alpha(image)
    if options["invert"]:
        lum = 1.0 - lum
    if options["gamma"] != 1.0:
        lum = lum ** np.float32(options["gamma"])
    source = options["source"]
    if source == "alpha":
        return alpha if alpha is not None else np.ones_like(lum)
    if source == "auto" and alpha is not None:
        return lum * alpha
    return lum


def solid_from_heights(
    relative: np.ndarray, *, size_mm: float, level: QualityLevel, options: dict, stages: Stages
) -> MeshResult:
    """Relief solid from relative heights in [0, 1] (any float array, e.g. a depth map).

    The array is resampled to the quality's grid; the longest side becomes ``size_mm``.
    """
    with stages("resample"):
        rows, columns = relative.shape
        grid_columns, grid_rows = images.grid_shape(columns, rows, level.resolution)
        field = Image.fromarray(np.asarray(relative, dtype=np.float32), "F")
        grid = np.asarray(images.resample(field, grid_columns, grid_rows), dtype=np.float32)
        pitch = size_mm / (max(grid_columns, grid_rows) - 1)
    with stages("heights"):
        heights = options["base_mm"] + options["height_mm"] * np.clip(grid, 0.0, 1.0)
    with stages("triangulate"):
        mesh = grid_solid(heights, pitch)
    info = {"grid": [grid_columns, grid_rows], "pitch_mm": pitch, "achieved_max_error_mm": 0.0}
    return MeshResult(mesh, {**info, "min_wall_mm": options["base_mm"]})


def build(image: Image.Image, *, size_mm: float, level: QualityLevel, options: dict, stages: Stages) -> MeshResult:
    """Relief solid whose longest side is ``size_mm``: base plus ``height_mm`` × relative height."""
    with stages("heights"):
        relative = height_map(image, options)
    return solid_from_heights(relative, size_mm=size_mm, level=level, options=options, stages=stages)
