"""The weight-free image→3D methods: name → :class:`MeshMethod` (faces read them through :func:`orfeas_nb.catalogue`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from ..timing import Stages
from . import extrude, inflate, lithophane, printer, relief
from .options import Option
from .quality import QualityLevel
from .result import MeshResult

Builder = Callable[..., MeshResult]


@dataclass(frozen=True)
class MeshMethod:
    """A named image→3D method: how it builds a mesh and which options it takes."""

    name: str
    summary: str
    build: Builder
    options: tuple[Option, ...]

    def run(self, image: Image.Image, *, size_mm: float, level: QualityLevel, options: dict, stages: Stages) -> MeshResult:
        """Build the mesh from a checked image with already resolved options."""
        return self.build(image, size_mm=size_mm, level=level, options=options, stages=stages)


METHODS: dict[str, MeshMethod] = {
    m.name: m
    for m in (
        MeshMethod("relief", "brightness or alpha → height above a flat base", relief.build,
                   (*relief.OPTIONS, *printer.OPTIONS)),
        MeshMethod(
            "lithophane",
            "dark → thick plate for back-lit prints, flat or curved",
            lithophane.build,
            (*lithophane.OPTIONS, *printer.OPTIONS),
        ),
        MeshMethod("extrude", "silhouette (alpha or plain background) → extruded solid", extrude.build,
                   (*extrude.OPTIONS, *printer.OPTIONS)),
        MeshMethod("inflate", "silhouette → rounded balloon, closed and smooth", inflate.build,
                   (*inflate.OPTIONS, *printer.OPTIONS)),
    )
}
