"""A batch where one run raises and one kernel is killed outright: the other run and the summary survive.

The run that succeeds carries a parameter value crafted to break out of papermill's injected cell (a
params file from a shared folder is untrusted): it must arrive as the exact string, executing nothing.
"""

from __future__ import annotations

import csv
import json

import nbformat
import pytest

from orfeas_nb import batch

pytestmark = [pytest.mark.security, pytest.mark.integration, pytest.mark.notebook, pytest.mark.slow]

INJECTION = "'); import pathlib; pathlib.Path(output_dir, 'pwned').write_text('x'); ('\"\"\"\n#"


@pytest.fixture
def notebook(tmp_path):
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [
        nbformat.v4.new_code_cell("mode = 'ok'\nlabel = 'plain'\noutput_dir = 'out'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import os, pathlib, signal\nout = pathlib.Path(output_dir)\nout.mkdir(exist_ok=True)"),
        nbformat.v4.new_code_cell("if mode == 'fail':\n    raise RuntimeError('this run fails on purpose')\n"
                                  "if mode == 'kill':\n    os.kill(os.getpid(), signal.SIGKILL)  # the OOM killer, say"),
        nbformat.v4.new_code_cell("(out / 'label.txt').write_text(label)"),
    ]
    path = tmp_path / "faulty.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_failing_and_a_killed_kernel_leave_other_runs_and_the_summary_intact(notebook, tmp_path):
    out = tmp_path / "runs"
    runs = [{"mode": "ok", "label": INJECTION}, {"mode": "fail", "label": "raises"}, {"mode": "kill", "label": "killed"}]
    result = batch.run(notebook, {"runs": runs}, out, workers=2, progress=False)

    by_label = {r["params"]["label"]: r for r in result.runs}
    assert {label: r["status"] for label, r in by_label.items()} == {"raises": "failed", "killed": "failed", INJECTION: "ok"}
    assert by_label["raises"]["error"]["ename"] == "RuntimeError"
    assert "kernel" in json.dumps(by_label["killed"]["error"]).lower()  # a dead kernel is named as such

    folder = out / by_label[INJECTION]["run"]  # the finished run is all there (data lost = 0), injecting nothing
    assert (folder / "outputs" / "label.txt").read_text() == INJECTION
    assert json.loads((folder / "record.json").read_text())["status"] == "ok"
    assert not list(out.rglob("pwned")) and not list(tmp_path.rglob("pwned"))
    for label in ("raises", "killed"):
        assert not (out / by_label[label]["run"] / "outputs" / "label.txt").exists()

    summary = json.loads((out / "summary.json").read_text())
    assert sorted(r["status"] for r in summary["runs"]) == ["failed", "failed", "ok"]
    rows = list(csv.DictReader((out / "summary.csv").read_text().splitlines()))
    assert sorted(r["status"] for r in rows) == ["failed", "failed", "ok"]
    assert not list(out.rglob("*.part")), "no temporaries left behind"
