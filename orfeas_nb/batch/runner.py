"""``orfeas_nb.batch.run``: a parameter sweep over a notebook, one papermill run per Dask task."""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import config
from ..errors import InvalidInput
from . import cluster
from .execute import execute_run
from .params import check_against_notebook, expand, read_params_file, run_id
from .store import check_output_folder, read_record, save_run, write_summary

OUTPUT_PARAM = "output_dir"


@dataclass(frozen=True)
class BatchResult:
    """What a batch did: every run's record (``runs``) and where the summary files are."""

    out: Path
    runs: list[dict[str, Any]]
    summary_csv: Path
    summary_json: Path

    @property
    def failed(self) -> list[dict[str, Any]]:
        """Records of the runs that failed."""
        return [r for r in self.runs if r["status"] == "failed"]

    @property
    def reused(self) -> list[dict[str, Any]]:
        """Records of runs that had finished before and were skipped."""
        return [r for r in self.runs if r.get("reused")]

    @property
    def redone(self) -> list[dict[str, Any]]:
        """Records of runs that had run before and ran again; ``rerun_reason`` says why."""
        return [r for r in self.runs if r.get("rerun_reason")]

    def __repr__(self) -> str:
        return (
            f"<BatchResult {len(self.runs)} runs: {len(self.runs) - len(self.failed)} ok "
            f"({len(self.reused)} reused), {len(self.failed)} failed>"
        )


def run(
    notebook: str | os.PathLike,
    params: str | os.PathLike | dict | list,
    out: str | os.PathLike,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    progress: bool = True,
    cwd: str | os.PathLike | None = None,
    timeout: float | None = None,
    rerun: bool = False,
) -> BatchResult:
    """Run ``notebook`` once per parameter set in ``params`` on Dask and write one folder per run to ``out``.

    ``params`` is a YAML/JSON file or the same data as a dict (``{"grid": {...}}``, ``{"runs": [...]}``)
    or list. Work goes to a ``LocalCluster`` with ``workers`` processes, or to the scheduler at
    ``scheduler`` (``"tcp://host:port"``; its workers need orfeas_nb installed). If the notebook has an
    ``output_dir`` parameter, each run's files go to ``<out>/<run>/outputs``. A run that finished in an
    earlier batch is reused when its notebook content, parameters and orfeas_nb version all match
    (``rerun=True`` runs everything again); otherwise it runs again and its ``rerun_reason`` says why.
    Failures are recorded and never stop the others. A run still going after ``timeout`` seconds
    (default ``ORFEAS_BATCH_RUN_TIMEOUT``) has its kernel killed and fails with "timed out after N s".
    Relative paths in the parameters resolve against ``cwd`` (default: the current folder) where
    workers can see it. ``out`` is checked before anything starts.

    Example::

        result = run("notebooks/image_to_3d.ipynb", {"grid": {"quality": [4, 8]}}, "sweep")
        [r["status"] for r in result.runs]   # ['ok', 'ok']
    """
    # 1. Check inputs (local worker processes start loading meanwhile)
    out = Path(out)
    check_output_folder(out)
    timeout_s = _run_timeout(timeout)
    if scheduler is None:
        cluster.warm_up()
    nb_path = Path(notebook)
    text, declared = _read_notebook(nb_path)
    document = params if isinstance(params, (dict, list)) else read_params_file(params)
    runs = expand(document)
    output_param = OUTPUT_PARAM if OUTPUT_PARAM in declared else None
    check_against_notebook(runs, declared, nb_path.name, output_param)
    if scheduler is None and (isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 256):
        raise InvalidInput(f"workers must be a whole number from 1 to 256, got {workers!r}")
    header = {
        "notebook": str(nb_path),
        "notebook_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "started": _now(),
        "versions": _versions(),
        "run_timeout_s": timeout_s,
    }

    # 2. Reuse runs that finished before with the same notebook, parameters and orfeas_nb
    rows: dict[str, dict[str, Any]] = {}
    todo = []
    for params_ in runs:
        rid = run_id(params_)
        earlier = read_record(out / rid)
        reason = rerun_reason(earlier, params_, header, rerun=rerun, started=(out / rid).exists())
        if earlier is not None and reason is None:
            rows[rid] = {**earlier, "reused": True, "rerun_reason": None}
        else:
            rows[rid] = {"run": rid, "params": params_, "status": "not run", "reused": False, "rerun_reason": reason}
            todo.append(rid)

    # 3. Submit the rest, 4. save each run as it finishes, 5. summarise (also after Ctrl-C)
    try:
        if todo:
            where = str(Path(cwd or os.getcwd()).resolve())
            with cluster.client(workers, scheduler) as client:
                _execute(client, todo, rows, text, nb_path.name, header, output_param, where, progress, out)
    finally:
        csv_path, json_path = write_summary(out, {**header, "finished": _now()}, list(rows.values()))
    return BatchResult(out, list(rows.values()), csv_path, json_path)


