"""What a Dask worker runs for one HTTP API job; it needs nothing from the server's file system.

:func:`run_job` gets the job's values (and the input image as bytes), calls the public api, and
returns the files as bytes: the server writes them into the job's folder. Along the way it reports
progress as ``orfeas-progress`` events (:meth:`distributed.Worker.log_event`) and checks the job's
cancel flag, a :class:`distributed.Event` named :func:`cancel_name`, between stages and at every
diffusion step. Loaded pipelines stay cached in the worker process between jobs.

A job that starts a second time means the worker that ran it first died (killed, out of memory):
it fails with that reason instead of running again.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..errors import JobCancelled, OutOfResources

TOPIC = "orfeas-progress"
WORKER_DIED = ("the worker process running this job died (killed, or out of memory); the job was not retried. "
               "Submit it again, with a lower quality or smaller size if memory is short")
PREVIEW_PX = (320, 240)  # the preview's width and height
_CHECK_EVERY_S = 0.2
_REPORT_EVERY_S = 0.25


def cancel_name(job_id: str) -> str:
    """The name of the :class:`distributed.Event` that asks job ``job_id`` to stop."""
    return f"orfeas-cancel-{job_id}"


def started_name(job_id: str) -> str:
    """The name of the :class:`distributed.Event` set when job ``job_id`` starts on a worker."""
    return f"orfeas-started-{job_id}"


def _event(name: str) -> Any:
    """A :class:`distributed.Event` when running on a worker, else None (a direct call, e.g. a test)."""
    from distributed import Event, get_worker

    try:
        get_worker()
    except ValueError:
        return None
    return Event(name)


class Reporter:
    """Progress to the server and the cancel check, throttled: ``is_set()`` makes it usable as ``cancel=``."""

    def __init__(self, job_id: str):
        self.job_id = job_id
        self._cancel = _event(cancel_name(job_id))
        self._checked = 0.0
        self._cancelled = False
        self._reported = 0.0

    def is_set(self) -> bool:
        """True once the job's user asked it to stop (asks the scheduler at most every 0.2 s)."""
        now = time.monotonic()
        if self._cancel is not None and not self._cancelled and now - self._checked >= _CHECK_EVERY_S:
            self._checked = now
            self._cancelled = self._cancel.is_set()
        return self._cancelled

    def stage(self, progress: float, message: str, *, force: bool = True) -> None:
        """Report ``progress`` (0–1) and ``message``, then stop here if the job was cancelled."""
        now = time.monotonic()
        if force or now - self._reported >= _REPORT_EVERY_S:
            self._reported = now
            _log_event({"job_id": self.job_id, "progress": progress, "message": message})
        if self.is_set():
            raise JobCancelled("the job was cancelled")

    def steps(self, low: float, high: float, what: str):
        """A ``callback(step, total)`` that maps diffusion steps onto progress ``low``–``high``."""

        def callback(step: int, total: int) -> None:
            fraction = step / total if total else 1.0
            self.stage(low + (high - low) * fraction, f"{what}: step {step}/{total}", force=step >= total)

        return callback


def _log_event(message: dict[str, Any]) -> None:
    from distributed import get_worker

    try:
        worker = get_worker()
    except ValueError:
        return
    worker.log_event(TOPIC, message)


def _claim(job_id: str) -> None:
    """Mark the job started; if it had started before, a worker died running it: fail, do not rerun."""
    started = _event(started_name(job_id))
    if started is None:
        return
    if started.is_set():
        raise OutOfResources(WORKER_DIED)
    started.set()


def _preview_png(image: Any, max_side: int) -> bytes:
    image = image.copy()
    image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _written(name: str, data: bytes) -> Any:
    """The record of job file ``name`` holding ``data``, as its manifest names it (sha256 and size)."""
    from ..files import FileRecord

    return FileRecord(Path(name), hashlib.sha256(data).hexdigest(), len(data))


def _model_files(model: Any, fmt: str, reporter: Reporter) -> dict[str, Any]:
    """The model file, its manifest, a preview and the printability report, made side by side
    (numpy lets go of the GIL in each, so three threads take about as long as the slowest one)."""
    from ..mesh.export import mesh_bytes
    from ..mesh.render import render_png
    from ..model import sidecar_manifest

    reporter.stage(0.85, "exporting, checking printability and rendering a preview")
    name = f"model.{fmt}"
    with ThreadPoolExecutor(3, thread_name_prefix="orfeas-job") as pool:
        data = pool.submit(mesh_bytes, model.mesh, fmt, model.manifest)
        report = pool.submit(lambda: model.report().to_dict())
        preview = pool.submit(render_png, model.mesh, *PREVIEW_PX)
        manifest = sidecar_manifest(model.manifest, _written(name, data.result()), fmt)
        documents = {name: data.result(), "preview.png": preview.result(),
                     "manifest.json": json.dumps(manifest, indent=2, default=str).encode()}
        report = report.result()
    return {"files": documents, "result": {"format": fmt, "report": report, "triangles": len(model.mesh.faces)}}


def generate_3d(params: dict[str, Any], image: bytes | None, reporter: Reporter) -> dict[str, Any]:
    """A model from an image (bytes) or from ``params["prompt"]``; every value was checked by the server."""
    from .. import api
    from ..catalogue import catalogue

    values = dict(params)
    fmt = values.pop("format")
    prompt = values.pop("prompt", None)
    learned = catalogue().method(values["method"]).needs_weights
    if image is not None:
        reporter.stage(0.05, f"making the model ({values['method']})")
        hooks = {"callback": reporter.steps(0.05, 0.8, values["method"]), "cancel": reporter} if learned else {}
        model = api.image_to_3d(image, **values, **hooks, progress=False) if learned else api.image_to_3d(image, **values)
    else:
        reporter.stage(0.02, "generating")
        high = 0.8 if learned else 0.6
        model = api.text_to_3d(prompt, **values, callback=reporter.steps(0.02, high, "generating"), cancel=reporter,
                               progress=False)
    reporter.stage(0.8, "model made")
    return _model_files(model, fmt, reporter)


def text_to_image(params: dict[str, Any], reporter: Reporter) -> dict[str, Any]:
    """A picture from a prompt, as PNG plus a preview and the record of how it was made."""
    from .. import api
    from ..picture import picture_manifest, png_bytes

    reporter.stage(0.01, "loading the text→image model")
    picture = api.text_to_image(**params, callback=reporter.steps(0.02, 0.95, "generating"), cancel=reporter,
                                progress=False)
    record = picture.info.get("orfeas", {})
    image = png_bytes(picture)
    manifest = picture_manifest(picture, _written("image.png", image))
    documents = {"image.png": image, "preview.png": _preview_png(picture, 512),
                 "manifest.json": json.dumps(manifest, indent=2, default=str).encode()}
    return {"files": documents, "result": {"width": picture.width, "height": picture.height, "seed": record.get("seed")}}


def run_job(job_id: str, kind: str, params: dict[str, Any], image: bytes | None = None) -> dict[str, Any]:
    """Run one job on this worker and return ``{"files": {name: bytes}, "result": {...}}``."""
    _claim(job_id)
    reporter = Reporter(job_id)
    reporter.stage(0.0, "running")
    if kind == "text-to-image":
        return text_to_image(params, reporter)
    if kind == "generate-3d":
        return generate_3d(params, image, reporter)
    raise ValueError(f"unknown job type {kind!r}")
