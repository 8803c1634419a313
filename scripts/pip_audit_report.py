"""Read a pip-audit JSON report and say honestly what it shows: audited, skipped, vulnerable.

pip-audit prints "No known vulnerabilities found" and exits 0 even when it audited nothing, for example
when its advisory database (PyPI's per-release JSON API) cannot be reached and every package is skipped
as "not found on PyPI". This script never calls that a pass.

Usage (as in ``.ci/run``)::

    pip-audit --skip-editable -f json -o audit.json 2> audit.log
    python scripts/pip_audit_report.py audit.json --log audit.log [--strict]

Exit status: 1 when a vulnerability is reported; with ``--strict`` also when packages could not be
audited; 0 otherwise (a clean audit, or an audit that could not run, announced as NOT AUDITED).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def summarise(report: dict | None, log: str = "") -> tuple[list[str], bool, bool]:
    """Lines to print, whether a vulnerability was found, and whether any package went unaudited.

    >>> lines, vulnerable, incomplete = summarise({"dependencies": [{"name": "a", "version": "1", "vulns": []}]})
    >>> lines[0], vulnerable, incomplete
    ('pip-audit: 1 package audited, 0 skipped, 0 known vulnerabilities', False, False)
    """
    if not report or not isinstance(report.get("dependencies"), list):
        tail = " ".join(log.split()[-40:]) or "no report was written"
        return [f"pip-audit: NOT AUDITED: pip-audit produced no report ({tail})"], False, True
    audited = [d for d in report["dependencies"] if "skip_reason" not in d]
    # the project itself (installed editable) is skipped on purpose: it is not on PyPI
    skipped = [d for d in report["dependencies"] if "skip_reason" in d and "editable" not in d["skip_reason"]]
    vulnerable = [d for d in audited if d.get("vulns")]
    count = sum(len(d["vulns"]) for d in vulnerable)
    lines = [
        f"pip-audit: {len(audited)} package{'s' * (len(audited) != 1)} audited, {len(skipped)} skipped, "
        f"{count} known vulnerabilit{'ies' if count != 1 else 'y'}"
    ]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
            lines.append(f"  VULNERABLE {dep['name']} {dep.get('version', '?')}: {vuln.get('id')} (fixed in: {fixed})")
    unreachable = [d for d in skipped if "not found on PyPI" in d["skip_reason"]]
    if skipped and not audited:
        lines.append(
            f"pip-audit: NOT AUDITED: all {len(skipped)} packages were skipped"
            + (" as 'not found on PyPI': the advisory database (pypi.org/pypi/NAME/VERSION/json) is not reachable "
               "from this machine" if len(unreachable) == len(skipped) else "")
            + ". This is not a pass; run pip-audit where pypi.org is reachable (the GitHub workflow does)."
        )
    elif skipped:
        names = ", ".join(sorted(d["name"] for d in skipped)[:20])
        lines.append(f"pip-audit: {len(skipped)} packages could not be audited: {names}")
    return lines, bool(vulnerable), bool(skipped)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: print the summary and return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--log", type=Path, help="pip-audit's stderr, quoted when no report was written")
    parser.add_argument("--strict", action="store_true", help="fail when any package could not be audited")
    args = parser.parse_args(argv)
    try:
        report = json.loads(args.report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = None
    log = args.log.read_text(encoding="utf-8", errors="replace") if args.log and args.log.exists() else ""
    lines, vulnerable, incomplete = summarise(report, log)
    print("\n".join(lines))
    return 1 if vulnerable or (args.strict and incomplete) else 0


if __name__ == "__main__":
    sys.exit(main())
