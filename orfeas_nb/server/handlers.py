"""The routes of the ORFEAS HTTP API under ``{base_url}orfeas/`` (see :mod:`.openapi` for the contract)."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from tornado import httputil, web

from .. import config
from ..errors import InvalidInput, OrfeasError, UnsupportedFormat
from ..jobstate import DONE, FINISHED, QUEUED, job_dict
from ..validation import load_image
from .base import ApiError, OrfeasHandler
from .store import valid_id

ENVELOPE_BYTES = 64 * 1024  # room for the multipart headers around the file
MEDIA_TYPES = {"png": "image/png", "json": "application/json"}
FILE_KINDS = ("model", "image", "preview", "manifest")


def _job_file(record: dict[str, Any], kind: str) -> tuple[str, str, str] | None:
    """(stored name, media type, download suffix) of a finished job's ``kind`` of file, or None."""
    from ..catalogue import catalogue

    names = record["result"].get("files", [])
    if kind == "model":
        found = [n for n in names if n.startswith("model.")]
        fmt = found[0].split(".")[1] if found else None
        return (found[0], catalogue().formats[fmt].media_type, fmt) if fmt else None
    if kind == "image" and record["type"] == "upload" and "input" in names:
        fmt = record["result"].get("format", "png").lower()
        suffix = {"jpeg": "jpg", "tiff": "tif"}.get(fmt, fmt)
        return "input", f"image/{fmt}", suffix
    wanted = {"image": "image.png", "preview": "preview.png", "manifest": "manifest.json"}[kind]
    return (wanted, MEDIA_TYPES[wanted.split(".")[1]], wanted.split(".")[1]) if wanted in names else None


class JobView:
    """Turns a stored record into what ``GET jobs/{id}`` answers."""

    def __init__(self, handler: OrfeasHandler):
        self.handler = handler

    def __call__(self, record: dict[str, Any]) -> dict[str, Any]:
        error = {"type": record["error_type"], "message": record["error_message"]} if record["error_type"] else None
        view = job_dict(record["id"], record["type"], record["status"], progress=record["progress"],
                        message=record["message"], error=error, created=record["created"],
                        started=record["started"], finished=record["finished"])
        view["status_url"] = self.handler.url("jobs", record["id"])
        if record["status"] != DONE:
            return view
        result = record["result"]
        for kind in FILE_KINDS:
            if _job_file(record, kind) is not None:
                view[f"{kind}_url"] = self.handler.url("jobs", record["id"], kind)
        for key in ("width", "height", "sha256", "format", "seed", "triangles", "report"):
            if key in result:
                view[key] = result[key]
        return view


class HealthHandler(OrfeasHandler):
    """Open to probes: ``ready``, or ``online`` while the job engine starts; nothing more."""

    endpoint, limited, _track_activity = "health", False, False

    @allow_unauthenticated
    def get(self) -> None:
        self.reply({"status": "online" if self.api["engine"].state == "starting" else "ready"})


class HealthDetailedHandler(OrfeasHandler):
    """Host, GPUs, kernels and the job engine, with ``healthy`` or ``degraded`` and why."""

    endpoint, _track_activity = "health-detailed", False

    @web.authenticated
    async def get(self) -> None:
        from .health import detailed_health

        kernels = len(self.kernel_manager.list_kernel_ids())
        engine = await asyncio.get_running_loop().run_in_executor(None, self.api["engine"].describe)
        self.reply(detailed_health(self.settings, kernels, engine))


class MetricsHandler(OrfeasHandler):
    """Prometheus text format: every kernel's and worker's metrics summed, host gauges, request metrics."""

    endpoint, limited, _track_activity = "metrics", False, False

    def compute_etag(self) -> None:
        return None  # always fresh numbers

    @web.authenticated
    async def get(self) -> None:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        from .health import SETTINGS_KEY

        registry = self.settings[SETTINGS_KEY]["registry"]
        body = await asyncio.get_running_loop().run_in_executor(None, generate_latest, registry)
        self.finish(body, set_content_type=CONTENT_TYPE_LATEST)


