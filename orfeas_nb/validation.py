"""Checks on everything a user hands in: images, prompts and numeric parameters.

Image types are sniffed from the first bytes, never from a file name or a MIME type. Size limits
(bytes and pixels) come from :mod:`orfeas_nb.config` and are checked before any pixel is decoded.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from . import config
from .errors import InvalidInput, UnsupportedFormat

# (magic prefix, offset, format name). WebP is RIFF....WEBP and checked separately.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")


@dataclass(frozen=True)
class LoadedImage:
    """A decoded, checked image: PIL image in mode L, RGB or RGBA, upright, plus provenance."""

    image: Image.Image
    sha256: str
    format: str
    path: str | None = None  # the absolute path it was read from, if it came from a file
    digest: str = "file"  # what sha256 covers: "file" (the bytes given) or "pixels" (an in-memory image)

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size


def sniff_image_format(data: bytes) -> str:
    """Name the image format from its first bytes, or raise :class:`UnsupportedFormat`.

    >>> sniff_image_format(b"\\x89PNG\\r\\n\\x1a\\n" + b"\\0" * 8)
    'PNG'
    """
    if not data:
        raise InvalidInput("the image is empty (0 bytes); give a PNG, JPEG, WebP, BMP, TIFF or GIF file")
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    head = data[:64].lstrip().lower()
    hint = ""
    if head.startswith((b"<svg", b"<?xml", b"<!doctype", b"<html")):
        hint = " (it looks like SVG/HTML text; export it as PNG first)"
    raise UnsupportedFormat(
        f"not a supported image{hint}: the content is none of {', '.join(IMAGE_FORMATS)}"
    )


def _read_source(source: str | os.PathLike | bytes | bytearray | memoryview) -> tuple[bytes, str]:
    limit = config.get("max_upload_bytes")
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = "the uploaded image"
    else:
        path = Path(source)
        if not path.is_file():
            raise InvalidInput(f"no image file at {str(path)!r}; check the path")
        size = path.stat().st_size
        if size > limit:
            raise InvalidInput(
                f"{path.name} is {size} bytes, more than the limit of {limit} (ORFEAS_MAX_UPLOAD_BYTES)"
            )
        data = path.read_bytes()
        label = path.name
    if len(data) > limit:
        raise InvalidInput(f"{label} is {len(data)} bytes, more than the limit of {limit} (ORFEAS_MAX_UPLOAD_BYTES)")
    return data, label


def _check_pixels(width: int, height: int, label: str) -> None:
    limit = config.get("max_pixels")
    if width < 1 or height < 1:
        raise InvalidInput(f"{label} has no pixels ({width}×{height})")
    if width * height > limit:
        raise InvalidInput(
            f"{label} is {width}×{height} = {width * height} pixels, more than the limit of {limit} "
            "(ORFEAS_MAX_PIXELS); resize it or raise the limit"
        )


_ARRAY_MODES = ("1", "I", "F", "I;16", "I;16B", "I;16L", "I;16N")  # PIL modes that carry numbers: read as arrays


def standard_image(image: Image.Image | np.ndarray, label: str = "the image") -> Image.Image:
    """The one conversion of every picture to mode L, RGB or RGBA, for PIL images and arrays alike.

    Numbers mean the same whichever way they arrive (a PIL ``F`` image is its float32 array, ``I;16``
    its uint16 array, ``I`` its int32 array, ``1`` its bool array):

    - uint8 as is; bool: 0 or 255; uint16: 0–65535 scaled to 0–255;
    - other integers: 0–255 as is, or, when any value exceeds 255, 0–65535 scaled (negative values are 0);
    - floats: 0.0–1.0 scaled to 0–255 (values outside are clipped); NaN or infinity is refused;
    - channels: H×W grey, H×W×2 grey + alpha, H×W×3 RGB, H×W×4 RGBA (H×W×1 is grey).

    Other PIL modes are converted by Pillow: palette and grey with transparency, LA, PA, RGBa to RGBA;
    CMYK, YCbCr, LAB, HSV, RGBX, P to RGB. Anything else is :class:`InvalidInput`.

    >>> standard_image(np.array([[0.0, 1.0]], np.float32)).getpixel((1, 0))
    255
    """
    if isinstance(image, Image.Image):
        if image.mode in ("L", "RGB", "RGBA"):
            return image
        if image.mode in _ARRAY_MODES:
            return _from_array(np.asarray(image), label)
        if (image.mode == "P" and "transparency" in image.info) or image.mode in ("LA", "PA", "RGBa", "La"):
            return image.convert("RGBA")
        return image.convert("RGB")
    return _from_array(np.asarray(image), label)


def _from_array(array: np.ndarray, label: str = "the image array") -> Image.Image:
    arr = np.asarray(array)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 2, 3, 4)):
        raise InvalidInput(f"{label}: an image array must be H×W, H×W×2, H×W×3 or H×W×4, got shape {arr.shape}")
    _check_pixels(arr.shape[1], arr.shape[0], label)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)):
            raise InvalidInput(f"{label} contains NaN or infinite values; replace them with numbers in [0, 1]")
        arr = (np.clip(arr.astype(np.float64), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    elif arr.dtype == np.uint16:
        arr = (arr.astype(np.uint32) * 255 // 65535).astype(np.uint8)
    elif arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.integer):
            raise InvalidInput(f"{label}: image arrays must be uint8, uint16, bool, integers or float in [0, 1], got {arr.dtype}")
        wide = np.clip(arr, 0, 65535).astype(np.uint32)
        arr = (wide * 255 // 65535).astype(np.uint8) if wide.max(initial=0) > 255 else wide.astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 2:  # grey + alpha
        arr = np.dstack([arr[:, :, 0], arr[:, :, 0], arr[:, :, 0], arr[:, :, 1]])
    mode = "L" if arr.ndim == 2 else ("RGB" if arr.shape[2] == 3 else "RGBA")
    return Image.fromarray(np.ascontiguousarray(arr), mode)


def _decode(data: bytes, label: str) -> Image.Image:
    try:
        fmt = sniff_image_format(data)
    except InvalidInput as exc:  # name the file: in a folder of uploads, "the image is empty" is not enough
        raise type(exc)(f"{label}: {exc}") from None
    try:
        with warnings.catch_warnings():
            # Decoder warnings (corrupt EXIF, bomb warnings) must not escape as errors under a strict
            # warnings filter: _check_pixels is the pixel limit, corrupt data fails in load() below.
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data), formats=[fmt])
            _check_pixels(*image.size, label)
            image.seek(0)  # first frame of an animation
            image.load()
    except InvalidInput:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidInput(
            f"{label} looks like a decompression bomb ({exc}); the limit is {config.get('max_pixels')} pixels "
            "(ORFEAS_MAX_PIXELS)"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        # UnidentifiedImageError's text is only the repr of our in-memory buffer: say what it means instead
        detail = "its header is not readable" if isinstance(exc, UnidentifiedImageError) else exc
        raise InvalidInput(f"{label} could not be decoded as {fmt} (truncated or corrupt?): {detail}") from None
    with contextlib.suppress(Exception):  # a broken EXIF block should not reject a readable image
        image = ImageOps.exif_transpose(image)
    return standard_image(image, label)


def _from_pil(image: Image.Image) -> Image.Image:
    """An in-memory PIL image, loaded and converted; a closed, truncated or corrupt one is :class:`InvalidInput`."""
    try:
        _check_pixels(*image.size, "the image")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.load()
            return standard_image(image, "the image")
    except InvalidInput:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, AttributeError) as exc:
        raise InvalidInput(
            f"the PIL image could not be read ({type(exc).__name__}: {exc}); is it closed, truncated or corrupt? "
            "Open it again, or pass the file's path"
        ) from None


def load_image(image: Any) -> LoadedImage:
    """Check and decode an image given as a path, bytes, PIL image or numpy array.

    Returns the upright image (EXIF orientation applied) in mode L, RGB or RGBA, with the sha256 of
    the bytes given (or of the pixels, for in-memory images).

    >>> load_image(np.zeros((4, 6), np.uint8)).size
    (6, 4)
    """
    if isinstance(image, Image.Image):
        img = _from_pil(image)
        return LoadedImage(img, hashlib.sha256(img.tobytes()).hexdigest(), image.format or "PIL", digest="pixels")
    if isinstance(image, np.ndarray):
        img = standard_image(image, "the image array")
        return LoadedImage(img, hashlib.sha256(img.tobytes()).hexdigest(), "array", digest="pixels")
    if isinstance(image, (str, os.PathLike, bytes, bytearray, memoryview)):
        data, label = _read_source(image)
        img = _decode(data, label)
        path = None if isinstance(image, (bytes, bytearray, memoryview)) else os.path.abspath(image)
        return LoadedImage(img, hashlib.sha256(data).hexdigest(), sniff_image_format(data), path)
    raise InvalidInput(
        f"cannot read an image from {type(image).__name__}; give a path, bytes, a PIL image or a numpy array"
    )


# C0/C1 controls except tab and newline, and the bidirectional overrides/isolates that make text display
# in another order than it is read ("Trojan Source", CVE-2021-42574). Ordinary RTL text needs none of them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def validate_prompt(prompt: Any) -> str:
    """Return the prompt stripped, or raise :class:`InvalidInput` if empty, too long or with control characters.

    >>> validate_prompt("  a small owl ")
    'a small owl'
    """
    if not isinstance(prompt, str):
        raise InvalidInput(f"the prompt must be text, got {type(prompt).__name__}")
    text = unicodedata.normalize("NFC", prompt).strip()
    if not text:
        raise InvalidInput("the prompt is empty; describe what to generate, e.g. 'a small ceramic owl'")
    limit = config.get("max_prompt_chars")
    if len(text) > limit:
        raise InvalidInput(f"the prompt has {len(text)} characters, more than {limit} (ORFEAS_MAX_PROMPT_CHARS)")
    bad = _CONTROL.search(text)
    if bad:
        raise InvalidInput(
            f"the prompt contains a control character (U+{ord(bad.group()):04X}) at position {bad.start()}; remove it"
        )
    return text


def check_number(name: str, value: Any, low: float, high: float, *, integer: bool = False) -> float | int:
    """Return ``value`` if it is a finite number in [low, high], else raise :class:`InvalidInput`.

    >>> check_number("quality", 7, 1, 10, integer=True)
    7
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidInput(f"{name} must be a number between {low} and {high}, got {value!r}")
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):  # before int(): int(nan) raises
        raise InvalidInput(f"{name} must be a finite number between {low} and {high}, got {value!r}")
    if integer and value != int(value):
        raise InvalidInput(f"{name} must be a whole number between {low} and {high}, got {value!r}")
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}, got {value!r}")
    return int(value) if integer else float(value)


def input_record(loaded: LoadedImage) -> dict[str, Any]:
    """The manifest's ``input``: sha256 (of the file's bytes, or of the pixels for an in-memory image, as
    ``digest`` says), format, size, and the absolute path when it was read from a file."""
    record: dict[str, Any] = {"sha256": loaded.sha256, "format": loaded.format, "size_px": list(loaded.size),
                              "digest": loaded.digest}
    if loaded.path is not None:
        record["path"] = loaded.path
    return record


def check_text(name: str, value: Any) -> str:
    """Return ``value`` if it is a string, else :class:`InvalidInput` (a list or number where a name belongs)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text (a name), got {type(value).__name__} {value!r:.60}")
    return value


def check_choice(name: str, value: Any, choices) -> str:
    """Return ``value`` if it is one of ``choices``, else raise :class:`InvalidInput` listing them."""
    if not isinstance(value, (str, int, float)) or value not in choices:
        raise InvalidInput(f"unknown {name} {value!r}; choose one of: {', '.join(map(str, choices))}")
    return value
