"""``Model3D``: a generated mesh in millimetres with the record of how it was made."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import trimesh

from .files import write_json
from .mesh.export import export_mesh, format_for
from .mesh.repair import repair as repair_mesh
from .mesh.report import Report, report


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
        """Printability: watertight, manifold, volume, bounds, triangles, thinnest wall, warnings."""
        return report(self.mesh, min_wall_mm=self.manifest.get("min_wall_mm"))

    def repair(self) -> Model3D:
        """A repaired copy (merged seams, holes filled, winding fixed, overlaps united); the manifest
        lists what was done under ``repairs``.

        >>> model.repair().report().watertight
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
        written = export_mesh(self.mesh, target, fmt, self.manifest)
        if manifest:
            write_json(manifest_path(written), {**self.manifest, "file": written.name, "format": fmt})
        return written


def manifest_path(mesh_path: str | os.PathLike) -> Path:
    """Where the sidecar manifest of a mesh file goes: ``model.stl`` → ``model.manifest.json``."""
    path = Path(mesh_path)
    return path.with_name(f"{path.stem}.manifest.json")
