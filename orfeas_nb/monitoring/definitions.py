"""The metric objects, created once per :class:`~prometheus_client.CollectorRegistry`.

Re-running a notebook cell that asks for the metrics again returns the same objects instead of
raising "Duplicated timeseries": :func:`metrics` keeps them on the registry itself, so even a
reloaded module finds them.

    >>> from prometheus_client import CollectorRegistry
    >>> registry = CollectorRegistry()
    >>> metrics(registry) is metrics(registry)
    True

Gauges carry a ``multiprocess_mode`` so that, with ``PROMETHEUS_MULTIPROC_DIR`` set, the values of
every live kernel and batch worker add up (and a dead process's values can be removed).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

STATUSES = ("success", "failed", "cancelled")
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800)
STAGE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
TRIANGLE_BUCKETS = (1_000, 5_000, 10_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_000_000, 5_000_000)
_ATTRIBUTE = "_orfeas_nb_metrics"
_REQUESTS_ATTRIBUTE = "_orfeas_nb_request_metrics"
_lock = threading.Lock()


@dataclass(frozen=True)
class Metrics:
    """Everything orfeas_nb records about its own work (host values come from :mod:`.collector`)."""

    generations: Counter
    duration: Histogram
    stage_duration: Histogram
    triangles: Histogram
    jobs_in_progress: Gauge
    queue_length: Gauge


def _create(registry: CollectorRegistry) -> Metrics:
    return Metrics(
        generations=Counter(
            "orfeas_generations", "Generations finished, by task type, provider and status (success, failed, cancelled).",
            ["type", "provider", "status"], registry=registry,
        ),
        duration=Histogram(
            "orfeas_generation_duration_seconds", "Wall-clock seconds of each successful generation.",
            ["type", "provider"], buckets=DURATION_BUCKETS, registry=registry,
        ),
        stage_duration=Histogram(
            "orfeas_stage_duration_seconds", "Seconds spent in each stage of a successful generation (load, infer, mesh, ...).",
            ["type", "provider", "stage"], buckets=STAGE_BUCKETS, registry=registry,
        ),
        triangles=Histogram(
            "orfeas_mesh_triangles", "Triangles in each generated model.",
            ["type", "provider"], buckets=TRIANGLE_BUCKETS, registry=registry,
        ),
        jobs_in_progress=Gauge(
            "orfeas_jobs_in_progress", "Jobs running now, summed over live processes.",
            registry=registry, multiprocess_mode="livesum",
        ),
        queue_length=Gauge(
            "orfeas_job_queue_length", "Jobs waiting in job queues, summed over live processes.",
            registry=registry, multiprocess_mode="livesum",
        ),
    )


_M = TypeVar("_M")


def metrics(registry: CollectorRegistry | None = None) -> Metrics:
    """The orfeas_nb metrics of ``registry`` (default: prometheus-client's global one), created on first use.

    >>> m = metrics()
    >>> m.generations.labels("image_to_3d", "relief", "success").inc()
    """
    return _once(registry, _ATTRIBUTE, _create)


@dataclass(frozen=True)
class RequestMetrics:
    """What the HTTP API records about each ``/orfeas/`` request (see :mod:`orfeas_nb.server`)."""

    requests: Counter
    duration: Histogram

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        """Count one answered request; ``endpoint`` is the route template, e.g. ``jobs/{id}``."""
        self.requests.labels(method, endpoint, str(status)).inc()
        self.duration.labels(method, endpoint).observe(seconds)


def request_metrics(registry: CollectorRegistry | None = None) -> RequestMetrics:
    """The HTTP API's request metrics of ``registry`` (default: the global one), created on first use.

    >>> registry = CollectorRegistry()
    >>> request_metrics(registry).observe("GET", "jobs/{id}", 200, 0.01)
    >>> registry.get_sample_value("orfeas_requests_total", {"method": "GET", "endpoint": "jobs/{id}", "status": "200"})
    1.0
    """
    return _once(registry, _REQUESTS_ATTRIBUTE, _create_requests)


def _once(registry: CollectorRegistry | None, attribute: str, create: Callable[[CollectorRegistry], _M]) -> _M:
    """The metrics kept on ``registry`` (default: the global one) under ``attribute``, created by
    ``create(registry)`` on first use: re-running a notebook cell never registers them twice."""
    registry = REGISTRY if registry is None else registry
    with _lock:
        found = getattr(registry, attribute, None)
        if found is None:
            found = create(registry)
            setattr(registry, attribute, found)
    return found


def _create_requests(registry: CollectorRegistry) -> RequestMetrics:
    return RequestMetrics(
        requests=Counter(
            "orfeas_requests", "HTTP API requests answered, by method, route template and status code.",
            ["method", "endpoint", "status"], registry=registry,
        ),
        duration=Histogram(
            "orfeas_request_duration_seconds", "Seconds to answer each HTTP API request, by method and route template.",
            ["method", "endpoint"], buckets=REQUEST_BUCKETS, registry=registry,
        ),
    )
