"""Hypothesis strategies and checks shared by the mesh tests."""

from __future__ import annotations

import numpy as np
import trimesh
from hypothesis import strategies as st
from PIL import Image


@st.composite
def pictures(draw, max_side: int = 40) -> Image.Image:
    """Any small picture: random pixels in L, RGB or RGBA, any aspect ratio."""
    width = draw(st.integers(2, max_side))
    height = draw(st.integers(2, max_side))
    mode = draw(st.sampled_from(["L", "RGB", "RGBA"]))
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    seed = draw(st.integers(0, 2**32 - 1))
    pixels = np.random.default_rng(seed).integers(0, 256, size=(height, width, channels), dtype=np.uint8)
    return Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode)


@st.composite
def silhouettes(draw, side: int = 64) -> Image.Image:
    """A plain background with one to three solid blobs (ellipses or rectangles), grey, colour or alpha."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    yy, xx = np.mgrid[0:side, 0:side]
    mask = np.zeros((side, side), bool)
    for _ in range(draw(st.integers(1, 3))):
        cx, cy = rng.uniform(0.25, 0.75, 2) * side
        rx, ry = rng.uniform(0.1, 0.25, 2) * side
        if rng.random() < 0.5:
            mask |= ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 < 1
        else:
            mask |= (abs(xx - cx) < rx) & (abs(yy - cy) < ry)
    kind = draw(st.sampled_from(["dark-on-light", "light-on-dark", "alpha", "colour"]))
    if kind == "alpha":
        rgba = np.zeros((side, side, 4), np.uint8)
        rgba[..., :3] = rng.integers(0, 256, 3)
        rgba[..., 3] = mask * 255
        return Image.fromarray(rgba, "RGBA")
    if kind == "colour":
        rgb = np.empty((side, side, 3), np.uint8)
        rgb[:] = (30, 160, 40)
        rgb[mask] = (200, 40, 160)
        return Image.fromarray(rgb, "RGB")
    fg, bg = (20, 230) if kind == "dark-on-light" else (230, 20)
    return Image.fromarray(np.where(mask, fg, bg).astype(np.uint8), "L")


def assert_printable(mesh: trimesh.Trimesh, size_mm: float) -> None:
    """Watertight, consistently wound, positive volume, longest side on the ground = size, no degenerate faces."""
    assert mesh.is_watertight
    assert mesh.is_winding_consistent
    assert mesh.volume > 0
    assert abs(max(mesh.extents[:2]) - size_mm) < 1e-6 * size_mm
    assert abs(mesh.bounds[0, 2]) < 1e-9 * size_mm
    assert mesh.area_faces.min() > 1e-12 * size_mm**2
