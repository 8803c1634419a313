"""``orfeas batch`` on a LocalCluster: run folders, summary, isolated failures, exit codes, reruns."""

from __future__ import annotations

import csv
import json

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.notebook]


def summary_rows(out):
    return {row["x"]: row for row in csv.DictReader((out / "summary.csv").read_text().splitlines())}


@pytest.mark.slow
def test_a_batch_isolates_failures_and_a_rerun_redoes_only_what_did_not_finish(cli, square_notebook, tmp_path):
    params = tmp_path / "sweep.yaml"
    params.write_text("runs:\n  - {x: 1}\n  - {x: 2}\n  - {x: 3, fail: true}\n")
    out = tmp_path / "runs"

    first = cli("batch", square_notebook, "--params", params, "-o", out, "--workers", "2")
    assert first.exit_code == 1, first.output
    assert "3 runs: 2 ok (0 reused), 1 failed" in first.stdout
    assert "in cell 3: ValueError: asked to fail at x=3" in first.stderr

    rows = summary_rows(out)
    assert {x: r["status"] for x, r in rows.items()} == {"1": "ok", "2": "ok", "3": "failed"}
    assert (rows["3"]["error_cell"], rows["3"]["error_name"]) == ("3", "ValueError")
    for x, row in rows.items():
        folder = out / row["run"]
        record = json.loads((folder / "record.json").read_text())
        assert record["params"]["x"] == int(x) and record["status"] == row["status"]
        assert (folder / "square.ipynb").exists()  # the executed notebook, failed ones too
        if row["status"] == "ok":
            assert (folder / "outputs" / "square.txt").read_text() == str(int(x) ** 2)
            assert (folder / "outputs" / "sub" / "x.txt").read_text() == x
    summary = json.loads((out / "summary.json").read_text())
    assert summary["notebook_sha256"] and len(summary["runs"]) == 3
    finished = {x: (out / rows[x]["run"] / "record.json").read_text() for x in ("1", "2")}

    second = cli("batch", square_notebook, "--params", params, "-o", out, "--workers", "1")
    assert second.exit_code == 1
    assert "3 runs: 2 ok (2 reused), 1 failed" in second.stdout
    for x, text in finished.items():
        assert (out / rows[x]["run"] / "record.json").read_text() == text  # untouched, not re-executed
    assert summary_rows(out)["1"]["reused"] == "True"

    params.write_text("runs:\n  - {x: 1}\n  - {x: 2}\n")
    third = cli("batch", square_notebook, "--params", params, "-o", out)
    assert third.exit_code == 0 and "2 runs: 2 ok (2 reused), 0 failed" in third.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
        (["--workers", "0"], "0 is not in the range"),
    ],
)
def test_usage_errors_exit_2(cli, square_notebook, tmp_path, args, message):
    (tmp_path / "p.yaml").write_text("grid: {x: [1]}\n")
    result = cli("batch", square_notebook, "--params", tmp_path / "p.yaml", "-o", tmp_path / "o", *args)
    assert result.exit_code == 2 and message in result.stderr


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("grid: {y: [1]}", "square.ipynb has no parameter(s) y; its parameters cell declares: x, fail, output_dir"),
        ("grid: {output_dir: [a]}", "'output_dir' is set by orfeas batch"),
        ("grid: [1, 2", "not valid YAML"),
    ],
)
def test_bad_parameter_files_exit_2_before_any_work(cli, square_notebook, tmp_path, params, message):
    (tmp_path / "p.yaml").write_text(params)
    result = cli("batch", square_notebook, "--params", tmp_path / "p.yaml", "-o", tmp_path / "o")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_python_callers_get_the_same_checks(square_notebook, tmp_path):
    from orfeas_nb import batch
    from orfeas_nb.errors import InvalidInput

    for workers in (0, 2.5, True):
        with pytest.raises(InvalidInput, match="workers must be a whole number from 1 to 256"):
            batch.run(square_notebook, {"grid": {"x": [1]}}, tmp_path / "o", workers=workers)
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    with pytest.raises(InvalidInput, match="cannot read notebook"):
        batch.run(broken, {"grid": {"x": [1]}}, tmp_path / "o")


def test_a_notebook_without_a_parameters_cell_is_refused(cli, tmp_path):
    from tests.batch.conftest import write_notebook

    nb = write_notebook(tmp_path / "plain.ipynb", "print(1)", parameters="x = 1")
    text = nb.read_text().replace('"parameters"', '"other"')
    nb.write_text(text)
    (tmp_path / "p.yaml").write_text("grid: {x: [1]}\n")
    result = cli("batch", nb, "--params", tmp_path / "p.yaml", "-o", tmp_path / "o")
    assert result.exit_code == 2 and "plain.ipynb has no cell tagged 'parameters'" in result.stderr
    missing = cli("batch", tmp_path / "gone.ipynb", "--params", tmp_path / "p.yaml", "-o", tmp_path / "o")
    assert missing.exit_code == 2 and "gone.ipynb does not exist" in missing.stderr
