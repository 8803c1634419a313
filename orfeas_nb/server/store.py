"""Durable job records (SQLite in WAL mode) with each job's files in a folder beside them.

Only the server process writes here: workers send results back through Dask. A job's folder is
``<jobs dir>/files/<uuid>/`` and holds fixed file names only (``input``, ``model.<suffix>``,
``manifest.json``, ``image.png``, ``preview.png``), so no path is ever built from client input.
A job's files are published together (:func:`orfeas_nb.files.publish_together`) before the record that
names them says ``done``: a reader never sees a done job with a missing or partial file.

    >>> import tempfile
    >>> store = JobStore(tempfile.mkdtemp())
    >>> job_id = store.create("upload", status="done")
    >>> store.get(job_id)["status"]
    'done'
    >>> store.close()
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from .. import files
from ..jobstate import FAILED, QUEUED, RUNNING, WAITING
from ..monitoring.multiprocess import pid_alive

FILE_NAMES = ("input", "image.png", "preview.png", "manifest.json",
              *(f"model.{suffix}" for suffix in ("stl", "obj", "glb", "ply", "3mf")))
INTERRUPTED = "interrupted by a server restart; submit the job again"
_COLUMNS = ("id", "type", "status", "progress", "message", "error_type", "error_message", "params", "result",
            "client", "created", "started", "finished", "owner")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, status TEXT NOT NULL, progress REAL NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '', error_type TEXT, error_message TEXT, params TEXT NOT NULL DEFAULT '{}',
    result TEXT NOT NULL DEFAULT '{}', client TEXT NOT NULL DEFAULT '', created REAL NOT NULL,
    started REAL, finished REAL, owner INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status);
"""


def new_id() -> str:
    """A random job id (uuid4)."""
    return str(uuid.uuid4())


def valid_id(job_id: str) -> str | None:
    """``job_id`` in canonical form if it is a UUID, else None (never a path)."""
    try:
        return str(uuid.UUID(job_id))
    except (ValueError, TypeError, AttributeError):
        return None


class JobStore:
    """The job table and the job folders under ``folder``; safe to use from several threads."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.files_root = self.folder / "files"
        self.files_root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.folder / "jobs.sqlite3", check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
            if "owner" not in columns:  # a store written before jobs named their server
                self._db.execute("ALTER TABLE jobs ADD COLUMN owner INTEGER NOT NULL DEFAULT 0")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _row(self, row: sqlite3.Row | None) -> dict[str, Any] | None:
        if row is None:
            return None
        record = dict(row)
        record["params"] = json.loads(record["params"])
        record["result"] = json.loads(record["result"])
        return record

    def create(self, type: str, *, status: str = QUEUED, params: dict | None = None, result: dict | None = None,
               client: str = "", message: str = "waiting", job_id: str | None = None) -> str:
        """Insert a new job and return its id (``job_id`` from :func:`new_id`, else a new one)."""
        job_id = job_id or new_id()
        now = time.time()
        finished = now if status not in WAITING else None
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs (id, type, status, progress, message, params, result, client, created, finished, owner) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, type, status, 1.0 if finished else 0.0, message, json.dumps(params or {}),
                 json.dumps(result or {}), client, now, finished, os.getpid()),
            )
        return job_id

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The record of ``job_id``, or None when there is none."""
        with self._lock:
            return self._row(self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())

    def update(self, job_id: str, *, only_if: tuple[str, ...] | None = None, **fields: Any) -> bool:
        """Set ``fields`` of a job (``only_if``: only while its status is one of these); True if it changed."""
        unknown = set(fields) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown job fields: {sorted(unknown)}")
        values = [json.dumps(v) if k in ("params", "result") else v for k, v in fields.items()]
        sql = f"UPDATE jobs SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?"  # noqa: S608  # nosec B608
        args = [*values, job_id]
        if only_if:
            sql += f" AND status IN ({', '.join('?' * len(only_if))})"  # placeholders only
            args += list(only_if)
        with self._lock:
            return self._db.execute(sql, args).rowcount == 1

    def recent(self, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """Jobs newest first, one page, and the total count."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY created DESC, id LIMIT ? OFFSET ?",
                                    (limit, offset)).fetchall()
            total = self._db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
        return [self._row(r) for r in rows], total

    def count(self, *statuses: str, type: str | None = None) -> int:
        """How many jobs have one of ``statuses`` (and ``type``, when given)."""
        sql = f"SELECT COUNT(*) FROM jobs WHERE status IN ({', '.join('?' * len(statuses))})"  # noqa: S608  # nosec B608
        args: list[Any] = list(statuses)
        if type is not None:
            sql += " AND type = ?"
            args.append(type)
        with self._lock:
            return self._db.execute(sql, args).fetchone()[0]

    def interrupt_unfinished(self) -> int:
        """At start: fail the jobs that a server no longer running left queued or running; returns how many.

        Jobs of another live server sharing the folder (its process still runs) are left alone.
        """
        with self._lock:
            owners = [row[0] for row in self._db.execute(
                "SELECT DISTINCT owner FROM jobs WHERE status IN (?, ?)", (QUEUED, RUNNING))]
            gone = [owner for owner in owners if owner == os.getpid() or owner <= 0 or not pid_alive(owner)]
            return sum(self._db.execute(
                "UPDATE jobs SET status = ?, message = ?, error_type = 'OrfeasError', error_message = ?, finished = ? "
                "WHERE status IN (?, ?) AND owner = ?",
                (FAILED, f"failed: {INTERRUPTED}", INTERRUPTED, time.time(), QUEUED, RUNNING, owner),
            ).rowcount for owner in gone)

    def purge(self, keep_days: float) -> list[str]:
        """Remove finished jobs older than ``keep_days`` and their folders; returns their ids."""
        cutoff = time.time() - keep_days * 86400
        with self._lock:
            ids = [r[0] for r in self._db.execute(
                "SELECT id FROM jobs WHERE created < ? AND status NOT IN (?, ?)", (cutoff, QUEUED, RUNNING))]
            self._db.executemany("DELETE FROM jobs WHERE id = ?", [(i,) for i in ids])
        for job_id in ids:
            shutil.rmtree(self.files_root / job_id, ignore_errors=True)
        return ids

    def path(self, job_id: str, name: str) -> Path:
        """Where file ``name`` (one of :data:`FILE_NAMES`) of job ``job_id`` (a UUID) lives."""
        canonical = valid_id(job_id)
        if canonical is None or name not in FILE_NAMES:
            raise ValueError(f"not a job file: {job_id!r}/{name!r}")
        return self.files_root / canonical / name

    def publish(self, job_id: str, documents: dict[str, bytes]) -> None:
        """Write a job's files as one unit (all appear, or none); the caller marks the job done afterwards."""
        targets = {self.path(job_id, name): data for name, data in documents.items()}
        next(iter(targets)).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with files.publish_together() as unit:
            for target, data in targets.items():
                unit.add(target, data)
