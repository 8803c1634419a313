"""Expose host readings (CPU, memory, GPU memory) as Prometheus gauges, read at scrape time.

The values come from any function returning a :class:`~.readers.HostSnapshot` — usually
``sampler.latest`` of a :class:`~.sampler.Sampler` — so a scrape never waits on NVML or psutil.

    >>> from prometheus_client import CollectorRegistry
    >>> from .readers import HostSnapshot
    >>> registry = CollectorRegistry()
    >>> registry.register(HostCollector(lambda: HostSnapshot(cpu_percent=12.5)))
    >>> registry.get_sample_value("orfeas_cpu_usage_percent")
    12.5
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .readers import HostSnapshot

HOST_METRICS = {
    "orfeas_cpu_usage_percent": "System-wide CPU use in percent.",
    "orfeas_memory_usage_bytes": "System memory in use (total minus available), in bytes.",
    "orfeas_memory_total_bytes": "System memory installed, in bytes.",
    "orfeas_gpu_memory_bytes": "GPU memory in use per device, in bytes.",
    "orfeas_gpu_memory_total_bytes": "GPU memory per device, in bytes.",
}


class HostCollector(Collector):
    """A collector that turns the latest :class:`HostSnapshot` into gauges; unknown values are left out."""

    def __init__(self, source: Callable[[], HostSnapshot | None]):
        self.source = source

    def describe(self) -> list[GaugeMetricFamily]:
        """The metric names this collector owns (lets a registry detect duplicates)."""
        return [
            GaugeMetricFamily(name, doc, labels=["gpu_id"] if "gpu" in name else None)
            for name, doc in HOST_METRICS.items()
        ]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the gauges of the latest snapshot."""
        snapshot = self.source() or HostSnapshot()
        scalars = {
            "orfeas_cpu_usage_percent": snapshot.cpu_percent,
            "orfeas_memory_usage_bytes": snapshot.memory_used_bytes,
            "orfeas_memory_total_bytes": snapshot.memory_total_bytes,
        }
        for name, value in scalars.items():
            if value is not None:
                yield GaugeMetricFamily(name, HOST_METRICS[name], value=value)
        if snapshot.gpus:
            used = GaugeMetricFamily("orfeas_gpu_memory_bytes", HOST_METRICS["orfeas_gpu_memory_bytes"], labels=["gpu_id"])
            total = GaugeMetricFamily(
                "orfeas_gpu_memory_total_bytes", HOST_METRICS["orfeas_gpu_memory_total_bytes"], labels=["gpu_id"]
            )
            for gpu in snapshot.gpus:
                used.add_metric([gpu.gpu_id], gpu.used_bytes)
                total.add_metric([gpu.gpu_id], gpu.total_bytes)
            yield used
            yield total


class ApiJobsCollector(Collector):
    """``orfeas_api_jobs{status}``: the HTTP API's jobs waiting (``queued``) and in progress (``running``) now.

    ``counts`` returns ``{"queued": n, "running": m}`` (the job store's counts), read at each scrape.

    >>> from prometheus_client import CollectorRegistry
    >>> registry = CollectorRegistry()
    >>> registry.register(ApiJobsCollector(lambda: {"queued": 2, "running": 1}))
    >>> registry.get_sample_value("orfeas_api_jobs", {"status": "queued"})
    2.0
    """

    def __init__(self, counts: Callable[[], dict[str, int]]):
        self.counts = counts

    def describe(self) -> list[GaugeMetricFamily]:
        return [GaugeMetricFamily("orfeas_api_jobs", "", labels=["status"])]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("orfeas_api_jobs", "HTTP API jobs by status now (queued, running).", labels=["status"])
        for status, count in self.counts().items():
            family.add_metric([status], float(count))
        yield family
