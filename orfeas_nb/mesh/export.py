"""Meshes to files: stl (binary), obj, glb, ply and 3mf, in millimetres, written atomically.

The format comes from the suffix unless given. :data:`FORMATS` declares each format (media type,
summary) with the function that turns a mesh (and optionally its manifest) into bytes; :data:`EXPORTERS`
maps each name to that function. Where the format has room the manifest rides
along: glTF ``extras.orfeas_manifest``, a PLY ``comment orfeas_manifest {json}`` header line, 3MF
``<metadata name="orfeas:manifest">``, an OBJ ``# orfeas_manifest {json}`` comment, and a short
summary in the 80-byte binary STL header.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import uuid
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import trimesh
from trimesh.exchange.gltf import export_glb

from ..errors import ExportError, UnsupportedFormat
from ..files import write_chunks

MANIFEST_KEY = "orfeas_manifest"
_NAMESPACE = "https://github.com/orfeas-nb/orfeas_nb/manifest"


def _one_line(manifest: dict) -> str:
    return json.dumps(manifest, separators=(",", ":"), sort_keys=False, default=str, ensure_ascii=True)


_STL_FACET = np.dtype([("normal", "<f4", 3), ("vertices", "<f4", (3, 3)), ("attributes", "<u2")])
STL_CHUNK_FACES = 1 << 15  # facets encoded per piece: ~1.6 MB, small enough to stay in the CPU caches
STL_THREADS = min(4, os.cpu_count() or 1)  # pieces encoded at once; numpy releases the GIL for the arithmetic


def _stl_header(mesh: trimesh.Trimesh, manifest: dict | None) -> bytes:
    sha = str(((manifest or {}).get("input") or {}).get("sha256", ""))[:16]
    text = f"orfeas_nb {(manifest or {}).get('method', '')} mm sha256={sha}" if manifest else "orfeas_nb mm"
    # NUL-padded (at least one NUL): C tools such as admesh print the header as a C string and stop there
    return text.encode("ascii", "replace")[:79].ljust(80, b"\0") + np.uint32(len(mesh.faces)).tobytes()


def _stl_facets(corner_items: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Binary STL records for ``faces``: float32 corners gathered as 12-byte items, unit normals."""
    facets = np.empty(len(faces), _STL_FACET)
    corners = np.take(corner_items, faces).view(np.float32).reshape(-1, 9)
    facets["vertices"] = corners.reshape(-1, 3, 3)
    ax, ay, az, bx, by, bz, cx, cy, cz = corners.T.copy()  # one contiguous row per coordinate: fast arithmetic
    bx -= ax
    by -= ay
    bz -= az
    cx -= ax
    cy -= ay
    cz -= az
    nx = by * cz
    nx -= bz * cy
    ny = bz * cx
    ny -= bx * cz
    nz = bx * cy
    nz -= by * cx
    length = nx * nx
    length += ny * ny
    length += nz * nz
    np.maximum(np.sqrt(length, out=length), np.float32(1e-30), out=length)
    normal = facets["normal"]
    for axis, component in enumerate((nx, ny, nz)):
        np.divide(component, length, out=normal[:, axis])
    facets["attributes"] = 0
    return facets


def stl_chunks(mesh: trimesh.Trimesh, manifest: dict | None = None) -> Iterator[bytes | np.ndarray]:
    """Binary STL in pieces, in file order: the header, then facets encoded by a few threads at once."""
    yield _stl_header(mesh, manifest)
    faces = np.asarray(mesh.faces)
    corner_items = np.ascontiguousarray(mesh.vertices, dtype=np.float32).view("V12").ravel()
    starts = range(0, len(faces), STL_CHUNK_FACES)

    def encode(start: int) -> np.ndarray:
        return _stl_facets(corner_items, faces[start : start + STL_CHUNK_FACES])

    if len(starts) < 2 or STL_THREADS < 2:
        yield from map(encode, starts)
        return
    with ThreadPoolExecutor(STL_THREADS, thread_name_prefix="orfeas-stl") as pool:
        pending: deque[Future] = deque()
        try:
            for start in starts:
                pending.append(pool.submit(encode, start))
                if len(pending) > 2 * STL_THREADS:  # bounded read-ahead: memory stays a few pieces
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _stl(mesh: trimesh.Trimesh, manifest: dict | None) -> bytes:
    return b"".join(stl_chunks(mesh, manifest))


