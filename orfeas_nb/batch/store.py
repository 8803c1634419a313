"""The batch's files: one folder per run, and the summary (CSV and JSON) of the whole batch.

A run folder holds the executed notebook, ``outputs/`` (what the notebook wrote) and ``record.json``,
written last: a folder whose record says ``"status": "ok"`` is finished, anything else is redone.
Every file is written atomically, so an interrupted batch leaves finished runs intact.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

from ..files import write_bytes, write_json

RECORD = "record.json"
OUTPUTS = "outputs"
COLUMNS = ("run", "status", "seconds", "reused", "outputs", "error_cell", "error_name", "error_value")


def finished_record(run_dir: Path) -> dict[str, Any] | None:
    """The record of a run that finished successfully, or ``None`` if it must be (re)done."""
    try:
        record = json.loads((run_dir / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("status") == "ok" else None


def save_run(run_dir: Path, notebook_name: str, outcome: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """Write an executed run into ``run_dir`` (replacing an earlier attempt) and return its record."""
    (run_dir / RECORD).unlink(missing_ok=True)
    shutil.rmtree(run_dir / OUTPUTS, ignore_errors=True)
    written = []
    if outcome["notebook"] is not None:
        write_bytes(run_dir / notebook_name, outcome["notebook"])
        written.append(notebook_name)
    for relative, data in outcome["files"].items():
        write_bytes(run_dir / OUTPUTS / relative, data)
        written.append(f"{OUTPUTS}/{relative}")
    record = {
        **record,
        "status": outcome["status"],
        "seconds": outcome["seconds"],
        "worker": outcome["worker"],
        "kernel": outcome.get("kernel"),
        "outputs": written,
        "error": outcome["error"],
    }
    write_json(run_dir / RECORD, record)
    return record


def write_summary(out: Path, header: dict[str, Any], rows: list[dict[str, Any]]) -> tuple[Path, Path]:
    """Write ``summary.json`` (header + every run's record) and ``summary.csv`` (one line per run)."""
    json_path = write_json(out / "summary.json", {**header, "runs": rows})
    names: list[str] = []
    for row in rows:
        names += [name for name in row["params"] if name not in names]
    columns = list(COLUMNS) + [name if name not in COLUMNS else f"param_{name}" for name in names]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        error = row.get("error") or {}
        writer.writerow(
            [
                row["run"],
                row["status"],
                row.get("seconds", ""),
                row.get("reused", False),
                ";".join(row.get("outputs", [])),
                "" if error.get("cell_index") is None else error["cell_index"],
                error.get("ename", ""),
                error.get("evalue", ""),
            ]
            + [_cell(row["params"].get(name, "")) for name in names]
        )
    csv_path = write_bytes(out / "summary.csv", buffer.getvalue())
    return csv_path, json_path


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, dict)) else value
