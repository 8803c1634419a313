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


def _normalise_mode(image: Image.Image) -> Image.Image:
    """Convert any decoded mode to L, RGB or RGBA, keeping alpha and 16-bit range."""
    if image.mode in ("L", "RGB", "RGBA"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(image, dtype=np.float64)
        hi = 65535.0 if image.mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        return Image.fromarray(np.clip(arr / hi * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if image.mode == "P" and "transparency" in image.info:
        return image.convert("RGBA")
    if image.mode in ("LA", "PA", "RGBa", "La"):
        return image.convert("RGBA")
    if image.mode == "1":
        return image.convert("L")
    return image.convert("RGB")


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
    return _normalise_mode(image)


def _from_array(array: np.ndarray) -> Image.Image:
    arr = np.asarray(array)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise InvalidInput(f"an image array must be H×W, H×W×3 or H×W×4, got shape {arr.shape}")
    _check_pixels(arr.shape[1], arr.shape[0], "the image array")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)):
            raise InvalidInput("the image array contains NaN or infinite values")
        arr = np.clip(arr, 0.0, 1.0) * 255.0 + 0.5
        arr = arr.astype(np.uint8)
    elif arr.dtype == np.uint16:
        arr = (arr.astype(np.uint32) * 255 // 65535).astype(np.uint8)
    elif arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.integer):
            raise InvalidInput(f"image arrays must be uint8, uint16, bool or float in [0, 1], got {arr.dtype}")
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    mode = "L" if arr.ndim == 2 else ("RGB" if arr.shape[2] == 3 else "RGBA")
    return Image.fromarray(np.ascontiguousarray(arr), mode)


def load_image(image: Any) -> LoadedImage:
    """Check and decode an image given as a path, bytes, PIL image or numpy array.

    Returns the upright image (EXIF orientation applied) in mode L, RGB or RGBA, with the sha256 of
    the bytes given (or of the pixels, for in-memory images).

    >>> load_image(np.zeros((4, 6), np.uint8)).size
    (6, 4)
    """
    if isinstance(image, Image.Image):
        _check_pixels(*image.size, "the image")
        img = _normalise_mode(image)
        digest = hashlib.sha256(img.tobytes()).hexdigest()
        return LoadedImage(img, digest, image.format or "PIL")
    if isinstance(image, np.ndarray):
        img = _from_array(image)
        return LoadedImage(img, hashlib.sha256(img.tobytes()).hexdigest(), "array")
    if isinstance(image, (str, os.PathLike, bytes, bytearray, memoryview)):
        data, label = _read_source(image)
        img = _decode(data, label)
        return LoadedImage(img, hashlib.sha256(data).hexdigest(), sniff_image_format(data))
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


def check_choice(name: str, value: Any, choices) -> str:
    """Return ``value`` if it is one of ``choices``, else raise :class:`InvalidInput` listing them."""
    if value not in choices:
        raise InvalidInput(f"unknown {name} {value!r}; choose one of: {', '.join(map(str, choices))}")
    return value
