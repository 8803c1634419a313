"""Settings refused by name when not finite, in range and of the right type; one image path for PIL and arrays."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

import orfeas_nb
from orfeas_nb import config
from orfeas_nb.errors import InvalidInput, OrfeasError
from orfeas_nb.validation import load_image

pytestmark = pytest.mark.unit

NUMERIC = [name for name, s in config.SETTINGS.items() if s.kind in (int, float)]
CHOICES = [name for name, s in config.SETTINGS.items() if s.choices]
HOSTILE = st.one_of(
    st.sampled_from(["nan", "NaN", "inf", "-inf", "+inf", "-1", "0", "1e400", "-0.0", "9" * 5000, "0x10", "1_0",
                     "1e3", "lots", "12abc", "\x01", "2\n", "∞", "1,5"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),  # env: no NUL
    st.floats().map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(NUMERIC + CHOICES), raw=HOSTILE)
def test_every_setting_is_a_checked_value_or_a_refusal_naming_it(monkeypatch, name, raw):
    setting = config.SETTINGS[name]
    monkeypatch.setenv(setting.env, raw)
    try:
        value = config.get(name)
    except InvalidInput as exc:
        message = str(exc)
        assert message.startswith(f"{setting.env} "), message
        assert "\n" not in message and len(message) < 400
        return
    if not raw.strip():
        assert value == setting.default
    elif setting.choices:
        assert value.lower() in setting.choices
    else:
        assert type(value) is setting.kind
        assert math.isfinite(value)
        assert value > 0 if setting.low is None else setting.low <= value
        assert setting.high is None or value <= setting.high


@pytest.mark.parametrize("raw", ["nan", "inf", "-5", "1e400", "huge"])
def test_a_bad_size_limit_stops_the_cli_with_exit_2_naming_it(cli, monkeypatch, tmp_path, raw):
    monkeypatch.setenv("ORFEAS_MAX_SIZE_MM", raw)
    result = cli("image-to-3d", orfeas_nb.samples.path("shapes"), "-o", tmp_path / "m.stl", "--quality", "1")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ORFEAS_MAX_SIZE_MM must be a finite number between 0.01 and 100000")
    assert f"got '{raw}'" in result.stderr and result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_min_above_max_and_the_doctor_report(monkeypatch):
    monkeypatch.setenv("ORFEAS_MIN_SIZE_MM", "50")
    monkeypatch.setenv("ORFEAS_MAX_SIZE_MM", "10")
    with pytest.raises(InvalidInput, match=r"ORFEAS_MIN_SIZE_MM \(50\) is larger than ORFEAS_MAX_SIZE_MM \(10\)"):
        orfeas_nb.image_to_3d(orfeas_nb.samples.path("shapes"), quality=1, size_mm=20)
    monkeypatch.setenv("ORFEAS_METRICS_INTERVAL", "nan")
    rows = {env: value for env, value, _doc in config.describe()}
    assert str(rows["ORFEAS_METRICS_INTERVAL"]).startswith("invalid: ORFEAS_METRICS_INTERVAL must be a finite number")
    assert any("ORFEAS_METRICS_INTERVAL" in line for line in config.check_all())


def test_the_largest_allowed_size_writes_finite_vertices(tmp_path, monkeypatch):
    monkeypatch.setenv("ORFEAS_MAX_SIZE_MM", "100000")
    path = orfeas_nb.image_to_3d(orfeas_nb.samples.path("shapes"), quality=1, size_mm=100000).export(tmp_path / "m.stl")
    facets = np.frombuffer(path.read_bytes(), np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")]), offset=84)
    assert np.isfinite(facets["v"]).all() and facets["v"].max() == pytest.approx(100000, rel=1e-6)


def test_non_finite_vertices_are_never_written(tmp_path):
    import trimesh

    from orfeas_nb.errors import ExportError
    from orfeas_nb.model import Model3D

    mesh = trimesh.creation.box()
    mesh.vertices = mesh.vertices * 1e39  # finite in float64, inf in the float32 a file holds
    with pytest.raises(ExportError, match="not finite numbers.*nothing was written"):
        Model3D(mesh, {"task": "test"}).export(tmp_path / "m.stl")
    assert list(tmp_path.iterdir()) == []


# --- one image path -------------------------------------------------------------------------------------------

DTYPES = [np.uint8, np.uint16, np.int8, np.int16, np.int32, np.uint32, np.float32, np.float64, np.bool_]


@st.composite
def images(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    height, width = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    channels = draw(st.sampled_from([None, 2, 3, 4])) if dtype == np.uint8 else None
    shape = (height, width) if channels is None else (height, width, channels)
    if dtype.kind == "f":
        elements = st.floats(width=32, allow_nan=True, allow_infinity=True)
        elements = st.one_of(st.floats(0, 1, width=32), elements)
    else:
        elements = None
    return draw(hnp.arrays(dtype, shape, elements=elements))


def _outcome(image):
    try:
        loaded = load_image(image).image
    except InvalidInput as exc:
        return ("refused", "NaN" in str(exc))
    return (loaded.mode, loaded.size, loaded.tobytes())


@settings(max_examples=600, deadline=None)
@given(array=images())
def test_pil_and_array_paths_agree_or_both_refuse(array):
    try:
        pil = Image.fromarray(array)
    except (TypeError, ValueError):
        assume(False)  # Pillow has no mode for it: there is no PIL path to compare
    back = np.asarray(pil)
    assume(back.shape == array.shape and np.array_equal(back.astype(np.float64), array.astype(np.float64), equal_nan=True))
    assert _outcome(pil) == _outcome(array)


def test_a_float_picture_through_pil_is_the_array_picture_and_nan_is_refused():
    ramp = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    through_pil = np.asarray(load_image(Image.fromarray(ramp)).image)
    assert through_pil.min() == 0 and through_pil.max() == 255  # not a flat plate
    assert np.array_equal(through_pil, np.asarray(load_image(ramp).image))
    ramp[3, 3] = np.nan
    with pytest.raises(InvalidInput, match="NaN"):
        load_image(Image.fromarray(ramp))


def test_closed_and_truncated_pil_images_are_invalid_input():
    image = Image.new("RGB", (8, 8))
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), np.uint8)).save(buffer, format="PNG")
    truncated = Image.open(io.BytesIO(buffer.getvalue()[:300]))  # lazy: fails when its pixels are read
    image.close()
    closed = Image.open(io.BytesIO(buffer.getvalue()))
    closed.close()
    for bad in (truncated, closed):
        with pytest.raises(InvalidInput, match="the PIL image could not be read"):
            orfeas_nb.image_to_3d(bad, quality=1)


@pytest.mark.parametrize("method", [["relief"], 3, None, {"relief": 1}, b"relief"])
def test_a_method_that_is_not_text_is_invalid_input(method):
    for call in (lambda: orfeas_nb.image_to_3d(orfeas_nb.samples.path("shapes"), method=method),
                 lambda: orfeas_nb.text_to_3d("an owl", method=method)):
        with pytest.raises(InvalidInput, match="method must be text"):
            call()


@settings(max_examples=60, deadline=None)
@given(style=st.one_of(st.lists(st.text(max_size=3), max_size=2), st.integers(), st.none(),
                       st.dictionaries(st.text(), st.text())),
       model=st.one_of(st.integers(), st.lists(st.integers(), max_size=2), st.floats()))
def test_odd_argument_types_for_text_to_image_are_ours(style, model):
    with pytest.raises(OrfeasError):
        orfeas_nb.text_to_image("an owl", style=style, model=model)


def test_relief_from_alpha_needs_alpha():
    rgb = np.full((32, 32, 3), 120, np.uint8)
    with pytest.raises(InvalidInput, match="source=alpha needs a picture with an alpha channel"):
        orfeas_nb.image_to_3d(rgb, method="relief", quality=1, source="alpha")
    rgba = np.dstack([rgb, np.tile(np.linspace(0, 255, 32, dtype=np.uint8), (32, 1))])
    model = orfeas_nb.image_to_3d(rgba, method="relief", quality=1, source="alpha")
    assert model.mesh.extents[2] > model.manifest["parameters"]["base_mm"] + 1  # a ramp, not a slab


def test_repeated_cli_options_are_refused(cli, tmp_path):
    result = cli("image-to-3d", orfeas_nb.samples.path("shapes"), "-o", tmp_path / "m.stl", "-O", "height_mm=3",
                 "-O", "height_mm=4")
    assert result.exit_code == 2
    assert result.stderr == "error: option height_mm is given twice (3 and 4); give it once\n"
    assert list(tmp_path.iterdir()) == []
