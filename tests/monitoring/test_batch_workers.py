"""Batch workers on the same machine report into the multiprocess folder they inherit (e.g. from a Jupyter terminal)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest

from orfeas_nb.monitoring.multiprocess import aggregate, prepare_dir

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GENERATE = """
import orfeas_nb
if fail:
    orfeas_nb.image_to_3d(b"not an image")
orfeas_nb.image_to_3d(orfeas_nb.samples.path("shapes"), quality=1, size_mm=size_mm)
"""


def test_orfeas_batch_runs_are_counted_in_the_shared_folder(tmp_path):
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": kernelspec})
    notebook.cells = [
        nbformat.v4.new_code_cell("size_mm = 20.0\nfail = False", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(GENERATE),
    ]
    nbformat.write(notebook, tmp_path / "generate.ipynb")
    (tmp_path / "params.json").write_text(json.dumps({"runs": [{"size_mm": 30.0}, {"fail": True}]}))
    folder = prepare_dir(tmp_path / "metrics")
    result = subprocess.run(
        [sys.executable, "-m", "orfeas_nb", "batch", "generate.ipynb", "--params", "params.json", "-o", "runs",
         "--workers", "1"],
        cwd=tmp_path, env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}, capture_output=True, text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr  # the run asked to fail did fail
    assert "2 runs: 1 ok" in result.stdout
    registry = aggregate(folder)
    labels = {"type": "image_to_3d", "provider": "relief"}
    assert registry.get_sample_value("orfeas_generations_total", {**labels, "status": "success"}) == 1
    assert registry.get_sample_value("orfeas_generations_total", {**labels, "status": "failed"}) == 1
