"""Printability facts about a mesh: closed or not, volume, size, triangles, thin walls."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import trimesh


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
            f"triangles: {self.triangles:,}   thinnest wall: {wall}",
        ]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def report(mesh: trimesh.Trimesh, *, min_wall_mm: float | None = None, nozzle_mm: float = 0.4) -> Report:
    """Check ``mesh`` for printing; ``min_wall_mm`` is the thinnest wall if the builder knows it."""
    watertight = bool(mesh.is_watertight)
    winding = bool(mesh.is_winding_consistent)
    extents = tuple(float(v) for v in (mesh.extents if len(mesh.vertices) else np.zeros(3)))
    volume = float(mesh.volume) if watertight else 0.0
    warnings = []
    if not watertight:
        warnings.append("the mesh is not closed: slicers may fill or drop parts; try Model3D.repair()")
    if min_wall_mm is not None and min_wall_mm < 2 * nozzle_mm:
        warnings.append(f"thinnest wall {min_wall_mm:.2f} mm is under two {nozzle_mm} mm nozzle widths")
    return Report(watertight, winding, volume, extents, int(len(mesh.faces)), min_wall_mm, tuple(warnings))
