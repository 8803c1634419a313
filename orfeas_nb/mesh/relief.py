"""``relief``: brightness (or alpha) becomes height above a flat base."""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from ..errors import InvalidInput
from ..timing import Stages
from . import images
from .heightfield import height_solid
from .options import Option
from .quality import QualityLevel
from .result import MeshResult

TRIANGULATION = Option(
    "triangulation",
    "adaptive",
    "adaptive: fewest triangles within the quality's error bound (pydelatin), or the grid where "
    "the picture is too grainy for that to pay; grid: every sample",
    choices=("adaptive", "grid"),
    label="Triangulation",
)

OPTIONS = (
    Option("height_mm", 5.0, "relief depth above the base, in mm", low=0.1, high=500.0, unit="mm", label="Relief height"),
    Option("base_mm", 2.0, "thickness of the flat base, in mm", low=0.2, high=500.0, unit="mm", label="Base"),
    Option("invert", False, "dark becomes high instead of bright", label="Invert"),
    Option("gamma", 1.0, "tone curve applied before scaling (below 1 lifts shadows)", low=0.1, high=10.0,
           label="Gamma"),
    Option("blur", 0.0, "Gaussian smoothing of the heights, sigma in mm (0 = none)", low=0.0, high=50.0, unit="mm",
           label="Smoothing"),
    Option("border_mm", 0.0, "flat frame at full height around the picture, width in mm (0 = none)", low=0.0, high=500.0,
           unit="mm", label="Border"),
    Option(
        "source",
        "auto",
        "what sets the height: luminance, alpha, or auto (luminance × alpha when the image has alpha)",
        choices=("auto", "luminance", "alpha"),
        label="Height from",
    ),
    TRIANGULATION,
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
        if alpha is None:
            raise InvalidInput(
                "source=alpha needs a picture with an alpha channel (a PNG with transparency); "
                "this one has none: use source=luminance or source=auto"
            )
        return alpha
    if source == "auto" and alpha is not None:
        return lum * alpha
    return lum


def framed_grid(relative: np.ndarray, size_mm: float, resolution: int, border_mm: float) -> tuple[np.ndarray, float, int]:
    """Resample ``relative`` so that, with a frame of ``border_mm`` (value 1), the longest side has
    ``resolution`` samples spanning ``size_mm``. Returns (grid, pitch in mm, frame width in samples)."""
    if border_mm * 2 >= size_mm * 0.9:
        raise InvalidInput(f"border_mm={border_mm:g} leaves no room for the picture in {size_mm:g} mm; use a smaller border")
    frame = round(border_mm / (size_mm / (resolution - 1))) if border_mm > 0 else 0
    frame = max(frame, 1) if border_mm > 0 else 0
    rows, columns = relative.shape
    grid_columns, grid_rows = images.grid_shape(columns, rows, max(resolution - 2 * frame, 2))
    field = Image.fromarray(np.asarray(relative, dtype=np.float32), "F")
    grid = np.asarray(images.resample(field, grid_columns, grid_rows), dtype=np.float32)
    if frame:
        grid = np.pad(grid, frame, constant_values=1.0)
    pitch = size_mm / (max(grid.shape) - 1)
    return grid, pitch, frame


def solid_from_heights(
    relative: np.ndarray, *, size_mm: float, level: QualityLevel, options: dict, stages: Stages
) -> MeshResult:
    """Relief solid from relative heights in [0, 1] (any float array, e.g. a depth map).

    The array is resampled to the quality's grid; the longest side becomes ``size_mm``. Options not
    given take the :data:`OPTIONS` defaults.
    """
    options = {opt.name: opt.default for opt in OPTIONS} | dict(options)
    with stages("resample"):
        grid, pitch, _ = framed_grid(relative, size_mm, level.resolution, options["border_mm"])
    with stages("heights"):
        relative_grid = np.clip(grid, 0.0, 1.0)
        if options["blur"] > 0:
            relative_grid = ndimage.gaussian_filter(relative_grid, options["blur"] / pitch, mode="nearest")
        heights = options["base_mm"] + options["height_mm"] * relative_grid
    with stages("triangulate"):
        bound = level.max_error_mm if options["triangulation"] == "adaptive" else None
        mesh, error, used = height_solid(heights, pitch, bound)
    info = {
        "grid": [int(grid.shape[1]), int(grid.shape[0])],
        "pitch_mm": pitch,
        "triangulation": used,
        "achieved_max_error_mm": round(error, 6),
        "min_wall_mm": options["base_mm"],
    }
    return MeshResult(mesh, info)


def build(image: Image.Image, *, size_mm: float, level: QualityLevel, options: dict, stages: Stages) -> MeshResult:
    """Relief solid whose longest side is ``size_mm``: base plus ``height_mm`` × relative height."""
    with stages("heights"):
        relative = height_map(image, options)
    return solid_from_heights(relative, size_mm=size_mm, level=level, options=options, stages=stages)