def _obj(mesh: trimesh.Trimesh, manifest: dict | None) -> bytes:
    text = mesh.export(file_type="obj")
    header = f"# {MANIFEST_KEY} {_one_line(manifest)}\n" if manifest else ""
    return (header + text).encode("utf-8")


def _ply(mesh: trimesh.Trimesh, manifest: dict | None) -> bytes:
    data = mesh.export(file_type="ply")
    if not manifest:
        return data
    first, second, rest = data.split(b"\n", 2)
    comment = f"comment {MANIFEST_KEY} {_one_line(manifest)}".encode("ascii")
    return b"\n".join([first, second, comment, rest])


def _glb(mesh: trimesh.Trimesh, manifest: dict | None) -> bytes:
    def add_extras(tree: dict) -> None:
        tree.setdefault("asset", {})["extras"] = {"units": "millimeters"}
        if manifest:
            tree["extras"] = {MANIFEST_KEY: json.loads(_one_line(manifest))}

    return export_glb(trimesh.Scene(mesh), tree_postprocessor=add_extras)


def _3mf(mesh: trimesh.Trimesh, manifest: dict | None) -> bytes:
    """3MF with the manifest as metadata; entries dated 1980-01-01 so the same mesh gives the same bytes."""
    data = mesh.export(file_type="3mf")
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "3D/3dmodel.model":
                xml = _stable_uuids(content.decode("utf-8"), mesh)
                content = (_with_metadata(xml, manifest) if manifest else xml).encode("utf-8")
            item.date_time = (1980, 1, 1, 0, 0, 0)
            target.writestr(item, content)
    return out.getvalue()


_UUID = re.compile(r'UUID="[0-9a-fA-F-]{36}"')


def _stable_uuids(model_xml: str, mesh: trimesh.Trimesh) -> str:
    """Replace trimesh's random 3MF UUIDs by ones derived from the geometry: the same mesh, the same bytes."""
    geometry = hashlib.sha256(np.ascontiguousarray(mesh.vertices).tobytes() + np.ascontiguousarray(mesh.faces).tobytes())
    count = iter(range(1 << 30))
    return _UUID.sub(lambda _m: f'UUID="{uuid.uuid5(uuid.NAMESPACE_URL, f"{geometry.hexdigest()}/{next(count)}")}"', model_xml)


def _with_metadata(model_xml: str, manifest: dict) -> str:
    start = model_xml.index("<model ")
    end = model_xml.index(">", start)
    entries = (
        f'<metadata name="Application">orfeas_nb {escape(str(manifest.get("versions", {}).get("orfeas_nb", "")))}</metadata>'
        f'<metadata name="Title">{escape(str(manifest.get("method", "")))} model</metadata>'
        f'<metadata name="orfeas:manifest">{escape(_one_line(manifest))}</metadata>'
    )
    opening = model_xml[start:end] + f' xmlns:orfeas="{_NAMESPACE}">'
    return model_xml[:start] + opening + entries + model_xml[end + 1 :]


@dataclass(frozen=True)
class Format:
    """An export format: its name (also the file suffix), media type, one-line summary and encoder."""

    name: str
    media_type: str
    summary: str
    encode: Callable[[trimesh.Trimesh, dict | None], bytes] = field(repr=False)


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("stl", "model/stl", "binary STL: every slicer reads it; no colour, manifest summary in the header", _stl),
        Format("obj", "model/obj", "Wavefront OBJ text; manifest in a comment", _obj),
        Format("glb", "model/gltf-binary", "binary glTF for viewers and the web; manifest in extras", _glb),
        Format("ply", "application/octet-stream", "binary PLY for mesh tools; manifest in a header comment", _ply),
        Format("3mf", "model/3mf", "3MF, the slicers' project format; manifest in its metadata", _3mf),
    )
}
EXPORTERS: dict[str, Callable[[trimesh.Trimesh, dict | None], bytes]] = {name: f.encode for name, f in FORMATS.items()}


