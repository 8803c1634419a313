"""``Model3D``: a generated mesh in millimetres with the record of how it was made."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import trimesh

from .errors import OrfeasError
from .files import FileRecord, Publication, check_output, json_text, publish_together, sidecar_name
from .mesh.export import format_for, mesh_chunks
from .mesh.printer import summary_line
from .mesh.repair import repair as repair_mesh
from .mesh.report import Report, report
from .monitoring.record import record_stage


class Model3D:
    """A watertight mesh (``.mesh``, millimetres) and its manifest (``.manifest``).

    >>> import orfeas_nb
    >>> model = orfeas_nb.image_to_3d(orfeas_nb.samples.path("shapes"), quality=1)
    >>> model.report().watertight
    True
    """

    def __init__(self, mesh: trimesh.Trimesh, manifest: dict[str, Any]):
        self.mesh = mesh
        self.manifest = manifest

    def __repr__(self) -> str:
        x, y, z = self.mesh.extents
        return (
            f"<Model3D {self.manifest.get('method', '?')}: {len(self.mesh.faces):,} triangles, "
            f"{x:.1f} × {y:.1f} × {z:.1f} mm>"
        )

    def report(self) -> Report:
        """Printability: watertight, manifold, volume, bounds, triangles, thinnest wall, warnings, and
        the printer the model was made for with the detail it kept."""
        nozzle = (self.manifest.get("printer") or {}).get("nozzle_mm") or 0.4  # thin walls: two of the printer's widths
        return report(self.mesh, min_wall_mm=self.manifest.get("min_wall_mm"), printer=summary_line(self.manifest),
                      nozzle_mm=nozzle)

    def repair(self) -> Model3D:
        """A repaired copy (merged seams, holes filled, winding fixed, overlaps united); the manifest
        lists what was done under ``repairs``.

        >>> import orfeas_nb
        >>> orfeas_nb.image_to_3d(orfeas_nb.samples.path("logo"), quality=1).repair().report().watertight
        True
        """
        mesh, actions = repair_mesh(self.mesh)
        manifest = {**self.manifest, "repairs": actions, "triangles": len(mesh.faces)}
        return Model3D(mesh, manifest)

    def export(self, path: str | os.PathLike, format: str | None = None, *, manifest: bool = True) -> Path:
        """Write the mesh to ``path`` (format from the suffix unless given) and return the path.

        With ``manifest=True`` a sidecar ``<name>.manifest.json`` naming the file by its sha256 is written
        next to it, and the two are published as one unit (:func:`orfeas_nb.files.publish_together`): both
        or neither, even with other processes writing the same path. With ``manifest=False`` a sidecar
        left there by an earlier export of this name is removed with the same unit, so it never describes
        another file.
        """
        target = Path(path)
        fmt = format_for(target, format)
        check_output(target, sidecars=[manifest_path(target)])
        with record_stage(self.manifest.get("task"), self.manifest.get("method"), "export"), publish_together() as unit:
            self.add_to(unit, target, fmt, manifest=manifest)
        return target

    def add_to(self, unit: Publication, path: str | os.PathLike, format: str | None = None, *,
               manifest: bool = True) -> FileRecord:
        """Add the mesh file (and its sidecar manifest) to a :func:`~orfeas_nb.files.publish_together` unit."""
        target = Path(path)
        fmt = format_for(target, format)
        written = unit.add(target, mesh_chunks(self.mesh, fmt, self.manifest))
        sidecar = manifest_path(target)
        if manifest:
            unit.add(sidecar, json_text(sidecar_manifest(self.manifest, written, fmt)))
        elif _describes(sidecar, target.name):
            unit.remove(sidecar)
        return written

    def preview(self, **opts: Any):
        """An interactive 3D view (``max_faces``, ``width``, ``height``); decimated for display only.

        The view comes from the face that registered one (:func:`register_display`; the widgets do).
        """
        return _display_hooks("preview")(self.mesh, **opts)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """Rich display: the 3D view plus the report where widgets render (a kernel, and a display
        registered), and always a PNG render and the text report for papermill, nbconvert and GitHub."""
        from .mesh.render import render_png

        text = f"{self!r}\n{self.report()}"
        bundle: dict[str, Any] = {"image/png": render_png(self.mesh)}
        widget = _display_hooks("widget", required=False) if _in_kernel() else None
        if widget is not None:
            bundle.update(widget(self)._repr_mimebundle_())
        bundle["text/plain"] = text
        return bundle


DISPLAY_ENTRY_POINTS = "orfeas_nb.display"
_DISPLAY: dict[str, Callable[..., Any]] = {}
_ENTRY_POINTS_LOADED: list[bool] = []  # non-empty once the entry points were looked at


def register_display(*, widget: Callable[[Model3D], Any], preview: Callable[..., Any]) -> None:
    """Give ``Model3D`` its rich display from a face above it (the data type imports no face).

    ``widget(model)`` returns what a kernel shows for a bare ``model`` (anything with
    ``_repr_mimebundle_``); ``preview(mesh, **opts)`` is what :meth:`Model3D.preview` returns.
    ``orfeas_nb.widgets`` calls this when it is imported; the ``orfeas_nb.display`` entry point names it
    so that a display is found without that import.
    """
    _DISPLAY.update(widget=widget, preview=preview)


def _display_hooks(kind: str, *, required: bool = True) -> Callable[..., Any] | None:
    """The registered display function ``kind``, loading the ``orfeas_nb.display`` entry points once if none is."""
    if not _DISPLAY and not _ENTRY_POINTS_LOADED:
        _ENTRY_POINTS_LOADED.append(True)
        for entry in entry_points(group=DISPLAY_ENTRY_POINTS):
            try:
                entry.load()()  # each names a function that calls register_display
            except ImportError:  # its face's dependencies (ipywidgets, pythreejs) are not installed
                continue
    hook = _DISPLAY.get(kind)
    if hook is None and required:
        raise OrfeasError(
            "no 3D view is installed: install the notebook extra (pip install 'orfeas_nb[notebook]') "
            "and `import orfeas_nb.widgets`"
        )
    return hook


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (widget views can be sent); False in a plain interpreter."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def manifest_path(mesh_path: str | os.PathLike) -> Path:
    """Where the sidecar manifest of a file goes: ``model.stl`` → ``model.manifest.json`` (hash-shortened when
    that name would pass the file system's 255-byte limit)."""
    path = Path(mesh_path)
    return path.with_name(sidecar_name(path.name, ".manifest.json", strip=path.suffix))


def sidecar_manifest(manifest: dict[str, Any], written: FileRecord, format: str) -> dict[str, Any]:
    """The sidecar document: the manifest plus ``file`` (its name), ``format`` and ``output`` (name, sha256, bytes)."""
    return {**manifest, "file": written.path.name, "format": format, "output": {**written.describe(), "format": format}}


def _describes(sidecar: Path, name: str) -> bool:
    """Whether ``sidecar`` is an orfeas manifest of the file called ``name``."""
    try:
        return json.loads(sidecar.read_text(encoding="utf-8")).get("file") == name
    except (OSError, ValueError, AttributeError):
        return False
