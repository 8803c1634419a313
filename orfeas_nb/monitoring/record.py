"""Record generations and job counts. Works without prometheus-client: then recording is skipped.

The api wraps each public function once, at its boundary::

    @recorded("image_to_3d", provider=lambda args: args["method"])
    def image_to_3d(image, *, method="relief", ...): ...

or, around any block of work::

    >>> with record_generation("image_to_3d", "relief") as generation:
    ...     pass  # the work; generation.observe(model) adds its stage timings and triangle count

Each call counts once in ``orfeas_generations_total{type,provider,status}`` with status
``success``, ``failed`` (it raised) or ``cancelled`` (:class:`~orfeas_nb.errors.JobCancelled` or
Ctrl-C); successful ones also feed the duration, per-stage and triangle histograms. Calls nested in a
recorded call (text_to_3d → image_to_3d) are part of the outer generation and are not counted again.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .. import config
from ..errors import JobCancelled
from .sampler import Sampler

if TYPE_CHECKING:  # pragma: no cover
    from prometheus_client import CollectorRegistry

    from .definitions import Metrics

F = TypeVar("F", bound=Callable[..., Any])
_recording = contextvars.ContextVar("orfeas_recording", default=False)
_log = logging.getLogger(__name__)
_watcher_lock = threading.Lock()
_watcher: Sampler | None = None


def _metrics(registry: CollectorRegistry | None = None) -> Metrics | None:
    try:
        from .definitions import metrics
    except ImportError:  # prometheus-client is an optional extra
        return None
    return metrics(registry)


class Generation:
    """What a generation reports besides its outcome: stage seconds and the triangle count."""

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self.triangles: int | None = None

    def observe(self, result: Any) -> None:
        """Take stage timings and the triangle count from a result's manifest (a Model3D), if it has one."""
        manifest = getattr(result, "manifest", None)
        if not isinstance(manifest, Mapping):
            return
        for stage, seconds in (manifest.get("timings_s") or {}).items():
            if stage != "total" and isinstance(seconds, (int, float)):
                self.stages[stage] = float(seconds)
        if isinstance(manifest.get("triangles"), int):
            self.triangles = manifest["triangles"]


def _start(type: str, provider: str, registry: CollectorRegistry | None) -> Metrics | None:
    found = None if _recording.get() else _metrics(registry)
    if found is not None:
        watch_jobs()
        for status in ("success", "failed", "cancelled"):  # every series exists from the start, at 0
            found.generations.labels(type, provider, status)
    return found


def _finish(found: Metrics, type: str, provider: str, status: str, seconds: float, generation: Generation) -> None:
    found.generations.labels(type, provider, status).inc()
    if status == "success":
        found.duration.labels(type, provider).observe(seconds)
        for stage, stage_seconds in generation.stages.items():
            found.stage_duration.labels(type, provider, stage).observe(stage_seconds)
        if generation.triangles is not None:
            found.triangles.labels(type, provider).observe(generation.triangles)


@contextlib.contextmanager
def record_generation(type: str, provider: str, *, registry: CollectorRegistry | None = None) -> Iterator[Generation]:
    """Count the block as one generation of ``type`` by ``provider`` and time it (see the module docs).

    Monitoring never stops the work: if recording itself fails (a bad ``ORFEAS_METRICS_INTERVAL``, a
    metrics folder removed under a running kernel), a warning is logged and the block's outcome stands.
    """
    generation = Generation()
    try:
        found = _start(type, provider, registry)
    except Exception as exc:  # noqa: BLE001 - monitoring must never stop a generation
        _log.warning("orfeas_nb: not recording this generation: %s", exc)
        found = None
    if found is None:
        yield generation
        return
    token = _recording.set(True)
    started = time.perf_counter()
    status = "failed"
    try:
        yield generation
        status = "success"
    except (JobCancelled, KeyboardInterrupt):
        status = "cancelled"
        raise
    finally:
        _recording.reset(token)
        try:
            _finish(found, type, provider, status, time.perf_counter() - started, generation)
        except Exception as exc:  # noqa: BLE001 - monitoring must never change a generation's outcome
            _log.warning("orfeas_nb: could not record a generation: %s", exc)


@contextlib.contextmanager
def record_stage(type: str | None, provider: str | None, stage: str) -> Iterator[None]:
    """Time a stage that runs after the generation (e.g. ``export``) into the per-stage histogram.

    Skipped when ``type`` or ``provider`` is unknown (a hand-made model) or the block raises.

    >>> with record_stage("image_to_3d", "relief", "export"):
    ...     pass  # write the file
    """
    started = time.perf_counter()
    yield
    if not (type and provider):
        return
    try:
        found = _metrics()
        if found is not None:
            found.stage_duration.labels(type, provider, stage).observe(time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - monitoring must never fail the work it watches
        _log.warning("orfeas_nb: could not record the %s stage: %s", stage, exc)


def recorded(type: str, provider: str | Callable[[dict[str, Any]], str]) -> Callable[[F], F]:
    """Decorate a public function so every call is recorded with :func:`record_generation`.

    ``provider`` is a fixed name, or a function of the call's arguments (defaults applied) that
    returns one — keep its values to a known, small set (they become label values).
    """

    def decorate(function: F) -> F:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            name = provider
            if callable(provider):
                try:
                    bound = signature.bind(*args, **kwargs)
                except TypeError:  # let the function raise its own error about its arguments
                    return function(*args, **kwargs)
                bound.apply_defaults()
                try:
                    name = provider(bound.arguments)
                except Exception as exc:  # noqa: BLE001 - a labelling bug must not stop the call
                    _log.warning("orfeas_nb: provider label of %s failed: %s", type, exc)
                    name = "unknown"
            with record_generation(type, str(name)) as generation:
                result = function(*args, **kwargs)
                generation.observe(result)
            return result

        return wrapper  # type: ignore[return-value]

    return decorate


def set_job_counts(running: int, waiting: int, *, registry: CollectorRegistry | None = None) -> None:
    """Set the jobs-in-progress and queue-length gauges of this process (no-op without prometheus-client).

    >>> set_job_counts(running=1, waiting=3)
    """
    found = _metrics(registry)
    if found is not None:
        found.jobs_in_progress.set(running)
        found.queue_length.set(waiting)


def _copy_job_counts() -> dict[str, int] | None:
    jobs = sys.modules.get("orfeas_nb.jobs")  # only if this process uses job queues; never imported here
    if jobs is None:
        return None
    counts = jobs.counts()
    set_job_counts(counts["running"], counts["waiting"])
    return counts


def watch_jobs() -> Sampler:
    """Start (once per process) a thread that copies :func:`orfeas_nb.jobs.counts` into the job gauges."""
    global _watcher
    with _watcher_lock:
        if _watcher is None or not _watcher.running:
            _watcher = Sampler(_copy_job_counts, interval=config.get("metrics_interval"), name="orfeas-job-gauges")
            _watcher.start()
        return _watcher
