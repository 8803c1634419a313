"""Meshes to files: stl (binary), obj, glb, ply and 3mf, in millimetres, written atomically.

The format comes from the suffix unless given. :data:`EXPORTERS` maps each format to a function that
turns a mesh (and optionally its manifest) into bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trimesh

from ..errors import ExportError, UnsupportedFormat
from ..files import write_bytes


def _trimesh_bytes(file_type: str) -> Callable[[trimesh.Trimesh, dict | None], bytes]:
    def encode(mesh: trimesh.Trimesh, manifest: dict | None) -> bytes:
        data = mesh.export(file_type=file_type)
        return data.encode("utf-8") if isinstance(data, str) else data

    return encode


EXPORTERS: dict[str, Callable[[trimesh.Trimesh, dict | None], bytes]] = {
    "stl": _trimesh_bytes("stl"),
    "obj": _trimesh_bytes("obj"),
    "glb": _trimesh_bytes("glb"),
    "ply": _trimesh_bytes("ply"),
    "3mf": _trimesh_bytes("3mf"),
}


def format_for(path: str | os.PathLike, format: str | None = None) -> str:
    """The export format for ``path``: ``format`` if given, else the suffix, checked against :data:`EXPORTERS`."""
    name = (format or Path(path).suffix.lstrip(".")).lower()
    if name not in EXPORTERS:
        given = f"format {format!r}" if format else f"suffix of {Path(path).name!r}"
        raise UnsupportedFormat(f"cannot export the {given}; use one of: {', '.join(EXPORTERS)}")
    return name


def mesh_bytes(mesh: trimesh.Trimesh, format: str, manifest: dict[str, Any] | None = None) -> bytes:
    """Encode ``mesh`` in ``format`` (one of :data:`EXPORTERS`)."""
    try:
        return EXPORTERS[format](mesh, manifest)
    except ImportError as exc:
        raise ExportError(f"exporting {format} needs an optional package: {exc}; pip install 'trimesh[easy]'") from exc


def export_mesh(
    mesh: trimesh.Trimesh, path: str | os.PathLike, format: str | None = None, manifest: dict[str, Any] | None = None
) -> Path:
    """Write ``mesh`` to ``path`` atomically and return the path."""
    fmt = format_for(path, format)
    return write_bytes(path, mesh_bytes(mesh, fmt, manifest))
