"""orfeas_nb: a Jupyter-native 2D→3D studio.

    >>> import orfeas_nb
    >>> model = orfeas_nb.image_to_3d(orfeas_nb.samples.path("shapes"), method="relief", quality=3)
    >>> model.export("shapes.stl")  # doctest: +SKIP

Importing this package is cheap: the mesh engine, torch, diffusers and the widgets load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "image_to_3d": ("orfeas_nb.api", "image_to_3d"),
    "methods": ("orfeas_nb.api", "methods"),
    "catalogue": ("orfeas_nb.catalogue", None),
    "text_to_image": ("orfeas_nb.api", "text_to_image"),
    "text_to_3d": ("orfeas_nb.api", "text_to_3d"),
    "Model3D": ("orfeas_nb.model", "Model3D"),
    "connect": ("orfeas_nb.client", "connect"),
    "Client": ("orfeas_nb.client", "Client"),
    "reproduce": ("orfeas_nb.reproduction", "reproduce"),
    "Studio": ("orfeas_nb.widgets", "Studio"),
    "samples": ("orfeas_nb.samples", None),
    "errors": ("orfeas_nb.errors", None),
    "config": ("orfeas_nb.config", None),
    "OrfeasError": ("orfeas_nb.errors", "OrfeasError"),
    "batch": ("orfeas_nb.batch", None),
    "monitoring": ("orfeas_nb.monitoring", None),
}

__all__ = [*sorted(_LAZY), "__version__"]


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'orfeas_nb' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext orfeas_nb``: register the ``%orfeas`` magic (imports the widgets only when used)."""
    from .magics import load_ipython_extension as load

    load(ipython)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
