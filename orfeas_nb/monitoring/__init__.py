"""Prometheus metrics of orfeas_nb: what generation costs, how often it fails, what the host holds.

    >>> from orfeas_nb import monitoring
    >>> server = monitoring.serve(port=0)   # http://127.0.0.1:<port>/metrics from this kernel
    >>> server.stop()

Metric names (what dashboards and alerts read):

- ``orfeas_generations_total{type,provider,status}`` — status ``success``, ``failed`` or ``cancelled``
- ``orfeas_generation_duration_seconds{type,provider}`` — histogram of successful generations
- ``orfeas_stage_duration_seconds{type,provider,stage}`` — histogram per stage (load, mesh, infer, ...)
- ``orfeas_mesh_triangles{type,provider}`` — histogram of triangles per model
- ``orfeas_jobs_in_progress``, ``orfeas_job_queue_length`` — gauges, summed over live processes
- ``orfeas_requests_total{method,endpoint,status}``, ``orfeas_request_duration_seconds{method,endpoint}`` —
  every request to the HTTP API (``endpoint`` is the route template, e.g. ``jobs/{id}``)
- ``orfeas_api_jobs{status}`` — the HTTP API's jobs queued and running now (the Jupyter server extension)
- ``orfeas_cpu_usage_percent``, ``orfeas_memory_usage_bytes``, ``orfeas_memory_total_bytes``,
  ``orfeas_gpu_memory_bytes{gpu_id}``, ``orfeas_gpu_memory_total_bytes{gpu_id}`` — host gauges

Three ways out: :func:`serve` (or ``orfeas metrics``) from one process; the Jupyter server
extension :mod:`orfeas_nb.server` at ``/orfeas/metrics`` behind Jupyter's login, summing every kernel
and local batch worker (multiprocess mode); :func:`push` to a Pushgateway from remote workers.
prometheus-client is optional (``pip install 'orfeas_nb[metrics]'``): without it recording is skipped
and :func:`serve` says how to install it.
"""

from __future__ import annotations

from .exposition import MetricsServer, push, serve
from .readers import GpuMemory, HostSnapshot, read_host
from .record import Generation, record_generation, record_stage, recorded, set_job_counts, watch_jobs
from .sampler import Sampler


def metrics(registry=None):
    """The orfeas_nb metric objects of ``registry`` (default: the global one), created once per registry."""
    from .exposition import require_prometheus

    require_prometheus()
    from .definitions import metrics as of

    return of(registry)


__all__ = [
    "Generation",
    "GpuMemory",
    "HostSnapshot",
    "MetricsServer",
    "Sampler",
    "metrics",
    "push",
    "read_host",
    "record_generation",
    "record_stage",
    "recorded",
    "serve",
    "set_job_counts",
    "watch_jobs",
]
