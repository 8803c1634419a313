"""``Model3D``: a generated mesh in millimetres with the record of how it was made."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import trimesh

from .files import write_json
from .mesh.export import export_mesh, format_for
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

        With ``manifest=True`` a sidecar ``<name>.manifest.json`` is written next to it.
        """
        target = Path(path)
        fmt = format_for(target, format)
        with record_stage(self.manifest.get("task"), self.manifest.get("method"), "export"):
            written = export_mesh(self.mesh, target, fmt, self.manifest)
        if manifest:
            write_json(manifest_path(written), {**self.manifest, "file": written.name, "format": fmt})
        return written

    def preview(self, **opts: Any):
        """An interactive pythreejs view (``max_faces``, ``width``, ``height``); decimated for display only."""
        from .widgets.view import mesh_view

        return mesh_view(self.mesh, **opts)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """Rich display: the 3D view plus the report where widgets render (a kernel), and always a PNG
        render and the text report for papermill, nbconvert and GitHub."""
        from .mesh.render import render_png

        text = f"{self!r}\n{self.report()}"
        bundle: dict[str, Any] = {"image/png": render_png(self.mesh)}
        if _in_kernel():
            from .widgets.view import model_widget

            bundle.update(model_widget(self)._repr_mimebundle_())
        bundle["text/plain"] = text
        return bundle


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (widget views can be sent); False in a plain interpreter."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def manifest_path(mesh_path: str | os.PathLike) -> Path:
    """Where the sidecar manifest of a mesh file goes: ``model.stl`` → ``model.manifest.json``."""
    path = Path(mesh_path)
    return path.with_name(f"{path.stem}.manifest.json")