def format_for(path: str | os.PathLike, format: str | None = None) -> str:
    """The export format for ``path``: ``format`` if given, else the suffix, checked against :data:`EXPORTERS`."""
    name = (format or Path(path).suffix.lstrip(".")).lower()
    if name not in EXPORTERS:
        given = f"format {format!r}" if format else f"suffix of {Path(path).name!r}"
        raise UnsupportedFormat(f"cannot export the {given}; use one of: {', '.join(EXPORTERS)}")
    return name


def mesh_bytes(mesh: trimesh.Trimesh, format: str, manifest: dict[str, Any] | None = None) -> bytes:
    """Encode ``mesh`` in ``format`` (one of :data:`EXPORTERS`), embedding ``manifest`` where there is room."""
    try:
        return EXPORTERS[format](mesh, manifest)
    except ImportError as exc:
        raise ExportError(f"exporting {format} needs an optional package: {exc}; pip install 'trimesh[easy]'") from exc


def embedded_manifest(data: bytes, format: str) -> dict | None:
    """Read back the manifest embedded by :func:`mesh_bytes` (None for STL or when absent).

    >>> import trimesh
    >>> embedded_manifest(mesh_bytes(trimesh.creation.box(), "ply", {"method": "relief"}), "ply")
    {'method': 'relief'}
    """
    if format == "glb":
        length = int.from_bytes(data[12:16], "little")
        return json.loads(data[20 : 20 + length]).get("extras", {}).get(MANIFEST_KEY)
    if format in ("ply", "obj"):
        prefix = ("comment " if format == "ply" else "# ").encode() + MANIFEST_KEY.encode() + b" "
        for line in data.split(b"\n", 64)[:64]:
            if line.startswith(prefix):
                return json.loads(line[len(prefix) :])
        return None
    if format == "3mf":
        import xml.etree.ElementTree as ET

        # Bandit B314 is safe here: this reads back 3MF that orfeas_nb wrote; ElementTree resolves no external entities and
        # expat >= 2.4.1 (bundled with every supported CPython) caps entity expansion (billion laughs)
        root = ET.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("3D/3dmodel.model"))  # noqa: S314 # nosec B314
        for element in root:
            if element.tag.endswith("metadata") and element.get("name") == "orfeas:manifest":
                return json.loads(element.text or "null")
    return None


def check_finite(mesh: trimesh.Trimesh) -> None:
    """Refuse a mesh whose vertices are not finite once stored as float32 (what every format writes)."""
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.isfinite(np.asarray(mesh.vertices, dtype=np.float32)).all()
    if not finite:
        raise ExportError(
            "the model has vertices that are not finite numbers (a size or option too large for float32 files); "
            "nothing was written: use a smaller size_mm or option values"
        )


def mesh_chunks(mesh: trimesh.Trimesh, format: str, manifest: dict[str, Any] | None = None) -> Iterator[Any]:
    """The file content of ``mesh`` in ``format``, in pieces (binary STL is streamed as it is encoded)."""
    check_finite(mesh)
    return stl_chunks(mesh, manifest) if format == "stl" else iter([mesh_bytes(mesh, format, manifest)])


def export_mesh(
    mesh: trimesh.Trimesh, path: str | os.PathLike, format: str | None = None, manifest: dict[str, Any] | None = None
) -> Path:
    """Write ``mesh`` to ``path`` atomically and return the path (binary STL is streamed as it is encoded)."""
    fmt = format_for(path, format)
    return write_chunks(path, mesh_chunks(mesh, fmt, manifest))
