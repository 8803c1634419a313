"""Learned image→3D methods for :mod:`orfeas_nb.api`: run a pipeline model, then make a printable solid.

- ``depth``: a depth-estimation model's relative depth → :func:`orfeas_nb.mesh.relief.solid_from_heights`.
- ``shap-e``: Shap-E's closed surface → a trimesh scaled so its longest side is ``size_mm``, standing on
  z = 0, repaired if needed and refused if it cannot be made watertight.

Besides their mesh options these methods take run keywords (:data:`RUN_KEYS`): ``model`` (hub id or
folder), ``seed``, ``steps``, ``progress``, ``callback(step, total)`` and ``cancel`` (a threading.Event).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import trimesh
from PIL import Image

from .errors import OrfeasError
from .mesh import printer, relief
from .mesh.options import Option
from .mesh.quality import QualityLevel
from .mesh.result import MeshResult
from .pipeline.parameters import SEED, SHAP_E_GUIDANCE, SHAP_E_STEPS
from .timing import Stages

RUN_KEYS = ("model", "seed", "steps", "progress", "callback", "cancel")
_NOT_FOR_DEPTH = ("source", "invert", "gamma")


@dataclass(frozen=True)
class LearnedMethod:
    """An image→3D method that needs model weights.

    ``options`` are its mesh options, ``text_options`` those it takes when it reads a prompt itself
    (``reads_prompt``), ``run_options`` the checked run keywords of its model (seed, steps).
    """

    name: str
    summary: str
    options: tuple[Option, ...]
    run_options: tuple[Option, ...] = ()
    text_options: tuple[Option, ...] | None = None
    reads_prompt: bool = False


DEPTH_OPTIONS = (
    *(opt for opt in relief.OPTIONS if opt.name not in _NOT_FOR_DEPTH),
    Option("invert", False, "far becomes high instead of near (for metric-depth models, where larger is farther)",
           label="Invert depth"),
    *printer.OPTIONS,
)
LEARNED: dict[str, LearnedMethod] = {
    "depth": LearnedMethod("depth", "depth model (Depth Anything) → relief; needs weights: -O model=ID|DIR", DEPTH_OPTIONS),
    "shap-e": LearnedMethod(
        "shap-e",
        "Shap-E image→3D → closed learned mesh; needs weights: -O model=ID|DIR, seed=N, steps=N",
        (SHAP_E_GUIDANCE["image"],),
        run_options=(SEED, SHAP_E_STEPS),
        text_options=(SHAP_E_GUIDANCE["text"],),
        reads_prompt=True,
    ),
}


def split_run_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate run keywords (model, seed, steps, hooks) from mesh options."""
    run = {key: options[key] for key in RUN_KEYS if key in options}
    rest = {key: value for key, value in options.items() if key not in RUN_KEYS}
    return run, rest


def check_depth_model(model: str | None) -> None:
    """Find the depth model (default ``ORFEAS_DEPTH_MODEL``) without loading it: missing or of the wrong kind raises
    :class:`~orfeas_nb.errors.ModelUnavailable`."""
    from .pipeline.models import resolve

    resolve("depth", model)


def depth_solid(
    image: Image.Image, *, size_mm: float, level: QualityLevel, options: dict, stages: Stages, run: dict
) -> tuple[MeshResult, dict[str, Any]]:
    """Relief from the depth model's relative depth (near = high unless ``invert``)."""
    from .pipeline import depth

    with stages("depth"):
        estimated = depth.estimate(image, **run)
    relative = 1.0 - estimated.depth if options["invert"] else estimated.depth
    mesh_options = {key: value for key, value in options.items() if key != "invert"}
    result = relief.solid_from_heights(relative, size_mm=size_mm, level=level, options=mesh_options, stages=stages)
    record = {"model": estimated.model, "seed": None, "device": estimated.device, "dtype": estimated.dtype}
    return result, record


def solid_from_surface(vertices: np.ndarray, faces: np.ndarray, size_mm: float) -> trimesh.Trimesh:
    """A watertight solid from a closed surface: outward normals, longest side ``size_mm``, resting on z = 0.

    Holes are filled if possible; a surface that stays open raises :class:`OrfeasError`.

    >>> box = trimesh.creation.box((2.0, 1.0, 1.0))
    >>> solid_from_surface(box.vertices, box.faces, 50.0).extents.tolist()
    [50.0, 25.0, 25.0]
    """
    mesh = trimesh.Trimesh(np.asarray(vertices, dtype=np.float64), np.asarray(faces, dtype=np.int64), process=True)
    mesh.update_faces(mesh.nondegenerate_faces())
    mesh.remove_unreferenced_vertices()
    if not mesh.is_watertight:
        trimesh.repair.fill_holes(mesh)
        trimesh.repair.fix_normals(mesh)
    if len(mesh.faces) == 0 or not mesh.is_watertight:
        raise OrfeasError(
            "the learned mesh has holes that could not be closed, so it is not printable; try another seed or a higher quality"
        )
    if mesh.volume < 0:
        mesh.invert()
    mesh.apply_scale(size_mm / float(max(mesh.extents)))
    mesh.apply_translation(-mesh.bounds[0])
    return mesh


def shap_e_solid(
    subject: str | Image.Image, *, kind: str, quality: int, size_mm: float, options: dict, stages: Stages, run: dict
) -> tuple[MeshResult, dict[str, Any]]:
    """Shap-E from a prompt (``kind="text"``) or picture (``kind="image"``) → printable solid."""
    from .pipeline import shap_e

    with stages("shap_e"):
        surface = shap_e.generate(subject, kind=kind, quality=quality, guidance_scale=options["guidance_scale"], **run)
    with stages("repair"):
        mesh = solid_from_surface(surface.vertices, surface.faces, size_mm)
    info = {key: surface.info[key] for key in ("steps", "guidance_scale", "grid")}
    record = {key: surface.info[key] for key in ("model", "seed", "device", "dtype")}
    return MeshResult(mesh, {**info, "min_wall_mm": None}), record
