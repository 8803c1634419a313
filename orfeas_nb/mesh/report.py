"""Printability facts about a mesh: closed or not, volume, size, triangles, thin walls, loose parts.

>>> import trimesh
>>> r = report(trimesh.creation.box(extents=(300, 20, 0.5)))
>>> r.watertight, r.bodies, len(r.warnings)
(True, 1, 2)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import trimesh

#: Build volume of a common desktop printer (mm, any orientation): larger models get a warning.
PRINTER_MM = (250.0, 210.0, 210.0)

_RAYS = 256


@dataclass(frozen=True)
class Report:
    """What a 3D-printing user checks before slicing. Lengths in millimetres."""

    watertight: bool
    winding_consistent: bool
    volume_mm3: float
    bounds_mm: tuple[float, float, float]
    triangles: int
    min_wall_mm: float | None
    warnings: tuple[str, ...] = field(default=())
    bodies: int = 1
    #: one line on the printer the model was made for and the detail it kept (None: not known)
    printer: str | None = None

    @property
    def manifold(self) -> bool:
        """Watertight with consistent winding: a closed, orientable surface a slicer accepts."""
        return self.watertight and self.winding_consistent

    def to_dict(self) -> dict:
        """Plain data for JSON."""
        data = asdict(self)
        data["manifold"] = self.manifold
        data["bounds_mm"] = list(self.bounds_mm)
        data["warnings"] = list(self.warnings)
        return data

    def __str__(self) -> str:
        x, y, z = self.bounds_mm
        wall = "unknown" if self.min_wall_mm is None else f"{self.min_wall_mm:.2f} mm"
        lines = [
            f"watertight: {'yes' if self.watertight else 'NO'}   manifold: {'yes' if self.manifold else 'NO'}",
            f"size: {x:.1f} × {y:.1f} × {z:.1f} mm   volume: {self.volume_mm3 / 1000:.2f} cm³",
            f"triangles: {self.triangles:,}   thinnest wall: {wall}   bodies: {self.bodies}",
        ]
        if self.printer:
            lines.append(self.printer)
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def signed_volume(mesh: trimesh.Trimesh) -> float:
    """Enclosed volume by the divergence theorem (what ``mesh.volume`` gives, without the inertia)."""
    v0, v1, v2 = (mesh.vertices[mesh.faces[:, i]] for i in range(3))
    return float(np.einsum("ij,ij->", v0, np.cross(v1, v2)) / 6.0)


def thinnest_wall(mesh: trimesh.Trimesh, rays: int = _RAYS, seed: int = 0) -> float | None:
    """Estimate the thinnest wall: cast ``rays`` inward from area-weighted random surface points
    along the inverted normal and keep the shortest distance to the far side (None if no ray hits).
    """
    if len(mesh.faces) == 0:
        return None
    rng = np.random.default_rng(seed)
    weights = mesh.area_faces / mesh.area_faces.sum()
    picked = rng.choice(len(mesh.faces), size=min(rays, len(mesh.faces)), replace=False, p=weights)
    normals = mesh.face_normals[picked]
    nudge = 1e-4 * float(max(mesh.extents))
    origins = mesh.triangles_center[picked] - normals * nudge
    locations, index, _ = mesh.ray.intersects_location(origins, -normals, multiple_hits=False)
    if len(index) == 0:
        return None
    return float(np.linalg.norm(locations - origins[index], axis=1).min() + nudge)


def report(
    mesh: trimesh.Trimesh,
    *,
    min_wall_mm: float | None = None,
    nozzle_mm: float = 0.4,
    printer_mm: tuple[float, float, float] = PRINTER_MM,
    printer: str | None = None,
) -> Report:
    """Check ``mesh`` for printing; ``min_wall_mm`` is the thinnest wall if the builder knows it,
    else it is estimated by inward ray sampling (:func:`thinnest_wall`). ``printer`` is the line
    describing the printer the model was made for (:func:`orfeas_nb.mesh.printer.summary_line`)."""
    watertight = bool(mesh.is_watertight)
    winding = bool(mesh.is_winding_consistent)
    extents = tuple(float(v) for v in (mesh.extents if len(mesh.vertices) else np.zeros(3)))
    volume = signed_volume(mesh) if watertight else 0.0
    bodies = int(mesh.body_count) if len(mesh.faces) else 0
    if min_wall_mm is None and watertight:
        min_wall_mm = thinnest_wall(mesh)
    warnings = []
    if not watertight:
        warnings.append("the mesh is not closed: slicers may fill or drop parts; try Model3D.repair()")
    elif volume <= 0:
        warnings.append("the mesh is inside out (negative volume); try Model3D.repair()")
    if min_wall_mm is not None and min_wall_mm < 2 * nozzle_mm:
        warnings.append(f"thinnest wall {min_wall_mm:.2f} mm is under two {nozzle_mm} mm nozzle widths")
    if bodies > 1:
        warnings.append(f"{bodies} separate parts: each prints on its own; add a base plate (base_mm) to join them")
    if any(e > p + 1e-6 for e, p in zip(sorted(extents), sorted(printer_mm), strict=True)):
        size = " × ".join(f"{p:g}" for p in printer_mm)
        warnings.append(f"larger than a {size} mm print volume: lower size_mm or split the model")
    return Report(watertight, winding, volume, extents, len(mesh.faces), min_wall_mm, tuple(warnings), bodies,
                  printer)
