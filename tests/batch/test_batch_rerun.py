"""A finished run is reused only while its notebook, parameters and orfeas_nb version stay the same."""

from __future__ import annotations

import csv
import json

import pytest

from orfeas_nb import batch
from orfeas_nb.batch import cluster
from orfeas_nb.batch.runner import rerun_reason

HEADER = {"notebook_sha256": "abc", "versions": {"orfeas_nb": "1.0"}}
FINISHED = {"status": "ok", "params": {"x": 1}, **HEADER}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("earlier", "rerun", "started", "reason"),
    [
        (None, False, False, None),  # never ran
        (None, False, True, "the earlier attempt did not finish"),  # a folder without its record
        (FINISHED, False, True, None),  # the same everything: reuse
        (FINISHED, True, True, "rerun asked for"),
        ({**FINISHED, "status": "failed"}, False, True, "the earlier attempt failed"),
        ({**FINISHED, "notebook_sha256": "def"}, False, True, "notebook changed"),
        ({**FINISHED, "params": {"x": 2}}, False, True, "parameters changed"),
        ({**FINISHED, "versions": {"orfeas_nb": "0.9"}}, False, True, "orfeas_nb version changed (0.9 → 1.0)"),
        ({"status": "ok"}, False, True, "notebook changed"),  # a record from before hashes were kept
    ],
)
def test_the_reason_a_run_executes_again(earlier, rerun, started, reason):
    assert rerun_reason(earlier, {"x": 1}, HEADER, rerun=rerun, started=started) == reason


def summary(out):
    with open(out / "summary.csv", newline="", encoding="utf-8") as handle:
        table = {row["x"]: row for row in csv.DictReader(handle)}
    runs = {str(r["params"]["x"]): r for r in json.loads((out / "summary.json").read_text())["runs"]}
    return table, runs


@pytest.mark.integration
@pytest.mark.notebook
@pytest.mark.slow
def test_a_changed_notebook_or_version_runs_again_and_the_summary_says_why(cli, square_notebook, tmp_path, monkeypatch):
    params, out = {"grid": {"x": [1, 2]}}, tmp_path / "runs"
    first = batch.run(square_notebook, params, out, workers=1, progress=False)
    assert [r["reused"] for r in first.runs] == [False, False] and first.redone == []
    records = {x: out / batch.run_id({"x": x}) / "record.json" for x in (1, 2)}
    kept = {x: path.read_text() for x, path in records.items()}

    # unchanged: both reused, and no cluster is even started
    monkeypatch.setattr(cluster, "client", lambda *a, **k: pytest.fail("a batch with nothing to do started a cluster"))
    again = batch.run(square_notebook, params, out, workers=1, progress=False)
    assert [r["reused"] for r in again.runs] == [True, True] and again.redone == []
    assert {x: path.read_text() for x, path in records.items()} == kept
    monkeypatch.undo()

    # a record written by another orfeas_nb version: that run only
    stale = json.loads(records[1].read_text())
    stale["versions"]["orfeas_nb"] = "0.0.1"
    records[1].write_text(json.dumps(stale))
    batch.run(square_notebook, params, out, workers=1, progress=False)
    table, runs = summary(out)
    assert runs["1"]["reused"] is False and runs["1"]["rerun_reason"].startswith("orfeas_nb version changed (0.0.1 → ")
    assert runs["2"]["reused"] is True and runs["2"]["rerun_reason"] is None
    assert (table["1"]["reused"], table["2"]["reused"]) == ("False", "True")

    # the notebook edited: every run executes again, with the new code
    square_notebook.write_text(square_notebook.read_text().replace("str(x * x)", "str(x * x + 1)"))
    edited = batch.run(square_notebook, params, out, workers=1, progress=False)
    assert [(r["reused"], r["rerun_reason"], r["status"]) for r in edited.runs] == [(False, "notebook changed", "ok")] * 2
    for x in (1, 2):
        assert (records[x].parent / "outputs" / "square.txt").read_text() == str(x * x + 1)
        assert json.loads(records[x].read_text())["rerun_reason"] == "notebook changed"
    assert summary(out)[0]["2"]["rerun_reason"] == "notebook changed"

    # --rerun: everything again, said on the way out
    (tmp_path / "p.yaml").write_text("grid: {x: [1, 2]}\n")
    forced = cli("batch", square_notebook, "--params", tmp_path / "p.yaml", "-o", out, "--workers", "1", "--rerun")
    assert forced.exit_code == 0, forced.output
    assert "ran again: 2 runs that had run before (rerun asked for)" in forced.stdout
    assert "2 runs: 2 ok (0 reused), 0 failed" in forced.stdout
    table, runs = summary(out)
    assert [table[x]["rerun_reason"] for x in ("1", "2")] == ["rerun asked for"] * 2
