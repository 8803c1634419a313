"""The public functions: validate, pick a backend, time it, and return a :class:`Model3D`."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import time
from typing import Any

from . import config
from .errors import InvalidInput, mapped_errors
from .mesh.methods import METHODS
from .mesh.quality import level
from .model import Model3D
from .timing import Stages
from .validation import check_number, load_image

_VERSIONED = ("orfeas_nb", "numpy", "scipy", "pillow", "trimesh")


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Installed versions of the packages that shaped a result (without importing them)."""
    versions = {}
    for name in _VERSIONED + extra:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _check_common(quality: Any, size_mm: Any) -> tuple[int, float]:
    quality = check_number("quality", quality, 1, 10, integer=True)
    size_mm = check_number("size_mm", size_mm, config.get("min_size_mm"), config.get("max_size_mm"))
    return quality, size_mm


def image_to_3d(image: Any, *, method: str = "relief", quality: int = 7, size_mm: float = 100.0, **options: Any) -> Model3D:
    """Turn an image into a watertight, printable 3D model whose longest side is ``size_mm``.

    ``image`` is a path, bytes, a PIL image or a numpy array. ``quality`` (1–10) trades triangles and
    time for detail. ``options`` are the method's own (see ``orfeas_nb.methods()``).

    >>> model = image_to_3d(orfeas_nb.samples.path("logo"), method="relief", quality=2, size_mm=50)
    >>> round(max(model.mesh.extents), 3)
    50.0
    """
    started = time.perf_counter()
    stages = Stages()
    if method not in METHODS:
        raise InvalidInput(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    mesh_method = METHODS[method]
    quality, size_mm = _check_common(quality, size_mm)
    resolved = mesh_method.resolve(options)
    with stages("load"):
        loaded = load_image(image)
    with mapped_errors(f"image_to_3d({method})"), stages("mesh"):
        lvl = level(quality, size_mm, max(loaded.size))
        result = mesh_method.run(loaded.image, size_mm=size_mm, level=lvl, options=resolved, stages=stages)
    manifest = {
        "task": "image_to_3d",
        "method": method,
        "parameters": {"quality": quality, "size_mm": size_mm, **resolved},
        "seed": None,
        "model": None,
        "input": {"sha256": loaded.sha256, "format": loaded.format, "size_px": list(loaded.size)},
        "versions": package_versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "triangles": len(result.mesh.faces),
        "max_error_mm_target": lvl.max_error_mm,
        **result.info,
        "timings_s": {**stages.rounded(), "total": round(time.perf_counter() - started, 4)},
    }
    return Model3D(result.mesh, manifest)


def methods() -> dict[str, str]:
    """Every image→3D method with a one-line summary.

    >>> "relief" in methods()
    True
    """
    return {name: m.summary for name, m in METHODS.items()}
