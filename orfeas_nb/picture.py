"""Pictures to files: a PNG carrying its record, and its sidecar manifest, published as one unit."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

from .errors import UnsupportedFormat
from .files import FileRecord, check_output, json_text, publish_together
from .model import manifest_path


def pixels_sha256(image: Any) -> str:
    """The sha256 of a picture's pixels (mode, size and raw bytes): equal pixels, equal digest, whatever the file."""
    digest = hashlib.sha256(f"{image.mode} {image.width}x{image.height}\n".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


def check_png_output(out: str | os.PathLike, *, inputs: tuple = ()) -> Path:
    """Refuse, before any work, an output that is not a ``.png`` name or cannot be written (see ``check_output``)."""
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise UnsupportedFormat(f"text-to-image writes PNG: give -o a name ending in .png, not {out.name!r}")
    return check_output(out, sidecars=[manifest_path(out)], inputs=inputs)


def png_bytes(image: Any) -> bytes:
    """``image`` as PNG bytes, its ``orfeas`` record (``image.info["orfeas"]``) in a text chunk."""
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("orfeas", json.dumps(image.info.get("orfeas", {}), default=str))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=text)
    return buffer.getvalue()


def picture_manifest(image: Any, written: FileRecord) -> dict[str, Any]:
    """The sidecar document of a picture written as ``written``: its record, naming the PNG by its sha256
    and its pixels by :func:`pixels_sha256`."""
    record = image.info.get("orfeas", {})
    return {**record, "task": record.get("task", "text_to_image"), "file": written.path.name, "format": "png",
            "output": {**written.describe(), "format": "png", "pixels_sha256": pixels_sha256(image)}}


def save_png(image: Any, out: str | os.PathLike) -> Path:
    """Write ``image`` as PNG (its ``orfeas`` record in a text chunk) and ``<name>.manifest.json`` beside it.

    Both files appear together or neither changes; the manifest names the PNG by its sha256 and its
    pixels by :func:`pixels_sha256`.
    """
    out = check_png_output(out)
    with publish_together() as unit:
        written = unit.add(out, png_bytes(image))
        unit.add(manifest_path(out), json_text(picture_manifest(image, written)))
    return out
