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
from .printer import low_pass
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


def check_border(border_mm: float, size_mm: float) -> None:
    """Raise :class:`InvalidInput` when a frame of ``border_mm`` leaves no room for the picture."""
    if border_mm * 2 >= size_mm * 0.9:
        raise InvalidInput(f"border_mm={border_mm:g} leaves no room for the picture in {size_mm:g} mm; use a smaller border")


def framed_grid(relative: np.ndarray, size_mm: float, resolution: int, border_mm: float) -> tuple[np.ndarray, float, int]:
    """Resample ``relative`` so that, with a frame of ``border_mm`` (value 1), the longest side has
    ``resolution`` samples spanning ``size_mm``. Returns (grid, pitch in mm, frame width in samples)."""
    check_border(border_mm, size_mm)
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


def printed_grid(
    relative: np.ndarray, size_mm: float, level: QualityLevel, border_mm: float
) -> tuple[np.ndarray, float, int, np.ndarray]:
    """:func:`framed_grid` for the level's printer: ``relative`` low-passed at the printer's feature
    and resampled to the level's resolution (no finer than one sample per feature).

    Returns (grid, pitch in mm, frame width in samples, the dense grid): the dense grid is what
    ``exact`` would sample at this quality (the same array as the grid for ``exact``).
    """
    check_border(border_mm, size_mm)
    pixel_mm = (size_mm - 2 * border_mm) / max(max(relative.shape) - 1, 1)
    filtered = low_pass(relative, level.printer.feature_mm, pixel_mm)
    grid, pitch, frame = framed_grid(filtered, size_mm, level.resolution, border_mm)
    if level.printer.exact:
        return grid, pitch, frame, grid
    dense, _, _ = framed_grid(relative, size_mm, level.dense_resolution, border_mm)
    return grid, pitch, frame, dense


def gap_to_picture(kept: np.ndarray, dense: np.ndarray) -> float:
    """Largest gap between the kept grid, interpolated to the dense grid's samples, and the dense grid
    (both relative heights)."""
    field = Image.fromarray(np.asarray(kept, dtype=np.float32), "F")
    if kept.shape != dense.shape:
        field = field.resize(dense.shape[::-1], Image.Resampling.BILINEAR)
    return float(np.abs(np.asarray(field, dtype=np.float32) - np.clip(dense, 0.0, 1.0)).max())


def printer_info(level: QualityLevel, error_mm: float, gap_mm: float) -> dict:
    """The manifest's printer facts: the printer, the kept feature size, the achieved error against
    the filtered surface and (an upper bound) against the picture's own samples."""
    return {
        "printer": level.printer.to_dict(),
        "feature_mm": level.printer.feature_mm,
        "max_error_mm_target": level.max_error_mm,
        "error_vs_picture_mm": round(gap_mm + error_mm, 6),
    }


def solid_from_heights(
    relative: np.ndarray, *, size_mm: float, level: QualityLevel, options: dict, stages: Stages
) -> MeshResult:
    """Relief solid from relative heights in [0, 1] (any float array, e.g. a depth map).

    The array is low-passed for the level's printer and resampled to its grid; the longest side
    becomes ``size_mm``. Options not given take the :data:`OPTIONS` defaults.
    """
    options = {opt.name: opt.default for opt in OPTIONS} | dict(options)
    with stages("resample"):
        grid, pitch, _, dense = printed_grid(relative, size_mm, level, options["border_mm"])
    with stages("heights"):
        relative_grid = np.clip(grid, 0.0, 1.0)
        if options["blur"] > 0:
            relative_grid = ndimage.gaussian_filter(relative_grid, options["blur"] / pitch, mode="nearest")
        heights = options["base_mm"] + options["height_mm"] * relative_grid.astype(np.float64)
    with stages("triangulate"):
        bound = level.max_error_mm if options["triangulation"] == "adaptive" else None
        mesh, error, used = height_solid(heights, pitch, bound, dense.size)
    with stages("fidelity"):
        gap = gap_to_picture(relative_grid, dense) * options["height_mm"]
    info = {
        "grid": [int(grid.shape[1]), int(grid.shape[0])],
        "pitch_mm": pitch,
        "triangulation": used,
        "achieved_max_error_mm": round(error, 6),
        **printer_info(level, error, gap),
        "min_wall_mm": options["base_mm"],
    }
    return MeshResult(mesh, info)


def build(image: Image.Image, *, size_mm: float, level: QualityLevel, options: dict, stages: Stages) -> MeshResult:
    """Relief solid whose longest side is ``size_mm``: base plus ``height_mm`` × relative height."""
    with stages("heights"):
        relative = height_map(image, options)
    return solid_from_heights(relative, size_mm=size_mm, level=level, options=options, stages=stages)