def _execute(client, todo, rows, text, name, header, output_param, cwd, progress, out) -> None:
    from distributed import as_completed
    from tqdm import tqdm

    futures = {
        client.submit(
            execute_run, text, rows[rid]["params"], output_param=output_param, cwd=cwd,
            timeout_s=header["run_timeout_s"], pure=False
        ): rid
        for rid in todo
    }
    try:
        with tqdm(total=len(futures), desc="batch", unit="run", disable=not progress, file=sys.stderr) as bar:
            for future in as_completed(futures):
                rid = futures[future]
                record = {"run": rid, "params": rows[rid]["params"], "notebook": name,
                          "notebook_sha256": header["notebook_sha256"], "versions": header["versions"],
                          "reused": False, "rerun_reason": rows[rid]["rerun_reason"]}
                rows[rid] = save_run(out / rid, name, future.result(), record)
                bar.update()
    finally:
        client.cancel([f for f in futures if not f.done()])


def rerun_reason(
    earlier: dict[str, Any] | None, params: dict[str, Any], header: dict[str, Any], *, rerun: bool, started: bool
) -> str | None:
    """Why a run must execute although it ran before, or ``None`` (reuse it, or it never ran).

    A finished run is reused only when its notebook content (sha256 without outputs), its parameters and
    the orfeas_nb version all match this batch's.
    """
    if earlier is None:
        return "the earlier attempt did not finish" if started else None
    if rerun:
        return "rerun asked for"
    if earlier.get("status") != "ok":
        return f"the earlier attempt {earlier.get('status') or 'did not finish'}"
    if earlier.get("notebook_sha256") != header["notebook_sha256"]:
        return "notebook changed"
    if earlier.get("params") != params:
        return "parameters changed"
    before, now = (earlier.get("versions") or {}).get("orfeas_nb"), header["versions"]["orfeas_nb"]
    if before != now:
        return f"orfeas_nb version changed ({before} → {now})"
    return None


def _run_timeout(timeout: float | None) -> float:
    """The per-run time limit: ``timeout``, a finite number of seconds > 0, else ``ORFEAS_BATCH_RUN_TIMEOUT``
    (checked where settings are parsed)."""
    if timeout is None:
        return config.get("batch_run_timeout")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout <= 0:
        raise InvalidInput(f"timeout must be a finite number of seconds above 0, got {timeout!r}")
    return float(timeout)


def _read_notebook(path: Path) -> tuple[str, dict[str, Any]]:
    """The notebook without its outputs, as text, and its declared parameters (name → default)."""
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise InvalidInput(f"notebook {path} does not exist") from None
    except (OSError, ValueError, nbformat.ValidationError) as exc:
        raise InvalidInput(f"cannot read notebook {path}: {' '.join(str(exc).split())[:300]}") from exc
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise InvalidInput(f"{path.name} has no cell tagged 'parameters'; tag the cell that sets its defaults")
    from papermill import inspect_notebook

    declared = {name: spec["default"] for name, spec in inspect_notebook(str(path)).items()}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nbformat.writes(nb), declared


def _versions() -> dict[str, str]:
    """Versions of what runs the notebooks (read from metadata: importing the api would cost a second)."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": sys.version.split()[0]}
    for name in ("orfeas_nb", "papermill", "nbclient", "distributed"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - a checkout run without installing it
            versions[name] = "not installed"
    return versions


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
