"""The static-check plumbing: bandit's configuration holds, and pip-audit's report is never read as a false pass."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.security

_spec = importlib.util.spec_from_file_location("pip_audit_report", ROOT / "scripts" / "pip_audit_report.py")
pip_audit_report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pip_audit_report)

UNREACHABLE = {"dependencies": [
    {"name": "numpy", "skip_reason": "Dependency not found on PyPI and could not be audited: numpy (2.3.0)"},
    {"name": "pillow", "skip_reason": "Dependency not found on PyPI and could not be audited: pillow (12.0.0)"},
    {"name": "orfeas-nb", "skip_reason": "distribution marked as editable"},
], "fixes": []}
VULNERABLE = {"dependencies": [
    {"name": "numpy", "version": "2.3.0", "vulns": []},
    {"name": "pillow", "version": "9.0.0", "vulns": [{"id": "PYSEC-2022-168", "fix_versions": ["9.0.1"]}]},
], "fixes": []}
CLEAN = {"dependencies": [{"name": "numpy", "version": "2.3.0", "vulns": []}], "fixes": []}


def run_report(tmp_path, report, *flags):
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(report) if report is not None else "")
    return pip_audit_report.main([str(path), *flags])


def test_an_unreachable_advisory_database_is_announced_not_passed(tmp_path, capsys):
    assert run_report(tmp_path, UNREACHABLE) == 0
    out = capsys.readouterr().out
    assert "0 packages audited, 2 skipped" in out
    assert "NOT AUDITED" in out and "not reachable" in out and "This is not a pass" in out
    assert run_report(tmp_path, UNREACHABLE, "--strict") == 1


def test_a_vulnerability_fails_and_names_the_fix(tmp_path, capsys):
    assert run_report(tmp_path, VULNERABLE) == 1
    out = capsys.readouterr().out
    assert "2 packages audited, 0 skipped, 1 known vulnerability" in out
    assert "VULNERABLE pillow 9.0.0: PYSEC-2022-168 (fixed in: 9.0.1)" in out


def test_a_clean_audit_passes_and_a_missing_report_does_not(tmp_path, capsys):
    assert run_report(tmp_path, CLEAN) == 0
    assert "NOT AUDITED" not in capsys.readouterr().out
    log = tmp_path / "audit.log"
    log.write_text("ConnectionError: Max retries exceeded with url: /pypi/numpy/2.3.0/json")
    assert run_report(tmp_path, None, "--log", str(log)) == 0
    assert "NOT AUDITED: pip-audit produced no report (ConnectionError" in capsys.readouterr().out


def test_bandit_finds_no_unexplained_issue():
    """The same command as the CI workflow's security job; medium and high findings are fixed or justified."""
    proc = subprocess.run([sys.executable, "-m", "bandit", "-q", "-r", "orfeas_nb", "-c", "pyproject.toml", "-f", "json"],
                          capture_output=True, text=True, errors="replace", cwd=ROOT, timeout=300)
    report = json.loads(proc.stdout)
    assert [(r["filename"], r["line_number"], r["test_id"]) for r in report["results"]] == []
    assert proc.returncode == 0
    assert report["metrics"]["_totals"]["loc"] > 1000, "bandit scanned the package"
