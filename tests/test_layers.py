"""The one-way layers of DESIGN.md, proven by importing each layer in a fresh interpreter."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import orfeas_nb

pytestmark = pytest.mark.unit

HEAVY = ("torch", "diffusers", "transformers", "ipywidgets", "pythreejs")
PACKAGE_DIR = Path(orfeas_nb.__file__).parent


def loaded_after(*imports: str) -> set[str]:
    """Top-level and orfeas_nb module names present in sys.modules after the given imports."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {list(imports)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout))


def modules_of(subpackage: str) -> list[str]:
    folder = PACKAGE_DIR / subpackage
    prefix = f"orfeas_nb.{subpackage}."
    return [f"orfeas_nb.{subpackage}"] + [m.name for m in pkgutil.walk_packages([str(folder)], prefix)]


def test_import_orfeas_nb_loads_nothing_heavy():
    loaded = loaded_after("orfeas_nb")
    assert not [name for name in HEAVY if name in loaded]


def test_core_imports_no_upper_layer():
    loaded = loaded_after("orfeas_nb.errors", "orfeas_nb.config", "orfeas_nb.validation", "orfeas_nb.files", "orfeas_nb.timing")
    upper = {"orfeas_nb.api", "orfeas_nb.mesh", "orfeas_nb.pipeline", "orfeas_nb.monitoring", "orfeas_nb.widgets"}
    assert not upper & loaded
    assert not [name for name in HEAVY if name in loaded]


def test_mesh_engine_never_imports_torch_or_other_layers():
    loaded = loaded_after(*modules_of("mesh"))
    assert "torch" not in loaded
    assert not {"orfeas_nb.pipeline", "orfeas_nb.widgets", "orfeas_nb.monitoring", "orfeas_nb.api"} & loaded


def test_pipeline_never_imports_mesh_monitoring_or_widgets():
    loaded = loaded_after(*modules_of("pipeline"))
    assert not {"orfeas_nb.mesh", "orfeas_nb.widgets", "orfeas_nb.monitoring", "orfeas_nb.api", "trimesh"} & loaded
