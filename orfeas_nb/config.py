"""Limits and defaults, each overridable by an ``ORFEAS_*`` environment variable.

Values are read from the environment every time :func:`get` is called, so a notebook can change a
limit with ``os.environ[...] = ...`` without restarting the kernel. :data:`SETTINGS` documents each
one; ``orfeas doctor`` prints the values in force.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput


@dataclass(frozen=True)
class Setting:
    """One configurable value: its environment variable, default, type and meaning."""

    env: str
    default: object
    kind: type
    doc: str


SETTINGS: dict[str, Setting] = {
    s.env.removeprefix("ORFEAS_").lower(): s
    for s in (
        Setting("ORFEAS_MAX_UPLOAD_BYTES", 50 * 1024 * 1024, int, "largest image file accepted, in bytes"),
        Setting("ORFEAS_MAX_PIXELS", 50_000_000, int, "largest image accepted, width × height (decompression bombs)"),
        Setting("ORFEAS_MAX_PROMPT_CHARS", 1000, int, "longest prompt accepted, in characters"),
        Setting("ORFEAS_MIN_SIZE_MM", 1.0, float, "smallest longest side of a model, in millimetres"),
        Setting("ORFEAS_MAX_SIZE_MM", 2000.0, float, "largest longest side of a model, in millimetres"),
        Setting("ORFEAS_MAX_GRID", 1024, int, "most height-field samples along the longest side (caps memory)"),
        Setting("ORFEAS_QUEUE_LENGTH", 8, int, "most jobs waiting in a job queue before new ones are refused"),
        Setting("ORFEAS_OUTPUT_DIR", "orfeas_output", str, "folder that receives outputs when none is given"),
        Setting("ORFEAS_PREVIEW_MAX_FACES", 200_000, int, "most triangles sent to a 3D preview (level of detail)"),
        Setting("ORFEAS_DEVICE", "", str, "torch device to use (cuda, mps, cpu); empty picks cuda → mps → cpu"),
        Setting("ORFEAS_DTYPE", "auto", str, "model dtype: auto (float16 on CUDA, else float32), float16, bfloat16, float32"),
        Setting("ORFEAS_CPU_OFFLOAD", "auto", str, "accelerate CPU offload: auto (when the GPU is short), on, off"),
        Setting("ORFEAS_RESIDENT_MODELS", 2, int, "most loaded pipelines kept in memory at once"),
        Setting("ORFEAS_TEXT_TO_IMAGE_MODEL", "stabilityai/sd-turbo", str, "text→image model: hub id or folder"),
        Setting("ORFEAS_DEPTH_MODEL", "depth-anything/Depth-Anything-V2-Small-hf", str, "depth model: hub id or folder"),
        Setting("ORFEAS_SHAP_E_MODEL", "openai/shap-e", str, "Shap-E text→3D model: hub id or folder"),
        Setting("ORFEAS_SHAP_E_IMG2IMG_MODEL", "openai/shap-e-img2img", str, "Shap-E image→3D model: hub id or folder"),
        Setting("ORFEAS_METRICS_PORT", 9108, int, "port of `orfeas metrics` / monitoring.serve() (on 127.0.0.1)"),
        Setting("ORFEAS_METRICS_INTERVAL", 2.0, float, "seconds between host and job-queue samples for metrics"),
        Setting("ORFEAS_BATCH_MAX_RUNS", 10_000, int, "most runs one `orfeas batch` parameter file may expand to"),
        Setting("ORFEAS_BATCH_PRELOAD", "orfeas_nb.api,orfeas_nb.mesh.render,IPython.display", str,
                "modules a local batch's warm kernels import once (comma-separated); none: every kernel starts afresh"),
        Setting("ORFEAS_SCHEDULER_TIMEOUT_S", 15.0, float, "seconds `orfeas batch --scheduler` waits for it and a worker"),
        Setting("ORFEAS_JOBS_DIR", "", str, "HTTP API job records and files; empty: orfeas/jobs in Jupyter's data dir"),
        Setting("ORFEAS_SCHEDULER", "", str, "Dask scheduler address the HTTP API sends jobs to; empty: a local cluster"),
        Setting("ORFEAS_SERVER_WORKERS", 1, int, "worker processes of the HTTP API's local cluster (with CUDA: one per GPU)"),
        Setting("ORFEAS_MAX_QUEUED_JOBS", 16, int, "most HTTP API jobs waiting before new ones get 429 Too Many Requests"),
        Setting("ORFEAS_RATE_LIMIT", 600, int, "most HTTP API requests a minute from one client before 429 (bursts of 1/6)"),
        Setting("ORFEAS_JOBS_KEEP_DAYS", 7.0, float, "days the HTTP API keeps finished jobs and their files"),
    )
}


def get(name: str):
    """Return the value in force for setting ``name`` (e.g. ``get("max_pixels")``).

    >>> get("queue_length") >= 1
    True
    """
    setting = SETTINGS[name]
    raw = os.environ.get(setting.env)
    if raw is None or raw == "":
        return setting.default
    try:
        value = setting.kind(raw)
    except ValueError:
        raise InvalidInput(
            f"{setting.env}={raw!r} is not a valid {setting.kind.__name__}: {setting.doc}; "
            f"unset it or use a value like {setting.default!r}"
        ) from None
    if setting.kind in (int, float) and value <= 0:
        raise InvalidInput(f"{setting.env} must be positive, got {raw!r}")
    return value


def output_dir() -> Path:
    """The default output folder (``ORFEAS_OUTPUT_DIR``, relative to the working directory)."""
    return Path(get("output_dir"))


def describe() -> list[tuple[str, object, str]]:
    """Every setting as (environment variable, value in force, meaning), for ``orfeas doctor``."""
    return [(s.env, get(name), s.doc) for name, s in SETTINGS.items()]
