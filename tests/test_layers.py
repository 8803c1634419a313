"""The layers of DESIGN.md: import-linter contracts (pyproject.toml [tool.importlinter]), proven to bite.

import-linter reads every ``import`` statement, those inside functions included; the contracts are run
here and in ``.ci/run``. ``import orfeas_nb`` staying light is a runtime property, checked in a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import orfeas_nb

pytestmark = pytest.mark.unit

HEAVY = ("torch", "diffusers", "transformers", "ipywidgets", "pythreejs")
ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"]


def lint_imports(project: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the package and pyproject.toml found in ``project``."""
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run([*LINT_IMPORTS, "--no-logo", "--no-cache"], cwd=project, env=env, capture_output=True, text=True)


def test_import_orfeas_nb_loads_nothing_heavy():
    code = "import json, sys, orfeas_nb\nprint(json.dumps(sorted(sys.modules)))"
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout))
    assert not [name for name in HEAVY if name in loaded]


def test_the_package_keeps_every_import_contract():
    assert Path(orfeas_nb.__file__).resolve().parent == ROOT / "orfeas_nb", "checking another copy of the package"
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout and "Layers point down" in result.stdout


PLANTED = {
    # file of a copy of the package: (a function appended to it, the contract it breaks, what the report names)
    "mesh/relief.py": (
        "def _planted_view(mesh):\n    from ..widgets.view import mesh_view\n\n    return mesh_view(mesh)\n",
        "Layers point down: faces -> api -> engines -> core BROKEN",
        "orfeas_nb.mesh.relief -> orfeas_nb.widgets.view",
    ),
    "mesh/export.py": (
        "def _planted_tensor(vertices):\n    import torch\n\n    return torch.as_tensor(vertices)\n",
        "mesh never imports torch, diffusers, transformers or the widgets' libraries BROKEN",
        "orfeas_nb.mesh.export -> torch",
    ),
    "batch/forks.py": (
        "def _planted_cycle():\n    from . import warm_kernels\n\n    return warm_kernels\n",
        "no import cycles between sibling modules anywhere in the package BROKEN",
        "No cycles are allowed in orfeas_nb.batch.",
    ),
}


def test_violations_planted_inside_functions_fail_the_check_and_are_named(tmp_path):
    shutil.copytree(ROOT / "orfeas_nb", tmp_path / "orfeas_nb", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    assert lint_imports(tmp_path).returncode == 0  # the copy itself is clean
    for name, (function, _, _) in PLANTED.items():
        with open(tmp_path / "orfeas_nb" / name, "a", encoding="utf-8") as module:
            module.write("\n\n" + function)
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    for _, broken, named in PLANTED.values():
        assert broken in result.stdout and named in result.stdout, result.stdout
    assert "Contracts: 2 kept, 3 broken." in result.stdout
