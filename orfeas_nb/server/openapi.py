"""The OpenAPI 3.1 description of the HTTP API, served at ``{base_url}orfeas/openapi.json``.

The route tests validate every answer they get against it (tests/server), so it stays true.

    >>> sorted(spec()["paths"])[:3]
    ['/orfeas/generate-3d', '/orfeas/health', '/orfeas/health-detailed']
"""

from __future__ import annotations

from typing import Any

from .. import __version__

_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_NUMBER = {"type": ["number", "null"]}
_URL = {"type": "string", "description": "absolute path on this server"}
_ID = {"type": "string", "format": "uuid"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _errors(*codes: int) -> dict[str, Any]:
    meanings = {400: "bad values (InvalidInput, UnsupportedFormat)", 403: "no token or login cookie, or no XSRF header",
                404: "no such job or file", 405: "method not allowed", 413: "upload above ORFEAS_MAX_UPLOAD_BYTES",
                415: "not a supported image", 429: "too many requests or queued jobs; see Retry-After",
                500: "server error (no details)"}
    out = {str(code): _json("Error", meanings[code]) for code in (*codes, 403, 405, 500)}
    if "429" in out:
        out["429"]["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}}
    return out


_ERROR = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "properties": {"error": _ref("ErrorDetail")},
}
_ERROR_DETAIL = {
    "type": "object", "required": ["type", "message"], "additionalProperties": False,
    "properties": {"type": {"type": "string", "description": "the orfeas_nb error class, e.g. InvalidInput"},
                   "message": {"type": "string"}},
}
_REPORT = {
    "type": "object", "description": "printability report of the model",
    "required": ["watertight", "manifold", "volume_mm3", "bounds_mm", "triangles", "warnings"],
    "properties": {
        "watertight": {"type": "boolean"}, "manifold": {"type": "boolean"}, "winding_consistent": {"type": "boolean"},
        "volume_mm3": {"type": "number"}, "triangles": {"type": "integer"}, "bodies": {"type": "integer"},
        "bounds_mm": {"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3},
        "min_wall_mm": _NULLABLE_NUMBER, "warnings": {"type": "array", "items": {"type": "string"}},
    },
}
_JOB = {
    "type": "object", "additionalProperties": False,
    "required": ["job_id", "type", "status", "progress", "message", "error", "created", "started", "finished", "status_url"],
    "properties": {
        "job_id": _ID,
        "type": {"enum": ["upload", "text-to-image", "generate-3d"]},
        "status": {"enum": ["queued", "running", "done", "failed", "cancelled"]},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "message": {"type": "string"},
        "error": {"oneOf": [{"type": "null"}, _ref("ErrorDetail")]},
        "created": {"type": "string", "format": "date-time"},
        "started": {"type": ["string", "null"], "format": "date-time"},
        "finished": {"type": ["string", "null"], "format": "date-time"},
        "status_url": _URL, "model_url": _URL, "image_url": _URL, "preview_url": _URL, "manifest_url": _URL,
        "width": {"type": "integer"}, "height": {"type": "integer"}, "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "format": {"type": "string"}, "seed": {"type": ["integer", "null"]}, "triangles": {"type": "integer"},
        "report": _ref("Report"),
    },
}
_ENGINE = {
    "type": "object", "required": ["state", "scheduler", "workers", "running", "queued"],
    "properties": {"state": {"enum": ["idle", "starting", "ready", "failed"]}, "reason": _NULLABLE_STRING,
                   "scheduler": {"type": "string"}, "workers": {"type": "integer"}, "running": {"type": "integer"},
                   "worker_pids": {"type": "array", "items": {"type": "integer"}},
                   "queued": {"type": "integer"}},
}
_HEALTH_DETAILED = {
    "type": "object",
    "required": ["status", "reason", "cpu_percent", "memory_percent", "gpu_available", "gpu_count", "gpus", "kernels", "engine"],
    "properties": {
        "status": {"enum": ["healthy", "degraded"]}, "reason": _NULLABLE_STRING,
        "cpu_percent": _NULLABLE_NUMBER, "memory_percent": _NULLABLE_NUMBER,
        "gpu_available": {"type": "boolean"}, "gpu_count": {"type": "integer", "minimum": 0},
        "gpus": {"type": "array", "items": {"type": "object", "required": ["id", "used_bytes", "total_bytes"]}},
        "memory": {"type": ["object", "null"]}, "kernels": {"type": "integer"}, "version": {"type": "string"},
        "metrics_dir": _NULLABLE_STRING, "engine": _ref("Engine"),
    },
}
_RUN = {
    "seed": {"type": "integer", "minimum": 0}, "steps": {"type": "integer", "minimum": 1, "description": "range: see the method"},
    "model": {"type": "string", "description": "hub id or model folder on the server"},
}
_GENERATE = {
    "type": "object", "description": "job_id or prompt, plus the method's own options by name (see orfeas_nb.methods())",
    "oneOf": [{"required": ["job_id"]}, {"required": ["prompt"]}],
    "properties": {
        "job_id": _ID, "prompt": {"type": "string"},
        "image_model": {"type": "string"}, "depth_model": {"type": "string"}, "negative_prompt": {"type": "string"}, **_RUN,
    },
}
_IMAGES = ("image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp", "image/tiff")


def _files() -> dict[str, tuple[str, ...]]:
    from ..catalogue import catalogue

    models = tuple(dict.fromkeys(f.media_type for f in catalogue().formats.values()))
    return {"model": models, "image": _IMAGES, "preview": ("image/png",), "manifest": ("application/json",)}


def _requests() -> dict[str, Any]:
    """The two request bodies, with the names and ranges of the catalogue."""
    from ..catalogue import catalogue

    cat = catalogue()
    styles = {"enum": list(cat.styles)}
    ranges = {opt.name: {"type": "integer", "minimum": opt.low, "maximum": opt.high,
                         **({"multipleOf": opt.multiple_of} if opt.multiple_of else {})} for opt in cat.generation}
    text = {"type": "object", "required": ["prompt"], "additionalProperties": False,
            "properties": {"prompt": {"type": "string"}, "art_style": styles, "style": {**styles, "description": "alias"},
                           "negative_prompt": {"type": "string"}, "model": _RUN["model"], **ranges}}
    quality, size = cat.common
    generate = {**_GENERATE, "properties": {
        **_GENERATE["properties"], "art_style": styles, "style": styles, "format": {"enum": list(cat.formats), "default": "stl"},
        "method": {"enum": list(cat.methods), "description": "relief (images) or shap-e (prompts) by default"},
        "quality": {"type": "integer", "minimum": quality.low, "maximum": quality.high, "default": 7},
        "size_mm": {"type": "number", "minimum": size.low, "maximum": size.high, "default": 100}}}
    return {"TextToImageRequest": text, "GenerateRequest": generate}


def _job_path() -> dict[str, Any]:
    param = [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    return {
        "parameters": param,
        "get": {"summary": "a job's status, progress, error and, when done, its URLs and report",
                "responses": {"200": _json("Job", "the job"), **_errors(404, 429)}},
        "delete": {"summary": "cancel the job (a running one stops within one diffusion step or mesh stage)",
                   "responses": {"200": _json("Job", "the job after the cancel request"), **_errors(404, 429)}},
    }


def _file_path(kind: str) -> dict[str, Any]:
    binary = {"type": "object"} if kind == "manifest" else {"type": "string", "format": "binary"}
    content = {media: {"schema": binary} for media in _files()[kind]}
    return {
        "parameters": [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "get": {"summary": f"the {kind} file of a finished job, as a download",
                "responses": {"200": {"description": f"the {kind}", "content": content,
                                      "headers": {"Content-Disposition": {"schema": {"type": "string"}}}},
                              **_errors(404, 429)}},
    }


def spec(base_url: str = "/") -> dict[str, Any]:
    """The OpenAPI document; paths are absolute (under ``base_url``), ``servers`` is the server's root."""
    prefix = base_url.rstrip("/") + "/orfeas"
    paths = {
        "/health": {"get": {"summary": "ready, or online while the job engine starts; open without auth",
                            "security": [], "responses": {"200": _json("Health", "the status only")}}},
        "/health-detailed": {"get": {"summary": "host, GPUs, kernels and the job engine",
                                     "responses": {"200": _json("HealthDetailed", "details"), **_errors()}}},
        "/metrics": {"get": {"summary": "Prometheus text format", "responses": {
            "200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}, **_errors()}}},
        "/upload-image": {"post": {
            "summary": "upload an image (sniffed, size- and pixel-checked); the upload is a finished job",
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}},
            "responses": {"200": _json("Upload", "the stored image"), **_errors(400, 413, 415, 429)}}},
        "/text-to-image": {"post": {
            "summary": "queue a text→image job",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("TextToImageRequest")}}},
            "responses": {"202": _json("Accepted", "queued"), **_errors(400, 429)}}},
        "/generate-3d": {"post": {
            "summary": "queue a 3D model job from an upload, a finished text-to-image job or a prompt",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("GenerateRequest")}}},
            "responses": {"202": _json("Accepted", "queued"), **_errors(400, 404, 429)}}},
        "/jobs": {"get": {
            "summary": "recent jobs, newest first",
            "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                           {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
            "responses": {"200": _json("JobList", "one page"), **_errors(400, 429)}}},
        "/jobs/{job_id}": _job_path(),
        **{f"/jobs/{{job_id}}/{kind}": _file_path(kind) for kind in ("model", "image", "preview", "manifest")},
        "/openapi.json": {"get": {"summary": "this document", "responses": {
            "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}},
            **_errors(429)}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "orfeas_nb HTTP API", "version": __version__,
                 "description": "The ORFEAS routes on the Jupyter server. Auth: Jupyter's token "
                                "(header 'Authorization: token <token>') or login cookie plus X-XSRFToken."},
        "servers": [{"url": "/"}],
        "security": [{"token": []}],
        "paths": {prefix + path: item for path, item in paths.items()},
        "components": {
            "securitySchemes": {"token": {"type": "apiKey", "in": "header", "name": "Authorization",
                                          "description": "token <Jupyter token>"}},
            "schemas": {
                "Error": _ERROR, "ErrorDetail": _ERROR_DETAIL, "Report": _REPORT, "Job": _JOB, "Engine": _ENGINE,
                "Health": {"type": "object", "required": ["status"], "additionalProperties": False,
                           "properties": {"status": {"enum": ["ready", "online"]}}},
                "HealthDetailed": _HEALTH_DETAILED,
                "Upload": {"type": "object", "additionalProperties": False,
                           "required": ["job_id", "preview_url", "width", "height", "sha256"],
                           "properties": {"job_id": _ID, "preview_url": _URL, "width": {"type": "integer", "minimum": 1},
                                          "height": {"type": "integer", "minimum": 1},
                                          "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}},
                "Accepted": {"type": "object", "additionalProperties": False, "required": ["job_id", "status_url"],
                             "properties": {"job_id": _ID, "status_url": _URL}},
                "JobList": {"type": "object", "additionalProperties": False, "required": ["jobs", "total", "limit", "offset"],
                            "properties": {"jobs": {"type": "array", "items": _ref("Job")}, "total": {"type": "integer"},
                                           "limit": {"type": "integer"}, "offset": {"type": "integer"}}},
                **_requests(),
            },
        },
    }
