"""What every mesh method returns: the solid and facts about how it was made."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import trimesh


@dataclass
class MeshResult:
    """A watertight mesh in millimetres plus method facts for the manifest.

    ``info`` holds at least ``grid`` (samples used), ``achieved_max_error_mm`` (largest vertical gap
    between the surface and the sampled height field) and ``min_wall_mm`` (thinnest wall by
    construction).
    """

    mesh: trimesh.Trimesh
    info: dict[str, Any] = field(default_factory=dict)
