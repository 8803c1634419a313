"""The one job model that the kernel's :mod:`orfeas_nb.jobs` queue and the HTTP API's engine share.

Statuses, the error shape and the job record as plain data (what ``GET /orfeas/jobs/{id}`` answers
and what :meth:`orfeas_nb.jobs.Job.to_dict` gives):

    >>> from orfeas_nb.errors import InvalidInput
    >>> error_dict(InvalidInput("quality must be 1-10"))
    {'type': 'InvalidInput', 'message': 'quality must be 1-10'}
    >>> job_dict("j1", "generate-3d", QUEUED)["status"]
    'queued'
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from .errors import OrfeasError

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
STATUSES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
FINISHED = (DONE, FAILED, CANCELLED)
WAITING = (QUEUED, RUNNING)


def error_dict(exc: BaseException | None) -> dict[str, str] | None:
    """``{"type", "message"}`` of an error: the orfeas_nb class name, else ``OrfeasError`` naming the foreign type."""
    if exc is None:
        return None
    if isinstance(exc, OrfeasError):
        return {"type": type(exc).__name__, "message": str(exc)}
    return {"type": "OrfeasError", "message": f"{type(exc).__name__}: {exc}"}


def timestamp(seconds: float | None) -> str | None:
    """A Unix time as ISO 8601 UTC (milliseconds), or None."""
    if seconds is None:
        return None
    return _dt.datetime.fromtimestamp(seconds, _dt.timezone.utc).isoformat(timespec="milliseconds")


def job_dict(
    job_id: str,
    type: str,
    status: str,
    *,
    progress: float = 0.0,
    message: str = "",
    error: dict[str, str] | None = None,
    created: float | None = None,
    started: float | None = None,
    finished: float | None = None,
) -> dict[str, Any]:
    """The job record as plain data: id, type, status, progress 0–1, message, error and ISO timestamps."""
    if status not in STATUSES:
        raise ValueError(f"unknown job status {status!r}; one of {', '.join(STATUSES)}")
    return {
        "job_id": job_id,
        "type": type,
        "status": status,
        "progress": min(1.0, max(0.0, float(progress))),
        "message": message,
        "error": error,
        "created": timestamp(created),
        "started": timestamp(started),
        "finished": timestamp(finished),
    }
