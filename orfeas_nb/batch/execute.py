"""One batch run: a papermill execution, wherever a Dask worker runs it.

:func:`execute_run` needs nothing from the client's file system except, optionally, its working
folder: it gets the notebook as text, runs it in a temporary folder with the output parameter pointed
there, and returns the executed notebook and every file the run wrote as bytes. The client then writes
them into the run's folder (see :mod:`.store`). Workers started elsewhere need orfeas_nb installed.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any


def execute_run(
    notebook_text: str,
    params: dict[str, Any],
    *,
    output_param: str | None = None,
    cwd: str | None = None,
    kernel_name: str | None = None,
) -> dict[str, Any]:
    """Execute a notebook with ``params`` and return what happened.

    The result holds ``status`` ("ok" or "failed"), ``seconds``, ``error`` (``None`` or the failing
    ``cell_index``, exception ``ename`` and ``evalue``), ``notebook`` (the executed notebook as text,
    error banner included), ``files`` (path relative to the output folder → bytes), ``worker`` and
    ``kernel`` (how the kernel started: see :mod:`.warm_kernels`).
    ``cwd`` is used as the working folder when it exists on this machine; otherwise the temporary one.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from . import warm_kernels

    warm = {"kernel_manager_class": warm_kernels.WarmKernelManager} if warm_kernels.available() else {}

    started = time.time()
    with tempfile.TemporaryDirectory(prefix="orfeas-run-") as tmp:
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
            )
        except PapermillExecutionError as exc:
            error = {"cell_index": exc.cell_index, "ename": exc.ename, "evalue": exc.evalue}
        except Exception as exc:  # noqa: BLE001 - a dead kernel or a timeout fails this run, not the batch
            error = {"cell_index": None, "ename": type(exc).__name__, "evalue": str(exc)}
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
