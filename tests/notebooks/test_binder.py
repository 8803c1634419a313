"""Binder: the files repo2docker reads, the build plan it makes, and a fresh environment built from them."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"


@pytest.mark.unit
def test_binder_files_ask_for_python_311_cpu_torch_and_install_the_package():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"  # "3.11" alone is not understood
    requirements = [line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines()]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in requirements
    ci_torch = re.search(r'"torch==([\d.]+)"', (ROOT / ".ci" / "run").read_text()).group(1)
    assert f"torch=={ci_torch}" in requirements  # the same torch CI tests with
    post_build = BINDER / "postBuild"
    assert post_build.stat().st_mode & stat.S_IXUSR
    script = post_build.read_text()
    assert script.startswith("#!/bin/bash") and "set -euo pipefail" in script
    extras = re.search(r'pip install --no-cache-dir "\.\[([\w,]+)\]"', script).group(1).split(",")
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(extras) <= set(declared) and {"notebook", "batch"} <= set(extras)
    opens = re.search(r'default_url = "/lab/tree/([^"]+)"', script).group(1)
    assert opens == "notebooks/quickstart.ipynb" and (ROOT / opens).is_file()


@pytest.mark.slow
@pytest.mark.integration
# repo2docker imports python-json-logger's old module path, which now warns on import
@pytest.mark.filterwarnings("ignore:pythonjsonlogger.jsonlogger has been moved:DeprecationWarning")
def test_repo2docker_plans_a_python_buildpack_from_the_binder_folder(monkeypatch):
    from repo2docker.app import Repo2Docker
    from repo2docker.buildpacks import PythonBuildPack

    plan = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", "--debug", "--no-run", str(ROOT)],
        capture_output=True, text=True, errors="replace", timeout=120,
    )
    assert plan.returncode == 0, plan.stderr[-2000:]
    dockerfile = plan.stdout + plan.stderr
    assert "python=3.11" in dockerfile
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    assert "RUN ./binder/postBuild" in dockerfile
    monkeypatch.chdir(ROOT)  # repo2docker detects buildpacks in the working folder, in this order
    picked = next(bp for bp in Repo2Docker().buildpacks if bp(base_image="buildpack-deps:24.04").detect())
    assert picked is PythonBuildPack


@pytest.mark.slow
@pytest.mark.integration
def test_a_fresh_venv_from_the_binder_files_runs_the_quickstart(tmp_path):
    """What Binder does, minus Docker: requirements, then postBuild, then the quickstart under papermill.

    PyTorch's CPU index is not reachable here, so its line is dropped and ``torch==2.13.0`` resolves to
    the CPU wheel pip finds locally (as CI installs it); everything else comes from the package index.
    """
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    requirements = tmp_path / "requirements.txt"
    lines = (BINDER / "requirements.txt").read_text().splitlines()
    requirements.write_text("\n".join(line for line in lines if not line.startswith("--extra-index-url")) + "\n")
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path / "home"),
           "VIRTUAL_ENV": str(venv), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    (tmp_path / "home").mkdir()

    def step(*command, cwd=ROOT, timeout=1500):
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, errors="replace", timeout=timeout)
        assert done.returncode == 0, f"{command}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    step(str(python), "-m", "pip", "install", "-q", "-r", str(requirements))
    step("bash", str(BINDER / "postBuild"))
    probe = "import torch, orfeas_nb; print(torch.version.cuda, orfeas_nb.__file__)"
    cuda = step(str(python), "-c", probe, cwd=tmp_path).stdout.split()
    assert cuda[0] == "None" and cuda[1].startswith(str(venv))  # CPU torch, and the package from the venv
    assert "quickstart.ipynb" in (tmp_path / "home" / ".jupyter" / "jupyter_server_config.py").read_text()

    out = tmp_path / "quickstart-out"
    step(str(python), "-m", "papermill", str(ROOT / "notebooks" / "quickstart.ipynb"), str(tmp_path / "executed.ipynb"),
         "-p", "output_dir", str(out), "-p", "quality", "3", "--kernel", "python3", "--cwd", str(tmp_path),
         cwd=tmp_path, timeout=600)
    assert sorted(p.name for p in out.iterdir()) == ["shapes.manifest.json", "shapes.png", "shapes.stl"]
