"""``orfeas batch`` refuses a bad output folder, time limit or parameter file before anything starts.

"Nothing started" is checked directly: the cluster module's entry points are replaced by ones that
record any call, and no file or folder appears.
"""

from __future__ import annotations

import os

import pytest

from orfeas_nb.batch import cluster
from orfeas_nb.errors import InvalidInput

pytestmark = pytest.mark.unit


@pytest.fixture
def started(monkeypatch):
    """Every call to start a cluster or a fork server, by name: it must stay empty."""
    calls = []
    monkeypatch.setattr(cluster, "warm_up", lambda *a, **k: calls.append("warm_up"))
    monkeypatch.setattr(cluster, "client", lambda *a, **k: calls.append("client"))
    return calls


@pytest.fixture
def inputs(square_notebook, tmp_path):
    (tmp_path / "p.yaml").write_text("grid: {x: [1, 2]}\n")
    return square_notebook, tmp_path / "p.yaml"


def files_under(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_an_output_folder_under_a_file_exits_2_before_anything_starts(cli, inputs, tmp_path, started):
    (tmp_path / "taken").write_text("a file")
    before = files_under(tmp_path)
    result = cli("batch", *inputs[:1], "--params", inputs[1], "-o", tmp_path / "taken" / "runs")
    assert result.exit_code == 2
    taken = tmp_path / "taken"
    assert result.stderr == f"error: cannot create the output folder {taken}/runs: {taken} is a file, not a folder\n"
    assert started == [] and files_under(tmp_path) == before


def test_an_output_path_that_is_a_file_exits_2_in_the_cli_and_in_python(cli, inputs, tmp_path, started):
    from orfeas_nb import batch

    (tmp_path / "runs.txt").write_text("a file")
    result = cli("batch", inputs[0], "--params", inputs[1], "-o", tmp_path / "runs.txt")
    assert result.exit_code == 2 and "is a file" in result.stderr and "Traceback" not in result.stderr
    with pytest.raises(InvalidInput, match=r"the output folder .*runs.txt is a file; give a folder"):
        batch.run(inputs[0], inputs[1], tmp_path / "runs.txt")
    (tmp_path / "runs" / "summary.csv").mkdir(parents=True)
    with pytest.raises(InvalidInput, match=r"summary.csv is a folder; move it away"):
        batch.run(inputs[0], inputs[1], tmp_path / "runs")
    assert started == [] and (tmp_path / "runs.txt").read_text() == "a file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder: see the os.access test below")
def test_an_unwritable_output_folder_exits_2_before_anything_starts(cli, inputs, tmp_path, started):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        result = cli("batch", inputs[0], "--params", inputs[1], "-o", locked / "runs")
    finally:
        locked.chmod(0o700)
    assert result.exit_code == 2 and f"cannot write to {locked}: permission denied" in result.stderr
    assert started == [] and not (locked / "runs").exists()


def test_a_folder_the_system_says_is_unwritable_exits_2_before_anything_starts(cli, inputs, tmp_path, started, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **k: False if str(path) == str(locked) else real_access(path, mode, **k))
    result = cli("batch", inputs[0], "--params", inputs[1], "-o", locked / "runs" / "deeper")
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write to {locked}: permission denied; choose another output folder\n"
    assert started == [] and files_under(locked) == []


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "-inf"])
def test_a_timeout_that_is_not_a_finite_positive_number_exits_2(cli, inputs, tmp_path, started, value, monkeypatch):
    result = cli("batch", inputs[0], "--params", inputs[1], "-o", tmp_path / "o", "--timeout", value)
    assert result.exit_code == 2 and "--timeout" in result.stderr and "finite number of seconds above 0" in result.stderr
    monkeypatch.setenv("ORFEAS_BATCH_RUN_TIMEOUT", value)
    result = cli("batch", inputs[0], "--params", inputs[1], "-o", tmp_path / "o")
    assert result.exit_code == 2 and result.stderr.startswith("error: ORFEAS_BATCH_RUN_TIMEOUT")
    assert started == [] and not (tmp_path / "o").exists()


def test_the_timeout_setting_defaults_to_an_hour_and_refuses_text(cli, inputs, tmp_path, started, monkeypatch):
    from orfeas_nb import config

    monkeypatch.delenv("ORFEAS_BATCH_RUN_TIMEOUT", raising=False)
    assert config.get("batch_run_timeout") == 3600.0
    monkeypatch.setenv("ORFEAS_BATCH_RUN_TIMEOUT", "an hour")
    result = cli("batch", inputs[0], "--params", inputs[1], "-o", tmp_path / "o")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ORFEAS_BATCH_RUN_TIMEOUT must be a finite number between 0.1 and 604800")
    assert started == []


def test_a_parameter_file_with_a_repeated_key_exits_2_before_anything_starts(cli, square_notebook, tmp_path, started):
    (tmp_path / "p.yaml").write_text("grid:\n  x: [1]\n  x: [2]\n")
    result = cli("batch", square_notebook, "--params", tmp_path / "p.yaml", "-o", tmp_path / "o")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: p.yaml has the key 'x' twice in one mapping (line 3, column 3); "
        "give each key once (the last one would silently win)\n"
    )
    assert not (tmp_path / "o").exists()
