"""The hostile-upload corpus, generated at test time (no binary blobs in the repository).

Each :class:`Case` is the bytes a person might upload, the file name they might give it, and what
must happen: ``reject`` names a regular expression the :class:`~orfeas_nb.errors.InvalidInput` message
must match; ``accept`` names the size (width, height) and mode orfeas_nb must decode it to.

    >>> cases = {case.name: case for case in corpus()}
    >>> cases["empty"].data, cases["empty"].reject
    (b'', 'empty')
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

# File names a client could send: traversal, NUL, non-UTF-8 bytes (surrogate-escaped), markup, newlines.
HOSTILE_NAMES = (
    "../../../../etc/passwd.png",
    "..\\..\\windows\\win.ini.png",
    "/etc/shadow",
    "photo\x00.png.sh",
    "caf\udce9\udcff.png",
    "<img src=x onerror=alert(1)>.png",
    "line\nbreak\r.png",
    "~/.bashrc",
    ".",
    "",
    "a" * 300 + ".png",
)


@dataclass(frozen=True)
class Case:
    """One hostile or odd upload and the outcome orfeas_nb owes the user."""

    name: str
    data: bytes
    filename: str = "upload.png"
    reject: str | None = None  # regex the InvalidInput message must match
    size: tuple[int, int] | None = None  # (width, height) after decoding, for accepted cases
    mode: str | None = None  # "L", "RGB" or "RGBA" after decoding

    def __repr__(self) -> str:  # keep pytest ids and failure output short
        return f"Case({self.name})"


def encode(array: np.ndarray, format: str = "PNG", **save) -> bytes:
    """Encode an array with Pillow (the mode follows from its shape and dtype)."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=format, **save)
    return buffer.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def raw_png(width: int, height: int, *, bit_depth: int = 8, color_type: int = 0, raw: bytes | None = None,
            extra: tuple[tuple[bytes, bytes], ...] = (), stream_zeros: bool = False) -> bytes:
    """A PNG written chunk by chunk, so headers and payloads can say anything.

    ``raw`` is the filtered scanline data (compressed here); ``stream_zeros`` compresses an all-zero
    image of the stated size in pieces, which is how a decompression bomb stays a few hundred KB.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    if stream_zeros:
        channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
        row = 1 + (width * channels * bit_depth + 7) // 8
        compressor, parts, left = zlib.compressobj(9), [], row * height
        block = bytes(min(left, 1 << 22))
        while left:
            step = min(left, len(block))
            parts.append(compressor.compress(block[:step]))
            left -= step
        parts.append(compressor.flush())
        idat = b"".join(parts)
    else:
        idat = zlib.compress(raw if raw is not None else b"")
    body = b"".join(_chunk(k, v) for k, v in extra)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + body + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose SOF0 frame header claims ``width``×``height``."""
    data = bytearray(encode(np.zeros((8, 8, 3), np.uint8), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _gif_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(np.zeros((4, 4), np.uint8), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)  # logical screen
    image_descriptor = data.index(b",")
    data[image_descriptor + 5:image_descriptor + 9] = struct.pack("<HH", width, height)
    return bytes(data)


def _animated(format: str) -> bytes:
    frames = [Image.fromarray(np.full((24, 32), value, np.uint8)).convert("RGB") for value in (10, 128, 250)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format=format, save_all=True, append_images=frames[1:], duration=50, loop=0)
    return buffer.getvalue()


def _exif_rotated() -> bytes:
    image = Image.fromarray(np.tile(np.arange(40, dtype=np.uint8) * 6, (20, 1))).convert("RGB")  # 40 wide, 20 high
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def _broken_exif() -> bytes:
    data = bytearray(_exif_rotated())
    start = data.index(b"Exif\x00\x00") + 6
    data[start + 10:start + 22] = b"\xff" * 12  # the one IFD entry: unknown tag and type, absurd count
    return bytes(data)


def _palette_with_transparency() -> bytes:
    image = Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8) % 4, "L").convert("P")
    image.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 12))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", transparency=bytes([0, 128, 255, 255]))
    return buffer.getvalue()


