"""Local batch workers forked from a preloaded fork server; warm kernels forked from a preloaded one."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys

import pytest

from orfeas_nb.batch import cluster, run
from tests.batch.conftest import write_notebook

pytestmark = [pytest.mark.integration, pytest.mark.notebook, pytest.mark.slow]  # Dask clusters
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="warm kernels are forked on Linux only")


@pytest.mark.skipif("forkserver" not in multiprocessing.get_all_start_methods(), reason="no fork server")
def test_local_workers_start_with_papermill_already_loaded_and_leave_ctrl_c_to_the_client():
    with cluster.client(2, None) as client:
        found = client.run(lambda: ("papermill" in sys.modules, os.getppid(), signal.getsignal(signal.SIGINT)))
    assert [loaded for loaded, _, _ in found.values()] == [True, True], found  # no import left to pay per worker
    assert all(parent != os.getpid() for _, parent, _ in found.values()), "workers come from the fork server"
    assert all(handler == signal.SIG_IGN for _, _, handler in found.values())


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


@pytest.fixture
def probe_notebook(tmp_path):
    """Writes what the kernel found at its first cell: preloaded modules, a random number, pid, folder."""
    return write_notebook(
        tmp_path / "probe.ipynb",
        "import json, os, pathlib, sys\nimport numpy as np\nfound = {'api_loaded': 'orfeas_nb.api' in sys.modules, "
        "'random': int(np.random.randint(2**31)), 'pid': os.getpid(), 'pgid': os.getpgid(0), 'cwd': os.getcwd(), "
        "'argv0': sys.argv[0], 'name': __name__}\n"
        "pathlib.Path(output_dir).mkdir(parents=True, exist_ok=True)\n"
        "(pathlib.Path(output_dir) / 'found.json').write_text(json.dumps(found))",
        parameters="n = 0  # which run\noutput_dir = 'out'  # where files go",
    )


def probe(notebook, tmp_path, runs):
    """Run the probe ``runs`` times in a one-worker batch (the path users take): what each kernel found."""
    result = run(notebook, {"grid": {"n": list(range(runs))}}, tmp_path / "runs", workers=1, progress=False,
                 cwd=tmp_path)
    assert [r["status"] for r in result.runs] == ["ok"] * runs, result.runs
    return [(json.loads((result.out / r["run"] / "outputs" / "found.json").read_text()), r["kernel"]) for r in result.runs]


@linux_only
def test_warm_kernels_start_loaded_seeded_apart_and_in_a_group_of_their_own(probe_notebook, tmp_path):
    (first, how), (second, _) = probe(probe_notebook, tmp_path, 2)
    assert how.startswith("warm")
    assert first["api_loaded"] and second["api_loaded"]  # imported once by the worker's server, not by each run
    assert first["random"] != second["random"], "forked kernels must not share NumPy's random state"
    assert first["pid"] != second["pid"] and first["pgid"] == first["pid"] != os.getpgid(0)
    assert first["cwd"] == str(tmp_path) and first["argv0"].endswith("ipykernel_launcher.py")
    assert first["name"] == "__main__"


def test_preload_none_starts_every_kernel_afresh(probe_notebook, tmp_path, monkeypatch):
    monkeypatch.setenv("ORFEAS_BATCH_PRELOAD", "none")
    [(found, how)] = probe(probe_notebook, tmp_path, 1)
    assert how == "new process" and not found["api_loaded"]
    assert found["cwd"] == str(tmp_path) and found["name"] == "__main__"
