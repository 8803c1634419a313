"""Images, prompts and numbers are checked before any work, with messages that say what to do."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from orfeas_nb.errors import InvalidInput, UnsupportedFormat
from orfeas_nb.validation import check_choice, check_number, load_image, sniff_image_format, validate_prompt
from tests.conftest import png_bytes

pytestmark = pytest.mark.unit


def huge_header_png(width: int = 30000, height: int = 30000) -> bytes:
    """A valid small PNG whose IHDR claims ``width``×``height`` (CRC recomputed)."""
    data = bytearray(png_bytes(np.zeros((4, 4), np.uint8)))
    ihdr = data[12:29]  # b"IHDR" + 13 bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)) & 0xFFFFFFFF)
    return bytes(data)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("PNG", "PNG"), ("JPEG", "JPEG"), ("WEBP", "WEBP"), ("BMP", "BMP"), ("TIFF", "TIFF"), ("GIF", "GIF")],
)
def test_every_supported_format_is_sniffed_and_decoded(fmt, expected):
    rgb = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    data = png_bytes(rgb, format=fmt)
    assert sniff_image_format(data) == expected
    loaded = load_image(data)
    assert loaded.size == (30, 20)
    assert loaded.format == expected
    assert loaded.image.mode in ("L", "RGB", "RGBA")


def test_type_comes_from_content_not_the_name(tmp_path):
    disguised = tmp_path / "photo.gif"
    disguised.write_bytes(png_bytes(np.zeros((8, 8), np.uint8)))
    assert load_image(disguised).format == "PNG"
    text = tmp_path / "x.png"
    text.write_text("hello, I am not a picture")
    with pytest.raises(UnsupportedFormat, match="none of PNG, JPEG"):
        load_image(text)


def test_svg_named_png_gets_a_hint(tmp_path):
    svg = tmp_path / "logo.png"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    with pytest.raises(UnsupportedFormat, match="SVG/HTML"):
        load_image(svg)


def test_empty_and_truncated_files_are_rejected(tmp_path):
    with pytest.raises(InvalidInput, match="empty"):
        load_image(b"")
    whole = png_bytes(np.random.default_rng(1).integers(0, 255, (64, 64), dtype=np.uint8))
    with pytest.raises(InvalidInput, match="truncated or corrupt"):
        load_image(whole[: len(whole) // 2])


def test_pixel_limit_is_checked_from_the_header_before_decoding():
    with pytest.raises(InvalidInput, match="900000000 pixels.*ORFEAS_MAX_PIXELS"):
        load_image(huge_header_png())


def test_byte_limit_comes_from_the_environment(monkeypatch, tmp_path):
    data = png_bytes(np.zeros((32, 32), np.uint8))
    monkeypatch.setenv("ORFEAS_MAX_UPLOAD_BYTES", str(len(data) - 1))
    with pytest.raises(InvalidInput, match="ORFEAS_MAX_UPLOAD_BYTES"):
        load_image(data)
    path = tmp_path / "a.png"
    path.write_bytes(data)
    with pytest.raises(InvalidInput, match="a.png is"):
        load_image(path)


def test_missing_path_and_unknown_type():
    with pytest.raises(InvalidInput, match="no image file"):
        load_image("/nonexistent/picture.png")
    with pytest.raises(InvalidInput, match="cannot read an image from dict"):
        load_image({"not": "an image"})


def test_exif_orientation_is_applied():
    image = Image.new("RGB", (40, 20), "white")
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    assert load_image(buffer.getvalue()).size == (20, 40)


def test_alpha_palette_sixteen_bit_and_cmyk_are_normalised():
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., 3] = 128
    assert load_image(png_bytes(rgba, "RGBA")).image.mode == "RGBA"

    palette = Image.new("P", (10, 10), 0)
    palette.info["transparency"] = 0
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", transparency=0)
    assert load_image(buffer.getvalue()).image.mode == "RGBA"

    deep = np.full((10, 10), 65535, np.uint16)
    deep_image = load_image(png_bytes(deep))
    assert deep_image.image.mode == "L"
    assert np.asarray(deep_image.image).min() == 255

    buffer = io.BytesIO()
    Image.new("CMYK", (10, 10), (0, 0, 0, 0)).save(buffer, format="JPEG")
    assert load_image(buffer.getvalue()).image.mode == "RGB"


def test_first_frame_of_an_animated_gif():
    frames = [Image.new("L", (16, 16), v) for v in (10, 200)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    loaded = load_image(buffer.getvalue())
    assert np.asarray(loaded.image.convert("L")).mean() < 50


def test_arrays_and_pil_images():
    assert load_image(np.ones((5, 7), bool)).size == (7, 5)
    assert load_image(np.full((5, 7, 3), 0.5)).image.mode == "RGB"
    assert load_image(np.zeros((5, 7, 4), np.uint16)).image.mode == "RGBA"
    assert load_image(Image.new("LA", (3, 2))).image.mode == "RGBA"
    with pytest.raises(InvalidInput, match="NaN"):
        load_image(np.full((4, 4), np.nan))
    assert load_image(np.zeros((4, 4, 2))).image.mode == "RGBA"  # grey + alpha, as PIL's LA
    with pytest.raises(InvalidInput, match="shape"):
        load_image(np.zeros((4, 4, 5)))
    with pytest.raises(InvalidInput, match="uint8, uint16"):
        load_image(np.zeros((4, 4), complex))


def test_same_bytes_same_digest():
    data = png_bytes(np.arange(64, dtype=np.uint8).reshape(8, 8))
    assert load_image(data).sha256 == load_image(bytearray(data)).sha256


@given(st.text(min_size=1, max_size=200))
def test_prompts_are_accepted_or_refused_with_invalid_input(text):
    try:
        cleaned = validate_prompt(text)
    except InvalidInput as exc:
        assert str(exc)
    else:
        assert cleaned == cleaned.strip() and cleaned


def test_prompt_rules(monkeypatch):
    assert validate_prompt(" an owl\n on a branch ") == "an owl\n on a branch"
    with pytest.raises(InvalidInput, match="empty"):
        validate_prompt("   ")
    with pytest.raises(InvalidInput, match="U\\+0007"):
        validate_prompt("ring\x07bell")
    with pytest.raises(InvalidInput, match="must be text"):
        validate_prompt(42)
    monkeypatch.setenv("ORFEAS_MAX_PROMPT_CHARS", "10")
    with pytest.raises(InvalidInput, match="more than 10"):
        validate_prompt("a" * 11)


@given(st.one_of(st.integers(), st.floats(allow_nan=True), st.booleans(), st.text(max_size=3), st.none()))
def test_numbers_in_range_pass_everything_else_is_invalid_input(value):
    try:
        result = check_number("quality", value, 1, 10, integer=True)
    except InvalidInput as exc:
        assert "quality" in str(exc)
    else:
        assert 1 <= result <= 10 and isinstance(result, int)


def test_choice_lists_the_options():
    with pytest.raises(InvalidInput, match="choose one of: a, b"):
        check_choice("style", "c", ("a", "b"))
