"""Run folders and the summary: what a user opens after a batch."""

from __future__ import annotations

import csv
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orfeas_nb.batch.store import finished_record, save_run, write_summary

pytestmark = pytest.mark.unit


def outcome(status="ok", files=None, error=None, notebook='{"cells": []}'):
    return {"status": status, "seconds": 1.5, "worker": "w1", "error": error, "notebook": notebook, "files": files or {}}


def test_a_run_folder_holds_notebook_outputs_and_a_record_written_last(tmp_path):
    run_dir = tmp_path / "run-abc"
    files = {"a.stl": b"solid", "sub/b.png": b"png"}
    record = save_run(run_dir, "nb.ipynb", outcome(files=files), {"run": "run-abc", "params": {"q": 1}})
    assert (run_dir / "nb.ipynb").read_text() == '{"cells": []}'
    assert (run_dir / "outputs" / "sub" / "b.png").read_bytes() == b"png"
    assert record["outputs"] == ["nb.ipynb", "outputs/a.stl", "outputs/sub/b.png"]
    assert json.loads((run_dir / "record.json").read_text()) == record
    assert finished_record(run_dir) == record
    assert not list(run_dir.rglob("*.part"))


def test_a_failed_or_missing_record_means_the_run_is_redone(tmp_path):
    assert finished_record(tmp_path / "never-ran") is None
    failed = save_run(tmp_path / "r", "nb.ipynb", outcome("failed", error={"cell_index": 3, "ename": "E", "evalue": "v"}), {})
    assert failed["error"]["cell_index"] == 3
    assert finished_record(tmp_path / "r") is None
    (tmp_path / "r" / "record.json").write_text("{truncated")
    assert finished_record(tmp_path / "r") is None


def test_a_redone_run_replaces_the_files_of_the_earlier_attempt(tmp_path):
    save_run(tmp_path / "r", "nb.ipynb", outcome("failed", files={"old.txt": b"1"}), {})
    save_run(tmp_path / "r", "nb.ipynb", outcome(files={"new.txt": b"2"}), {})
    assert sorted(p.name for p in (tmp_path / "r" / "outputs").iterdir()) == ["new.txt"]


def test_summary_csv_has_one_row_per_run_and_one_column_per_parameter(tmp_path):
    rows = [
        {"run": "run-1", "params": {"q": 1, "status": "x"}, "status": "ok", "seconds": 2.5, "outputs": ["a", "b"], "error": None},
        {"run": "run-2", "params": {"q": 2, "sizes": [1, 2]}, "status": "failed", "seconds": 1.0, "outputs": [],
         "error": {"cell_index": 4, "ename": "ValueError", "evalue": "bad, really"}},
        {"run": "run-3", "params": {"q": 3}, "status": "not run"},
    ]
    csv_path, json_path = write_summary(tmp_path, {"notebook": "nb.ipynb"}, rows)
    table = list(csv.DictReader(csv_path.read_text().splitlines()))
    assert [r["run"] for r in table] == ["run-1", "run-2", "run-3"]
    assert table[0]["param_status"] == "x" and table[0]["status"] == "ok" and table[0]["outputs"] == "a;b"
    assert (table[1]["error_cell"], table[1]["error_name"], table[1]["error_value"]) == ("4", "ValueError", "bad, really")
    assert table[1]["sizes"] == "[1, 2]" and table[2]["seconds"] == ""
    assert json.loads(json_path.read_text()) == {"notebook": "nb.ipynb", "runs": rows}


def read_csv(path):
    """summary.csv as rows of text, exactly as a spreadsheet gets it (carriage returns kept)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_text_a_spreadsheet_would_run_gets_a_quote_numbers_and_json_keep_their_values(tmp_path):
    params = {"a": "=HYPERLINK(\"http://x\")", "b": "+1", "c": "-2+3", "d": "@SUM(A1)", "e": "\tx", "f": "\rx",
              "g": "-3", "h": -3, "i": -0.5, "j": "plain", "k": ["=1"], "l": True, "m": " =1",
              "n": "ok\r=1+1\n@x"}
    rows = [{"run": "run-1", "params": params, "status": "failed", "seconds": 1.0, "outputs": ["=out.txt"],
             "error": {"cell_index": 2, "ename": "ValueError", "evalue": "-1 is not allowed"}}]
    csv_path, json_path = write_summary(tmp_path, {}, rows)
    [row] = read_csv(csv_path)
    assert [row[k] for k in "abcdefg"] == ["'" + params[k] for k in "abcdefg"]
    assert (row["h"], row["i"], row["j"], row["k"], row["l"], row["m"]) == ("-3", "-0.5", "plain", '["=1"]', "True", " =1")
    assert row["n"] == params["n"]  # quoted whole: a line break inside a value never starts a new row
    assert (row["outputs"], row["error_value"], row["error_cell"]) == ("'=out.txt", "'-1 is not allowed", "2")
    assert json.loads(json_path.read_text())["runs"][0]["params"] == params  # the JSON keeps the raw values


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=8), min_size=1, max_size=4), st.text(max_size=8))
def test_no_csv_cell_from_text_starts_like_a_formula(values, evalue):
    import tempfile
    from pathlib import Path

    params = {f"p{i}": value for i, value in enumerate(values)}
    rows = [{"run": "run-1", "params": params, "status": "failed", "outputs": [evalue],
             "error": {"cell_index": None, "ename": evalue, "evalue": evalue}}]
    with tempfile.TemporaryDirectory() as tmp:
        csv_path, json_path = write_summary(Path(tmp), {}, rows)
        [row] = read_csv(csv_path)
        assert json.loads(json_path.read_text())["runs"] == rows
    pairs = [(v, row[k]) for k, v in params.items()] + [(evalue, row[c]) for c in ("outputs", "error_name", "error_value")]
    for raw, cell in pairs:
        dangerous = raw.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert cell == ("'" + raw if dangerous else raw)
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
