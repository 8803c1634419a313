"""Limits and defaults, each overridable by an ``ORFEAS_*`` environment variable.

Values are read from the environment every time :func:`get` is called, so a notebook can change a
limit with ``os.environ[...] = ...`` without restarting the kernel; each distinct text is parsed and
checked once, in one place (:meth:`Setting.parse`): numbers must be finite and in their range, choices
one of theirs, text free of control characters, or :class:`InvalidInput` names the variable (exit 2).
:data:`SETTINGS` documents each one; ``orfeas doctor`` prints the values in force.
"""

from __future__ import annotations

import functools
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput


@dataclass(frozen=True)
class Setting:
    """One configurable value: its environment variable, default, type, meaning, and what is accepted.

    Numbers must be finite and within [``low``, ``high``]; text with ``choices`` must be one of them; any
    text must be free of NUL and other control characters.
    """

    env: str
    default: object
    kind: type
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None

    def parse(self, raw: str):
        """The value of ``raw`` (the variable's text), checked; :class:`InvalidInput` naming the variable if not."""
        return _parse(self, raw)


SETTINGS: dict[str, Setting] = {
    s.env.removeprefix("ORFEAS_").lower(): s
    for s in (
        Setting("ORFEAS_MAX_UPLOAD_BYTES", 50 * 1024 * 1024, int, "largest image file accepted, in bytes", 1, 2**40),
        Setting("ORFEAS_MAX_PIXELS", 50_000_000, int, "largest image accepted, width × height (decompression bombs)",
                1, 2**32),
        Setting("ORFEAS_MAX_PROMPT_CHARS", 1000, int, "longest prompt accepted, in characters", 1, 1_000_000),
        Setting("ORFEAS_MIN_SIZE_MM", 1.0, float, "smallest longest side of a model, in millimetres", 0.01, 100_000.0),
        Setting("ORFEAS_MAX_SIZE_MM", 2000.0, float, "largest longest side of a model, in millimetres", 0.01, 100_000.0),
        Setting("ORFEAS_MAX_GRID", 1024, int, "most height-field samples along the longest side (caps memory)", 16, 16384),
        Setting("ORFEAS_QUEUE_LENGTH", 8, int, "most jobs waiting in a job queue before new ones are refused", 1, 1_000_000),
        Setting("ORFEAS_OUTPUT_DIR", "orfeas_output", str, "folder that receives outputs when none is given"),
        Setting("ORFEAS_PREVIEW_MAX_FACES", 200_000, int, "most triangles sent to a 3D preview (level of detail)",
                100, 100_000_000),
        Setting("ORFEAS_DEVICE", "", str, "torch device to use (cuda, mps, cpu); empty picks cuda → mps → cpu"),
        Setting("ORFEAS_DTYPE", "auto", str, "model dtype: auto (float16 on CUDA, else float32), float16, bfloat16, float32",
                choices=("auto", "float16", "bfloat16", "float32")),
        Setting("ORFEAS_CPU_OFFLOAD", "auto", str, "accelerate CPU offload: auto (when the GPU is short), on, off",
                choices=("auto", "on", "off")),
        Setting("ORFEAS_RESIDENT_MODELS", 2, int, "most loaded pipelines kept in memory at once", 1, 64),
        Setting("ORFEAS_TEXT_TO_IMAGE_MODEL", "stabilityai/sd-turbo", str, "text→image model: hub id or folder"),
        Setting("ORFEAS_DEPTH_MODEL", "depth-anything/Depth-Anything-V2-Small-hf", str, "depth model: hub id or folder"),
        Setting("ORFEAS_SHAP_E_MODEL", "openai/shap-e", str, "Shap-E text→3D model: hub id or folder"),
        Setting("ORFEAS_SHAP_E_IMG2IMG_MODEL", "openai/shap-e-img2img", str, "Shap-E image→3D model: hub id or folder"),
        Setting("ORFEAS_METRICS_PORT", 9108, int, "port of `orfeas metrics` / monitoring.serve() (on 127.0.0.1)", 1, 65535),
        Setting("ORFEAS_METRICS_INTERVAL", 2.0, float, "seconds between host and job-queue samples for metrics",
                0.05, 86_400.0),
        Setting("ORFEAS_BATCH_MAX_RUNS", 10_000, int, "most runs one `orfeas batch` parameter file may expand to",
                1, 10_000_000),
        Setting("ORFEAS_BATCH_PRELOAD", "orfeas_nb.api,orfeas_nb.mesh.render,IPython.display", str,
                "modules a local batch's warm kernels import once (comma-separated); none: every kernel starts afresh"),
        Setting("ORFEAS_BATCH_RUN_TIMEOUT", 3600.0, float,
                "seconds one `orfeas batch` run may take; then its kernel is killed and the run fails", 0.1, 604_800.0),
        Setting("ORFEAS_SCHEDULER_TIMEOUT_S", 15.0, float, "seconds `orfeas batch --scheduler` waits for it and a worker",
                0.1, 86_400.0),
        Setting("ORFEAS_JOBS_DIR", "", str, "HTTP API job records and files; empty: orfeas/jobs in Jupyter's data dir"),
        Setting("ORFEAS_SCHEDULER", "", str, "Dask scheduler address the HTTP API sends jobs to; empty: a local cluster"),
        Setting("ORFEAS_SERVER_WORKERS", 1, int, "worker processes of the HTTP API's local cluster (with CUDA: one per GPU)",
                1, 1024),
        Setting("ORFEAS_MAX_QUEUED_JOBS", 16, int, "most HTTP API jobs waiting before new ones get 429 Too Many Requests",
                1, 1_000_000),
        Setting("ORFEAS_RATE_LIMIT", 600, int, "most HTTP API requests a minute from one client before 429 (bursts of 1/6)",
                1, 1_000_000_000),
        Setting("ORFEAS_JOBS_KEEP_DAYS", 7.0, float, "days the HTTP API keeps finished jobs and their files", 0.001, 36_500.0),
    )
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _number_text(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else f"{value:,}".replace(",", "_")


@functools.lru_cache(maxsize=256)
def _parse(setting: Setting, raw: str):
    """Parse and check one raw value (cached: each distinct text is parsed once)."""
    shown = repr(raw if len(raw) <= 40 else raw[:37] + "…")
    if setting.kind is str:
        text = raw.strip()
        if _CONTROL.search(text):
            raise InvalidInput(f"{setting.env} contains a control character; got {shown}: {setting.doc}")
        if setting.choices is not None and text.lower() not in setting.choices:
            raise InvalidInput(f"{setting.env} must be one of {', '.join(setting.choices)}; got {shown}")
        return text
    what = "a whole number" if setting.kind is int else "a finite number"
    low = setting.low if setting.low is not None else (1 if setting.kind is int else 1e-9)  # unranged: positive
    high = setting.high if setting.high is not None else (2**63 - 1 if setting.kind is int else 1e300)
    expected = f"{setting.env} must be {what} between {_number_text(low)} and {_number_text(high)}"
    try:
        value = setting.kind(raw.strip())
    except (ValueError, OverflowError):
        raise InvalidInput(f"{expected} ({setting.doc}); got {shown}: unset it or use a value like {setting.default!r}") from None
    if (setting.kind is float and not math.isfinite(value)) or not low <= value <= high:
        raise InvalidInput(f"{expected} ({setting.doc}); got {shown}")
    return value


def get(name: str):
    """Return the value in force for setting ``name`` (e.g. ``get("max_pixels")``).

    Read from the environment each call (a notebook may change it); each distinct text is parsed and
    checked once. A bad value is :class:`InvalidInput` naming the variable and what it accepts.

    >>> get("queue_length") >= 1
    True
    """
    setting = SETTINGS[name]
    raw = os.environ.get(setting.env)
    if raw is None or raw.strip() == "":
        return setting.default
    return setting.parse(raw)


def size_limits() -> tuple[float, float]:
    """(``ORFEAS_MIN_SIZE_MM``, ``ORFEAS_MAX_SIZE_MM``), refused when the minimum exceeds the maximum."""
    low, high = get("min_size_mm"), get("max_size_mm")
    if low > high:
        raise InvalidInput(f"ORFEAS_MIN_SIZE_MM ({low:g}) is larger than ORFEAS_MAX_SIZE_MM ({high:g}); fix one of them")
    return low, high


def check_all() -> list[str]:
    """Every setting in force that is refused, as its one-line message (empty when all are fine)."""
    problems = []
    for name in SETTINGS:
        try:
            get(name)
        except InvalidInput as exc:
            problems.append(str(exc))
    try:
        size_limits()
    except InvalidInput as exc:
        problems.append(str(exc))
    return list(dict.fromkeys(problems))


def output_dir() -> Path:
    """The default output folder (``ORFEAS_OUTPUT_DIR``, relative to the working directory)."""
    return Path(get("output_dir"))


def describe() -> list[tuple[str, object, str]]:
    """Every setting as (environment variable, value in force, meaning), for ``orfeas doctor``; a refused
    value shows as ``invalid: <why>`` instead of stopping the report."""
    rows = []
    for name, s in SETTINGS.items():
        try:
            value = get(name)
        except InvalidInput as exc:
            value = f"invalid: {exc}"
        rows.append((s.env, value, s.doc))
    return rows
