"""Images to the float arrays the mesh methods work on: luminance and alpha at grid resolution."""

from __future__ import annotations

import numpy as np
from PIL import Image


def grid_shape(width: int, height: int, resolution: int) -> tuple[int, int]:
    """Samples (columns, rows) for an image so its longest side gets ``resolution`` samples.

    >>> grid_shape(400, 200, 101)
    (101, 51)
    """
    long_side = max(width, height)
    scale = (resolution - 1) / max(long_side - 1, 1)
    columns = resolution if width >= height else max(2, round((width - 1) * scale) + 1)
    rows = resolution if height >= width else max(2, round((height - 1) * scale) + 1)
    return columns, rows


def resample(image: Image.Image, columns: int, rows: int) -> Image.Image:
    """Resize with an area filter when shrinking and bicubic when enlarging."""
    if image.size == (columns, rows):
        return image
    shrinking = columns * rows < image.size[0] * image.size[1]
    return image.resize((columns, rows), Image.Resampling.BOX if shrinking else Image.Resampling.BICUBIC)


def luminance(image: Image.Image) -> np.ndarray:
    """Rec. 601 luminance in [0, 1] as float32, shape (rows, columns)."""
    return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def alpha(image: Image.Image) -> np.ndarray | None:
    """The alpha channel in [0, 1] as float32, or None if the image has none."""
    if image.mode != "RGBA":
        return None
    return np.asarray(image.getchannel("A"), dtype=np.float32) / 255.0