def _cmyk(format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("CMYK", (16, 12), (0, 128, 255, 30)).save(buffer, format=format)
    return buffer.getvalue()


def _text_bomb_png() -> bytes:
    """A 4×4 PNG carrying a zTXt chunk that inflates to 64 MB of text."""
    compressed = zlib.compress(bytes(64 << 20), 9)
    return raw_png(4, 4, raw=b"\x00" * 20, extra=((b"zTXt", b"comment\x00\x00" + compressed),))


def corpus() -> list[Case]:
    """Every case, built fresh (takes well under a second)."""
    gradient = np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))
    png = encode(gradient)
    jpeg = encode(np.stack([gradient] * 3, axis=2), "JPEG")
    bad_crc = bytearray(png)
    bad_crc[png.index(b"IDAT") + 8] ^= 0xFF  # first IDAT payload byte: CRC no longer matches
    bad_zlib = raw_png(8, 8, raw=b"")[:33] + _chunk(b"IDAT", b"\x78\x9c" + b"\xde\xad\xbe\xef" * 8) + _chunk(b"IEND", b"")
    html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'
    zip_tail = b"PK\x03\x04" + b"\x00" * 26 + b"evil.py" + b"import os; os.system('id')"
    return [
        # --- nothing, or too little, to decode
        Case("empty", b"", reject="empty"),
        Case("png-magic-only", png[:8], reject="truncated or corrupt"),
        Case("png-header-only", png[:33], reject="truncated or corrupt"),
        Case("png-truncated-half", png[: len(png) // 2], reject="truncated or corrupt"),
        Case("png-bad-crc", bytes(bad_crc), reject="truncated or corrupt"),
        Case("png-bad-zlib", bad_zlib, reject="truncated or corrupt"),
        Case("png-zero-width", raw_png(0, 8, raw=b""), reject="truncated or corrupt|no pixels"),
        Case("jpeg-soi-only", b"\xff\xd8\xff", reject="truncated or corrupt"),
        Case("jpeg-truncated-half", jpeg[: len(jpeg) // 2], reject="truncated or corrupt"),
        Case("jpeg-garbage-body", jpeg[:20] + bytes(range(256)) * 4, reject="truncated or corrupt"),
        Case("gif-truncated", encode(gradient, "GIF")[:20], reject="truncated or corrupt"),
        Case("webp-riff-only", b"RIFF\x10\x00\x00\x00WEBPVP8 ", reject="truncated or corrupt"),
        Case("bmp-header-only", encode(gradient, "BMP")[:30], reject="truncated or corrupt"),
        Case("tiff-header-only", encode(gradient, "TIFF")[:8], reject="truncated or corrupt"),
        # --- something else wearing an image's name
        Case("svg-named-png", svg, filename="logo.png", reject="SVG/HTML"),
        Case("html-named-png", html, filename="photo.png", reject="SVG/HTML"),
        Case("html-with-bom", b"\xef\xbb\xbf" + html, filename="photo.png", reject="none of PNG"),
        Case("script-named-jpg", b"#!/bin/sh\nrm -rf ~\n", filename="photo.jpg", reject="none of PNG"),
        Case("zip-named-png", zip_tail, filename="photo.png", reject="none of PNG"),
        Case("pdf-named-png", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj", reject="none of PNG"),
        Case("png-magic-then-html", png[:8] + html, reject="truncated or corrupt"),
        # --- polyglots: a valid image with something else appended or embedded: the image is used, the rest ignored
        Case("png-zip-polyglot", png + zip_tail, size=(64, 48), mode="L"),
        Case("png-html-polyglot", png + html, size=(64, 48), mode="L"),
        Case("jpeg-with-script-comment", jpeg[:2] + b"\xff\xfe\x00\x24<script>alert(1)</script>+PHP<?php ?>" + jpeg[2:],
             size=(64, 48), mode="RGB"),
        Case("gif-js-polyglot", encode(gradient, "GIF") + b"\n/*\x00*/=1;alert(1)//", size=(64, 48), mode="RGB"),
        # --- bombs and lying headers
        Case("png-bomb-100-megapixel", raw_png(10_000, 10_000, stream_zeros=True), reject="ORFEAS_MAX_PIXELS"),
        Case("png-claims-2-gigapixel", raw_png(65_535, 32_768, raw=b"\x00" * 64), reject="ORFEAS_MAX_PIXELS"),
        Case("png-claims-max-dimensions", raw_png(2**31 - 1, 2**31 - 1, raw=b"\x00"), reject="ORFEAS_MAX_PIXELS|corrupt"),
        Case("jpeg-claims-65500-square", _jpeg_claiming(65_500, 65_500), reject="ORFEAS_MAX_PIXELS"),
        Case("gif-claims-65535-square", _gif_claiming(65_535, 65_535), reject="ORFEAS_MAX_PIXELS"),
        Case("png-ztxt-text-bomb", _text_bomb_png(), reject="truncated or corrupt|too large|Decompressed"),
        # --- odd but legitimate images: decoded correctly
        Case("1x1-grey", encode(np.array([[200]], np.uint8)), size=(1, 1), mode="L"),
        Case("1x1-rgba-transparent", encode(np.zeros((1, 1, 4), np.uint8)), size=(1, 1), mode="RGBA"),
        Case("1-pixel-wide", encode(np.full((300, 1), 90, np.uint8)), size=(1, 300), mode="L"),
        Case("16-bit-grey", encode(np.arange(48 * 64, dtype=np.uint16).reshape(48, 64) * 20),
             size=(64, 48), mode="L"),
        Case("16-bit-rgb", raw_png(4, 3, bit_depth=16, color_type=2, raw=(b"\x00" + b"\xff\xff\x00\x00\x80\x00" * 4) * 3),
             size=(4, 3), mode="RGB"),
        Case("1-bit", encode(gradient > 128), size=(64, 48), mode="L"),
        Case("cmyk-jpeg", _cmyk("JPEG"), size=(16, 12), mode="RGB"),
        Case("cmyk-tiff", _cmyk("TIFF"), size=(16, 12), mode="RGB"),
        Case("palette-with-transparency", _palette_with_transparency(), size=(8, 8), mode="RGBA"),
        Case("grey-alpha", encode(np.zeros((6, 5, 2), np.uint8)), size=(5, 6), mode="RGBA"),
        Case("animated-gif", _animated("GIF"), size=(32, 24), mode="RGB"),
        Case("animated-webp", _animated("WEBP"), size=(32, 24), mode="RGB"),
        Case("animated-png", _animated("PNG"), size=(32, 24), mode="RGB"),
        Case("exif-rotated-jpeg", _exif_rotated(), size=(20, 40), mode="RGB"),
        Case("broken-exif-jpeg", _broken_exif(), size=None, mode="RGB"),
        # --- a normal image under every hostile file name a client could send
        *(Case(f"hostile-name-{i}", png, filename=name, size=(64, 48), mode="L") for i, name in enumerate(HOSTILE_NAMES)),
    ]


_ALL = corpus()
REJECTED = [case for case in _ALL if case.reject]
ACCEPTED = [case for case in _ALL if not case.reject]
