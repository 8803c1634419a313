"""The batch's files: one folder per run, and the summary (CSV and JSON) of the whole batch.

A run folder holds the executed notebook, ``outputs/`` (what the notebook wrote) and ``record.json``,
written last: a folder whose record says ``"status": "ok"`` is finished, anything else is redone.
Every file is written atomically, so an interrupted batch leaves finished runs intact.

``summary.csv`` is meant to be opened in a spreadsheet, and parameter values may come from a file
someone else wrote: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
gets a leading ``'`` so that no spreadsheet reads it as a formula (OWASP's rule for CSV injection).
Numbers written from number types (``-3``, ``-0.5``) stay as they are: they cannot hold a formula.
Text that only looks like a number (``"-3"`` in the parameters file) is text and is prefixed too.
Lines end in CR LF (RFC 4180), so a value holding a line break is quoted whole and never starts a
row of its own. ``summary.json`` and ``record.json`` keep every value exactly as it was.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..files import write_bytes, write_json

RECORD = "record.json"
OUTPUTS = "outputs"
SUMMARIES = ("summary.csv", "summary.json")
COLUMNS = ("run", "status", "seconds", "reused", "rerun_reason", "outputs", "error_cell", "error_name", "error_value")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def check_output_folder(out: Path) -> None:
    """Refuse, before any work starts, an output folder that could not be created or written.

    ``out`` must be a folder or not exist yet; the nearest folder that exists on its way must be
    writable; the summary files' names must not be taken by folders. Nothing is created here.
    """
    try:
        if out.exists() and not out.is_dir():
            raise InvalidInput(f"the output folder {out} is a file; give a folder (new or existing) for the runs")
        nearest = out
        while not nearest.exists():
            if nearest.is_symlink():
                raise InvalidInput(f"cannot create the output folder {out}: {nearest} is a broken link")
            nearest = nearest.parent
        if not nearest.is_dir():
            raise InvalidInput(f"cannot create the output folder {out}: {nearest} is a file, not a folder")
        if not os.access(nearest, os.W_OK | os.X_OK):
            raise InvalidInput(f"cannot write to {nearest}: permission denied; choose another output folder")
        for name in SUMMARIES:
            if (out / name).is_dir():
                raise InvalidInput(f"{out / name} is a folder; move it away so that the batch can write its summary")
    except InvalidInput:
        raise
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise InvalidInput(f"cannot use {str(out)!r} as the output folder: {exc}") from exc


def read_record(run_dir: Path) -> dict[str, Any] | None:
    """The record of an earlier attempt at a run (finished or failed), or ``None`` if there is none."""
    try:
        record = json.loads((run_dir / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def finished_record(run_dir: Path) -> dict[str, Any] | None:
    """The record of a run that finished successfully, or ``None`` if it must be (re)done."""
    record = read_record(run_dir)
    return record if record is not None and record.get("status") == "ok" else None


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
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180: a CR or LF inside a value gets quoted
    writer.writerow(columns)
    for row in rows:
        error = row.get("error") or {}
        cells = [
            row["run"],
            row["status"],
            row.get("seconds", ""),
            row.get("reused", False),
            row.get("rerun_reason") or "",
            ";".join(row.get("outputs", [])),
            "" if error.get("cell_index") is None else error["cell_index"],
            error.get("ename", ""),
            error.get("evalue", ""),
        ] + [row["params"].get(name, "") for name in names]
        writer.writerow([csv_cell(cell) for cell in cells])
    csv_path = write_bytes(out / "summary.csv", buffer.getvalue())
    return csv_path, json_path


def csv_cell(value: Any) -> Any:
    """``value`` as a summary.csv cell: lists and mappings as JSON; text a spreadsheet would run, quoted.

    >>> csv_cell("=1+1"), csv_cell("-3"), csv_cell(-3), csv_cell([1, 2])
    ("'=1+1", "'-3", -3, '[1, 2]')
    """
    if isinstance(value, (list, dict)):
        value = json.dumps(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
