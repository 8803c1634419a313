"""The software render used for static displays and notebook previews: pixels, depth order, shading."""

from __future__ import annotations

import io

import numpy as np
import pytest
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from orfeas_nb.errors import InvalidInput
from orfeas_nb.mesh.render import BACKGROUND, render_array, render_png, view_basis

pytestmark = pytest.mark.unit


def decode(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.mode == "RGB"
    return np.asarray(image)


def foreground(pixels: np.ndarray) -> np.ndarray:
    return np.any(pixels != np.array(BACKGROUND, dtype=np.uint8), axis=2)


def coloured_box(extents, colour, offset=(0, 0, 0)) -> trimesh.Trimesh:
    box = trimesh.creation.box(extents)
    box.apply_translation(offset)
    box.visual.face_colors = colour
    return box


def test_a_box_renders_as_three_shaded_faces_framed_by_background():
    pixels = decode(render_png(trimesh.creation.box((10, 20, 5)), width=320, height=240))
    assert pixels.shape == (240, 320, 3)
    mask = foreground(pixels)
    assert not mask[0].any() and not mask[-1].any() and not mask[:, 0].any() and not mask[:, -1].any()
    rows, cols = np.nonzero(mask)
    # fitted to the frame: the margin is about 6 % of the short side on the tighter axis
    assert min(rows.min(), 240 - 1 - rows.max()) <= 0.08 * 240 or min(cols.min(), 320 - 1 - cols.max()) <= 0.08 * 240
    colours, counts = np.unique(pixels[mask].reshape(-1, 3), axis=0, return_counts=True)
    main = colours[counts > 0.05 * mask.sum()]
    assert len(main) == 3  # top, front and side faces, each flat-shaded differently
    assert len({int(c.sum()) for c in main}) == 3


@pytest.mark.parametrize("order", ["near first", "far first"])
def test_the_z_buffer_keeps_the_nearest_surface_whatever_the_drawing_order(order):
    towards = view_basis()[2]
    near = coloured_box((10, 10, 10), (220, 30, 30, 255), offset=towards * 60)
    far = coloured_box((10, 10, 10), (30, 200, 30, 255))
    meshes = [near, far] if order == "near first" else [far, near]
    pixels = render_array(trimesh.util.concatenate(meshes), 200, 160)
    mask = foreground(pixels)
    red, green = pixels[..., 0].astype(int), pixels[..., 1].astype(int)
    assert mask.sum() > 1000
    assert np.all(red[mask] > green[mask])  # the far green box is hidden exactly behind the red one


def test_lambert_shading_lights_the_side_facing_the_light():
    pixels = render_array(trimesh.creation.icosphere(subdivisions=4), 200, 200).astype(int).sum(axis=2)
    mask = foreground(render_array(trimesh.creation.icosphere(subdivisions=4), 200, 200))
    rows, cols = np.nonzero(mask)
    cy, cx = rows.mean(), cols.mean()
    upper_left = pixels[int(cy - 40), int(cx - 20)]
    lower_right = pixels[int(cy + 50), int(cx + 40)]
    assert upper_left > lower_right + 100


def test_vertex_colours_are_used():
    sphere = trimesh.creation.icosphere(subdivisions=2)
    sphere.visual.vertex_colors = np.tile([250, 250, 0, 255], (len(sphere.vertices), 1))
    pixels = render_array(sphere, 64, 64)
    mask = foreground(pixels)
    assert np.all(pixels[mask][:, 2] < 10)  # no blue at all: the yellow of the vertices, shaded


@pytest.mark.parametrize(
    ("mesh", "kwargs", "message"),
    [
        (trimesh.Trimesh(np.zeros((0, 3)), np.zeros((0, 3), int)), {}, "no triangles"),
        (trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [np.nan, 1, 0]], [[0, 1, 2]], process=False), {}, "NaN"),
        (trimesh.creation.box(), {"width": 4}, "width"),
        (trimesh.creation.box(), {"height": 10_000}, "height"),
    ],
)
def test_bad_renders_are_refused_clearly(mesh, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        render_png(mesh, **kwargs)


@settings(max_examples=25, deadline=None)
@given(st.tuples(*[st.floats(10.0, 200.0)] * 3), st.integers(48, 240), st.integers(48, 240))
def test_any_box_fills_the_frame_inside_the_margin(extents, width, height):
    # (boxes much thinner than a pixel would cover no pixel centre: that is sampling, not a bug)
    pixels = render_array(trimesh.creation.box(extents), width, height)
    mask = foreground(pixels)
    assert mask.any()
    rows, cols = np.nonzero(mask)
    margin = 0.06 * min(width, height)
    assert rows.min() >= margin - 1.5 and cols.min() >= margin - 1.5
    assert rows.max() <= height - margin + 0.5 and cols.max() <= width - margin + 0.5
    # the tighter axis spans the frame minus its margins
    spans = ((rows.max() - rows.min() + 1) / (height - 2 * margin), (cols.max() - cols.min() + 1) / (width - 2 * margin))
    assert max(spans) > 0.85


def test_a_relief_with_long_thin_triangles_renders_every_base_pixel():
    import orfeas_nb

    model = orfeas_nb.image_to_3d(orfeas_nb.samples.path("shapes"), quality=4, size_mm=60)
    pixels = render_array(model.mesh, 160, 120)
    mask = foreground(pixels)
    rows, cols = np.nonzero(mask)
    # a closed solid seen from above has no background holes inside its silhouette, row by row
    for r in np.unique(rows):
        line = mask[r, cols.min() : cols.max() + 1]
        filled = np.flatnonzero(line)
        assert filled.size == filled.max() - filled.min() + 1
