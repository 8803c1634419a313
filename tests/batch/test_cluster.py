"""Local batch workers: forked from a preloaded fork server, with the client's current environment."""

from __future__ import annotations

import os
import sys

import pytest

from orfeas_nb.batch import cluster, run

from tests.batch.conftest import write_notebook

pytestmark = [pytest.mark.integration, pytest.mark.notebook]


@pytest.mark.skipif("forkserver" not in __import__("multiprocessing").get_all_start_methods(), reason="no fork server")
def test_local_workers_start_with_papermill_already_loaded():
    with cluster.client(2, None) as client:
        found = client.run(lambda: ("papermill" in sys.modules, os.getppid()))
    assert [loaded for loaded, _ in found.values()] == [True, True], found  # no import left to pay per worker
    assert all(parent != os.getpid() for _, parent in found.values()), "workers come from the fork server"


def test_workers_see_variables_set_after_the_fork_server_started(tmp_path, monkeypatch):
    cluster.warm_up()  # a server started (and its environment copied) before the variable existed
    monkeypatch.setenv("ORFEAS_TEST_GREETING", "set late")
    notebook = write_notebook(
        tmp_path / "env.ipynb",
        "import os, pathlib\npathlib.Path(output_dir).mkdir(parents=True, exist_ok=True)\n"
        "(pathlib.Path(output_dir) / 'greeting.txt').write_text(os.environ.get('ORFEAS_TEST_GREETING', 'missing'))",
        parameters="output_dir = 'out'  # where files go",
    )
    result = run(notebook, {"runs": [{}]}, tmp_path / "runs", workers=1, progress=False)
    [record] = result.runs
    assert record["status"] == "ok", record
    assert (tmp_path / "runs" / record["run"] / "outputs" / "greeting.txt").read_text() == "set late"
