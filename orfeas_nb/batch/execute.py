"""One batch run: a papermill execution, wherever a Dask worker runs it.

:func:`execute_run` needs nothing from the client's file system except, optionally, its working
folder: it gets the notebook as text, runs it in a temporary folder with the output parameter pointed
there, and returns the executed notebook and every file the run wrote as bytes. The client then writes
them into the run's folder (see :mod:`.store`). Workers started elsewhere need orfeas_nb installed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

START_TIMEOUT_S = 60.0  # papermill's default wait for a kernel to start


def execute_run(
    notebook_text: str,
    params: dict[str, Any],
    *,
    output_param: str | None = None,
    cwd: str | None = None,
    kernel_name: str | None = None,
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """Execute a notebook with ``params`` and return what happened.

    The result holds ``status`` ("ok" or "failed"), ``seconds``, ``error`` (``None`` or the failing
    ``cell_index``, exception ``ename`` and ``evalue``), ``notebook`` (the executed notebook as text,
    error banner included), ``files`` (path relative to the output folder → bytes), ``worker`` and
    ``kernel`` (how the kernel started: see :mod:`.warm_kernels`).
    ``cwd`` is used as the working folder when it exists on this machine; otherwise the temporary one.
    A run still going ``timeout_s`` seconds after it started is stopped: its kernel (and the kernel's
    process group) is interrupted, asked to shut down and killed within a few seconds, and the error
    is ``TimeoutError`` "timed out after N s" with the cell it was running.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from . import warm_kernels

    warm = {"kernel_manager_class": warm_kernels.WarmKernelManager} if warm_kernels.available() else {}

    started = time.time()
    deadline = _Deadline(timeout_s)
    with tempfile.TemporaryDirectory(prefix="orfeas-run-") as tmp, _quiet_cell_timeouts():
        outputs = Path(tmp, "outputs")
        outputs.mkdir()
        executed = Path(tmp, "executed.ipynb")
        parameters = {**params, output_param: str(outputs)} if output_param else dict(params)
        error = None
        try:
            papermill.execute_notebook(
                nbformat.reads(notebook_text, as_version=4),
                str(executed),
                parameters=parameters,
                kernel_name=kernel_name,
                progress_bar=False,
                cwd=cwd if cwd and os.path.isdir(cwd) else tmp,
                extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no start-up warnings in the batch's log
                **warm,
                **deadline.papermill_arguments(),
            )
        except PapermillExecutionError as exc:
            error = {"cell_index": exc.cell_index, "ename": exc.ename, "evalue": exc.evalue}
        except Exception as exc:  # noqa: BLE001 - a dead kernel or a timeout fails this run, not the batch
            error = {"cell_index": None, "ename": type(exc).__name__, "evalue": str(exc)}
            if deadline.passed():
                error = deadline.error(executed)
        files = {
            path.relative_to(outputs).as_posix(): path.read_bytes()
            for path in sorted(outputs.rglob("*"))
            if path.is_file()
        }
        return {
            "status": "failed" if error else "ok",
            "seconds": round(time.time() - started, 3),
            "error": error,
            "notebook": executed.read_text(encoding="utf-8") if executed.exists() else None,
            "files": files,
            "worker": platform.node(),
            "kernel": "warm (forked, modules preloaded)" if warm else "new process",
        }


class _NotCellTimeouts(logging.Filter):
    """Drops nbclient's "Timeout waiting for execute reply (Ns)": the run's error says it, with the limit."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Timeout waiting for execute reply")


@contextlib.contextmanager
def _quiet_cell_timeouts() -> Iterator[None]:
    """While a run executes, leave its timeout to the run's record instead of papermill's log."""
    logger, quiet = logging.getLogger("papermill"), _NotCellTimeouts()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


class _Deadline:
    """A whole-run time limit, enforced through nbclient's public per-cell ``timeout_func``.

    papermill's ``execution_timeout`` bounds each cell on its own; here every cell gets what is left of
    the run's time, so the run as a whole stops at its deadline. nbclient then raises
    ``CellTimeoutError`` and, leaving its kernel context, shuts the kernel down (interrupt, shutdown
    request, SIGTERM, then SIGKILL to the kernel's process group, a few seconds at most).
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.at = None if seconds is None else time.monotonic() + seconds
        self.cell_id: str | None = None

    def papermill_arguments(self) -> dict[str, Any]:
        if self.seconds is None:
            return {}
        return {"timeout_func": self._left_for, "start_timeout": min(START_TIMEOUT_S, self.seconds)}

    def _left_for(self, cell: Any) -> float:
        self.cell_id = cell.get("id")
        return max(self.at - time.monotonic(), 0.01)  # 0 would mean "no limit" to nbclient

    def passed(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def error(self, executed: Path) -> dict[str, Any]:
        """The run's error: ``TimeoutError`` in the cell that was running (``None`` if none had started)."""
        return {"cell_index": self._cell_index(executed), "ename": "TimeoutError",
                "evalue": f"timed out after {self.seconds:g} s (--timeout or ORFEAS_BATCH_RUN_TIMEOUT)"}

    def _cell_index(self, executed: Path) -> int | None:
        if self.cell_id is None or not executed.exists():
            return None
        import nbformat

        cells = nbformat.read(executed, as_version=4).cells
        return next((i for i, cell in enumerate(cells) if cell.get("id") == self.cell_id), None)
