"""Every weight-free method, over random pictures, sizes and options, gives a printable solid."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

import orfeas_nb
from orfeas_nb.errors import InvalidInput

from .strategies import assert_printable, pictures, silhouettes

pytestmark = pytest.mark.unit
FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
sizes = st.floats(5.0, 300.0)
qualities = st.integers(1, 4)


@FAST
@given(
    picture=pictures(),
    size=sizes,
    quality=qualities,
    height=st.floats(0.1, 20.0),
    base=st.floats(0.2, 5.0),
    invert=st.booleans(),
    gamma=st.floats(0.2, 5.0),
    blur=st.floats(0.0, 2.0),
    triangulation=st.sampled_from(["adaptive", "grid"]),
)
def test_relief_is_printable(picture, size, quality, height, base, invert, gamma, blur, triangulation):
    model = orfeas_nb.image_to_3d(
        picture, method="relief", quality=quality, size_mm=size, height_mm=height, base_mm=base,
        invert=invert, gamma=gamma, blur=blur, triangulation=triangulation,
    )
    assert_printable(model.mesh, size)
    assert base - 1e-6 <= model.mesh.extents[2] <= base + height + 1e-6
    assert model.manifest["achieved_max_error_mm"] <= model.manifest["max_error_mm_target"] + 1e-6


@FAST
@given(picture=pictures(), size=sizes, quality=qualities, low=st.floats(0.3, 2.0), extra=st.floats(0.1, 5.0),
       frame=st.sampled_from([0.0, 1.0]))
def test_flat_lithophane_is_printable(picture, size, quality, low, extra, frame):
    model = orfeas_nb.image_to_3d(
        picture, method="lithophane", quality=quality, size_mm=size, min_mm=low, max_mm=low + extra, frame_mm=frame
    )
    assert_printable(model.mesh, size)
    assert low - 1e-6 <= model.mesh.extents[2] <= low + extra + 1e-6


@settings(max_examples=6, deadline=None)
@given(picture=pictures(max_side=24), size=sizes, angle=st.floats(10.0, 300.0))
@example(picture=Image.new("L", (2, 2), 90), size=5.0, angle=181.0)  # one chord over half the circle turned it inside out
def test_curved_lithophane_is_closed_and_as_tall_as_the_picture(picture, size, angle):
    model = orfeas_nb.image_to_3d(picture, method="lithophane", quality=1, size_mm=size, shape="curved", angle_deg=angle)
    mesh = model.mesh
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    width, height = picture.size
    expected_height = size * (height - 1) / (max(width, height) - 1)
    assert mesh.extents[2] == pytest.approx(expected_height, rel=0.02, abs=size / 60)
    assert mesh.area_faces.min() > 0


@FAST
@given(picture=silhouettes(), size=sizes, quality=qualities, height=st.floats(0.2, 20.0),
       base=st.sampled_from([0.0, 1.5]), tolerance=st.sampled_from([0.0, 0.5, 5.0]))
def test_extrude_is_printable(picture, size, quality, height, base, tolerance):
    model = orfeas_nb.image_to_3d(picture, method="extrude", quality=quality, size_mm=size, height_mm=height,
                                  base_mm=base, tolerance_mm=tolerance)
    assert_printable(model.mesh, size)
    assert model.mesh.extents[2] == pytest.approx(height + base)
    if base:
        assert model.mesh.body_count == 1


@FAST
@given(picture=silhouettes(), size=sizes, quality=qualities, roundness=st.floats(0.1, 2.0),
       tolerance=st.sampled_from([0.0, 0.5, 5.0]), flat=st.booleans())
def test_inflate_is_printable(picture, size, quality, roundness, tolerance, flat):
    model = orfeas_nb.image_to_3d(picture, method="inflate", quality=quality, size_mm=size, roundness=roundness,
                                  tolerance_mm=tolerance, flat_bottom=flat)
    assert_printable(model.mesh, size)


@settings(max_examples=8, deadline=None)
@given(picture=pictures(max_side=16), method=st.sampled_from(["extrude", "inflate"]))
def test_silhouette_methods_succeed_or_say_why(picture, method):
    """Noise may have no usable foreground: then the error says what to try, never a traceback."""
    try:
        model = orfeas_nb.image_to_3d(picture, method=method, quality=1, size_mm=40)
    except InvalidInput as exc:
        assert "foreground" in str(exc)
    else:
        assert model.mesh.is_watertight and model.mesh.volume > 0
