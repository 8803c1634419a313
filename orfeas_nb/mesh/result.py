"""What every mesh method returns: the solid and facts about how it was made."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import trimesh

from ..errors import InvalidInput


@dataclass
class MeshResult:
    """A watertight mesh in millimetres plus method facts for the manifest.

    ``info`` holds at least ``grid`` (samples used), ``achieved_max_error_mm`` (largest vertical gap
    between the surface and the sampled height field) and ``min_wall_mm`` (thinnest wall by
    construction).
    """

    mesh: trimesh.Trimesh
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        with np.errstate(over="ignore", invalid="ignore"):
            finite = np.isfinite(np.asarray(self.mesh.vertices, dtype=np.float32)).all()
        if not finite:  # a size or option so large that float32 files would hold inf: refuse, never write it
            raise InvalidInput("the model's coordinates overflow (inf or NaN); use a smaller size_mm or option values")