@web.stream_request_body
class UploadHandler(OrfeasHandler):
    """``multipart/form-data`` field ``file`` → a finished ``upload`` job with the checked image."""

    endpoint = "upload-image"

    # Refusals (XSRF, rate limit) are answered after the body is read: a streaming handler that answers
    # early closes the connection under a client still sending, which then sees a reset, not the answer.
    _refusal: web.HTTPError | None = None

    def check_xsrf_cookie(self) -> None:
        try:
            super().check_xsrf_cookie()
        except web.HTTPError as exc:
            self._refusal = exc

    async def prepare(self) -> None:
        self._chunks: list[bytes] = []
        self._received = 0
        self._limit = config.get("max_upload_bytes")
        try:
            await super().prepare()
        except web.HTTPError as exc:
            self._refusal = self._refusal or exc

    def data_received(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._received <= self._limit + ENVELOPE_BYTES and self.current_user and self._refusal is None:
            self._chunks.append(chunk)
        else:
            self._chunks.clear()  # drained, not kept

    def _too_large(self, size: int) -> ApiError:
        return ApiError(413, f"the upload is {size} bytes, more than the limit of {self._limit} "
                             "(ORFEAS_MAX_UPLOAD_BYTES); send a smaller image")

    @web.authenticated
    async def post(self) -> None:
        if self._refusal is not None:
            raise self._refusal
        if self._received > self._limit + ENVELOPE_BYTES:
            raise self._too_large(self._received)
        fields: dict[str, list[httputil.HTTPFile]] = {}
        httputil.parse_body_arguments(self.request.headers.get("Content-Type", ""), b"".join(self._chunks), {}, fields,
                                      self.request.headers)
        if not fields.get("file"):
            raise ApiError(400, "no file: send the image as the multipart/form-data field 'file' "
                                "(curl -F file=@photo.png ...)")
        data = fields["file"][0].body
        if len(data) > self._limit:
            raise self._too_large(len(data))
        loop = asyncio.get_running_loop()
        try:
            record = await loop.run_in_executor(None, _store_upload, self.api["store"], data, self.request.remote_ip)
        except UnsupportedFormat as exc:
            raise ApiError.from_error(exc, 415) from None
        except OrfeasError as exc:
            raise ApiError.from_error(exc) from None
        self.reply({"job_id": record["id"], "preview_url": self.url("jobs", record["id"], "preview"),
                    "width": record["result"]["width"], "height": record["result"]["height"],
                    "sha256": record["result"]["sha256"]})


def _store_upload(store: Any, data: bytes, client: str | None) -> dict[str, Any]:
    """Check and decode the image (the validator the CLI and widgets use), keep it and a preview."""
    from .store import new_id

    loaded = load_image(data)
    preview = loaded.image.copy()
    preview.thumbnail((512, 512))
    buffer = io.BytesIO()
    preview.save(buffer, format="PNG", compress_level=1)  # 4× faster than the default, 10% larger
    job_id = new_id()
    store.publish(job_id, {"input": data, "preview.png": buffer.getvalue()})
    width, height = loaded.size
    result = {"width": width, "height": height, "sha256": loaded.sha256, "format": loaded.format,
              "files": ["input", "preview.png"]}
    store.create("upload", status=DONE, result=result, client=client or "", message="done", job_id=job_id)
    return store.get(job_id)


class _SubmitHandler(OrfeasHandler):
    """Shared by the routes that queue work: the queue limit, then 202 with the job's URL."""

    def check_queue(self) -> None:
        limit = config.get("max_queued_jobs")
        if self.api["store"].count(QUEUED) >= limit:
            raise ApiError(429, f"{limit} jobs are waiting already (ORFEAS_MAX_QUEUED_JOBS); retry in a few seconds",
                           retry_after=5)

    def accepted(self, job_id: str) -> None:
        url = self.url("jobs", job_id)
        self.set_header("Location", url)
        self.reply({"job_id": job_id, "status_url": url}, status=202)


class TextToImageHandler(_SubmitHandler):
    endpoint = "text-to-image"

    @web.authenticated
    def post(self) -> None:
        from .params import text_to_image_params

        try:
            params = text_to_image_params(self.json_body())
        except OrfeasError as exc:
            raise ApiError.from_error(exc) from None
        self.check_queue()
        store = self.api["store"]
        job_id = store.create("text-to-image", params=params, client=self.request.remote_ip or "")
        self.api["engine"].submit(job_id, "text-to-image", params)
        self.accepted(job_id)


class GenerateHandler(_SubmitHandler):
    endpoint = "generate-3d"

    @web.authenticated
    def post(self) -> None:
        from .params import generate_3d_params

        try:
            source, params = generate_3d_params(self.json_body())
        except OrfeasError as exc:
            raise ApiError.from_error(exc) from None
        store = self.api["store"]
        image_path = None
        if source is not None:
            record = store.get(valid_id(source) or "")
            if record is None:
                raise ApiError(404, f"no job {source!r}: upload an image first (POST {self.url('upload-image')})")
            if record["type"] == "generate-3d" or record["status"] != DONE:
                raise ApiError.from_error(InvalidInput(
                    f"job {source} is a {record['type']} job with status {record['status']}; generate-3d takes a "
                    "finished upload or text-to-image job"))
            image_path = store.path(record["id"], "input" if record["type"] == "upload" else "image.png")
            params["source_job"] = record["id"]
        self.check_queue()
        job_id = store.create("generate-3d", params=params, client=self.request.remote_ip or "")
        work_params = {k: v for k, v in params.items() if k != "source_job"}
        self.api["engine"].submit(job_id, "generate-3d", work_params, image_path)
        self.accepted(job_id)


class _JobRoute(OrfeasHandler):
    def record(self, job_id: str) -> dict[str, Any]:
        found = self.api["store"].get(valid_id(job_id) or "")
        if found is None:
            raise ApiError(404, f"no job {job_id!r}; GET {self.url('jobs')} lists the recent ones")
        return found


class JobHandler(_JobRoute):
    endpoint = "jobs/{id}"

    @web.authenticated
    def get(self, job_id: str) -> None:
        self.reply(JobView(self)(self.record(job_id)))

    @web.authenticated
    def delete(self, job_id: str) -> None:
        record = self.record(job_id)
        if record["status"] not in FINISHED:
            self.api["engine"].cancel(record["id"])
        self.reply(JobView(self)(self.record(job_id)))


class JobFileHandler(_JobRoute):
    """``model``, ``image``, ``preview`` or ``manifest`` of a finished job, as a download."""

    def initialize(self, kind: str) -> None:
        self.kind = kind
        self.endpoint = f"jobs/{{id}}/{kind}"

    @web.authenticated
    async def get(self, job_id: str) -> None:
        record = self.record(job_id)
        found = _job_file(record, self.kind) if record["status"] == DONE else None
        if found is None:
            raise ApiError(404, f"job {record['id']} ({record['type']}, {record['status']}) has no {self.kind} file")
        name, media_type, suffix = found
        path = self.api["store"].path(record["id"], name)
        data = await asyncio.get_running_loop().run_in_executor(None, path.read_bytes)
        disposition = "inline" if self.kind == "preview" else "attachment"
        self.set_header("Content-Disposition", f'{disposition}; filename="orfeas-{record["id"][:8]}-{self.kind}.{suffix}"')
        self.finish(data, set_content_type=media_type)


class JobsHandler(OrfeasHandler):
    endpoint = "jobs"

    def _page_value(self, name: str, default: int, high: int) -> int:
        raw = self.get_query_argument(name, str(default))
        if not raw.isdigit() or int(raw) > high:
            raise ApiError(400, f"{name} must be a whole number from 0 to {high}, got {raw!r}")
        return int(raw)

    @web.authenticated
    def get(self) -> None:
        limit = max(1, self._page_value("limit", 20, 100))
        offset = self._page_value("offset", 0, 10**9)
        records, total = self.api["store"].recent(limit, offset)
        view = JobView(self)
        self.reply({"jobs": [view(r) for r in records], "total": total, "limit": limit, "offset": offset})


class OpenAPIHandler(OrfeasHandler):
    endpoint = "openapi.json"

    @web.authenticated
    def get(self) -> None:
        from .openapi import spec

        self.finish(json.dumps(spec(self.base_url)))
