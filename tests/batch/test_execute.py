"""One run on its own (no Dask): what papermill did, where it failed, which files it wrote."""

from __future__ import annotations

import json

import pytest

from orfeas_nb.batch.execute import execute_run

pytestmark = [pytest.mark.integration, pytest.mark.notebook]


def test_a_run_returns_the_executed_notebook_and_every_file_it_wrote(square_notebook):
    result = execute_run(square_notebook.read_text(), {"x": 7}, output_param="output_dir")
    assert result["status"] == "ok" and result["error"] is None
    assert result["files"] == {"square.txt": b"49", "sub/x.txt": b"7"}
    executed = json.loads(result["notebook"])
    injected = executed["cells"][1]
    assert "injected-parameters" in injected["metadata"]["tags"]
    assert "x = 7" in "".join(injected["source"])


def test_a_failing_cell_is_reported_with_its_index_exception_and_message(square_notebook):
    result = execute_run(square_notebook.read_text(), {"x": 3, "fail": True}, output_param="output_dir")
    assert result["status"] == "failed"
    # cell 0 parameters, 1 injected parameters, 2 setup, 3 the raise
    assert result["error"] == {"cell_index": 3, "ename": "ValueError", "evalue": "asked to fail at x=3"}
    assert "asked to fail at x=3" in result["notebook"]  # the traceback stays in the executed notebook
    assert result["files"] == {}


def test_a_kernel_that_cannot_start_fails_the_run_not_the_caller(square_notebook):
    result = execute_run(square_notebook.read_text(), {"x": 1}, output_param="output_dir", kernel_name="no-such-kernel")
    assert result["status"] == "failed"
    assert result["error"]["cell_index"] is None
    assert result["error"]["ename"] == "NoSuchKernel"
    assert "no-such-kernel" in result["error"]["evalue"]
