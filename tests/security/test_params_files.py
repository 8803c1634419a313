"""Batch parameter files from a shared folder are untrusted: they must be refused cleanly, never obeyed.

The YAML alias bomb and deep nesting were gaps in ``orfeas_nb/batch/params.py`` (pinned here as strict
xfails); params.py now refuses aliases and maps RecursionError to bad input, so they are plain tests.
"""

from __future__ import annotations

import resource
import subprocess
import sys

import nbformat
import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.security, pytest.mark.integration, pytest.mark.slow]  # a CLI process per hostile file


@pytest.fixture
def notebook(tmp_path):
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]})]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def _limits() -> None:  # the child may use at most 1.5 GB: a bomb fails fast instead of taking the machine
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**29, 3 * 2**29))


def batch(notebook, params, tmp_path, timeout=60):
    return subprocess.run([sys.executable, "-m", "orfeas_nb", "batch", str(notebook), "--params", str(params),
                           "-o", str(tmp_path / "runs")], capture_output=True, text=True, cwd=ROOT, timeout=timeout,
                          preexec_fn=_limits)


def test_yaml_tags_that_would_run_code_are_refused(notebook, tmp_path):
    params = tmp_path / "evil.yaml"
    marker = tmp_path / "pwned"
    params.write_text(f'runs:\n  - {{x: !!python/object/apply:os.system ["touch {marker}"]}}\n')
    result = batch(notebook, params, tmp_path)
    assert result.returncode == 2 and "is not valid YAML" in result.stderr
    assert not marker.exists() and not (tmp_path / "runs").exists()


def test_a_yaml_alias_bomb_is_refused_quickly(notebook, tmp_path):
    lines = ["common:", '  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    params = tmp_path / "bomb.yaml"
    params.write_text("\n".join([*lines, "runs:", "  - {x: 1}"]) + "\n")
    assert params.stat().st_size < 700
    try:
        # expanded, the aliases are 9**9 strings (minutes and gigabytes); 60 s leaves room for a loaded machine
        result = batch(notebook, params, tmp_path, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("a 600-byte parameter file kept orfeas batch busy for 60 s")
    assert result.returncode == 2, result.stderr[-300:]


def test_deeply_nested_json_is_bad_input(notebook, tmp_path):
    params = tmp_path / "deep.json"
    params.write_text('{"runs": [{"x": ' + "[" * 100_000 + "]" * 100_000 + "}]}")
    result = batch(notebook, params, tmp_path)
    assert result.returncode == 2, result.stderr
