"""What ``orfeas doctor`` reports: versions, compute device and settings, without loading torch eagerly."""

from __future__ import annotations

import platform
from collections.abc import Callable

from . import config
from .api import package_versions

Section = tuple[str, list[tuple[str, object]]]


def versions_section() -> Section:
    """Python and package versions."""
    extra = ("torch", "diffusers", "transformers", "jupyterlab", "ipywidgets", "pythreejs", "prometheus-client")
    rows: list[tuple[str, object]] = [("python", platform.python_version())]
    rows += list(package_versions(extra).items())
    return "versions", rows


def settings_section() -> Section:
    """Every ORFEAS_* setting in force."""
    return "settings", [(env, value) for env, value, _doc in config.describe()]


def device_section() -> Section:
    """The compute device, its dtype and free memory (imports torch)."""
    from .pipeline.device import describe

    return "device", describe()


def models_section() -> Section:
    """Which default models are present locally, and where."""
    from .pipeline.models import hub_cache, inventory

    return "models", [("hugging face cache", hub_cache()), *inventory()]


SECTIONS: list[Callable[[], Section]] = [versions_section, device_section, models_section, settings_section]


def sections() -> list[Section]:
    """Every doctor section, in order."""
    return [make() for make in SECTIONS]
