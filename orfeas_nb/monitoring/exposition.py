"""Expose metrics over HTTP from this process, and push them to a Pushgateway from remote workers.

    >>> server = serve(port=0)   # a free port; the default is ORFEAS_METRICS_PORT on 127.0.0.1
    >>> server.url.startswith("http://127.0.0.1:")
    True
    >>> server.stop()

With ``PROMETHEUS_MULTIPROC_DIR`` set, the endpoint serves the sum over every process writing
there (kernels, batch workers); otherwise this process's own metrics. Host values (CPU, memory,
GPU memory) are sampled on a background thread and added in both cases.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import config
from ..errors import InvalidInput, OrfeasError
from .readers import read_host
from .sampler import Sampler

if TYPE_CHECKING:  # pragma: no cover
    from prometheus_client import CollectorRegistry

INSTALL_HINT = "prometheus-client is not installed: pip install 'orfeas_nb[metrics]'"
_HOST_COLLECTOR = "_orfeas_nb_host_collector"
_lock = threading.Lock()
_servers: dict[tuple[str, int], MetricsServer] = {}
_host: Sampler | None = None


def require_prometheus() -> None:
    """Raise an :class:`OrfeasError` that says how to install prometheus-client when it is missing."""
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        raise OrfeasError(INSTALL_HINT) from None


def host_sampler() -> Sampler:
    """This process's host sampler (started on first use, every ``ORFEAS_METRICS_INTERVAL`` seconds)."""
    global _host
    with _lock:
        if _host is None or not _host.running:
            _host = Sampler(read_host, interval=config.get("metrics_interval"), name="orfeas-host-sampler").start()
        return _host


def exposition_registry() -> CollectorRegistry:
    """The registry an endpoint of this process should serve (see the module docs)."""
    require_prometheus()
    from prometheus_client import REGISTRY

    from .collector import HostCollector
    from .definitions import metrics
    from .multiprocess import aggregate, multiprocess_dir

    sampler = host_sampler()
    folder = multiprocess_dir()
    if folder is not None:
        registry = aggregate(folder)
        registry.register(HostCollector(sampler.latest))
        return registry
    metrics(REGISTRY)
    with _lock:
        if getattr(REGISTRY, _HOST_COLLECTOR, None) is None:
            collector = HostCollector(lambda: host_sampler().latest())
            REGISTRY.register(collector)
            setattr(REGISTRY, _HOST_COLLECTOR, collector)
    return REGISTRY


@dataclass
class MetricsServer:
    """A running metrics endpoint: ``url`` to scrape, :meth:`stop` to close it."""

    addr: str
    port: int
    _httpd: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        """The address Prometheus scrapes."""
        host = f"[{self.addr}]" if ":" in self.addr else self.addr
        return f"http://{host}:{self.port}/metrics"

    def stop(self) -> None:
        """Close the endpoint and free its port."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
        with _lock:
            _servers.pop((self.addr, self.port), None)


def serve(port: int | None = None, addr: str = "127.0.0.1") -> MetricsServer:
    """Serve ``/metrics`` on ``addr:port`` from a background thread; calling it again returns the same server.

    ``port`` defaults to ``ORFEAS_METRICS_PORT``; 0 picks a free one. Keep ``addr`` on loopback unless
    a firewall guards the port: the endpoint has no authentication (the Jupyter server extension has).
    """
    port = config.get("metrics_port") if port is None else port
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidInput(f"port must be a whole number from 0 to 65535, got {port!r}")
    registry = exposition_registry()
    from prometheus_client import start_http_server

    from .record import watch_jobs

    watch_jobs()  # job-queue gauges of this process, kept current from now on

    with _lock:
        if port and (addr, port) in _servers:
            return _servers[(addr, port)]
    try:
        httpd, thread = start_http_server(port, addr=addr, registry=registry)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InvalidInput(
            f"cannot serve metrics on {addr}:{port}: {reason}; choose another port (--port) or address (--addr)"
        ) from exc
    server = MetricsServer(addr, httpd.server_port, httpd, thread)
    with _lock:
        _servers[(addr, server.port)] = server
    return server


def push(gateway: str, *, job: str = "orfeas", grouping_key: dict[str, str] | None = None) -> None:
    """Push this process's metrics to a Prometheus Pushgateway (for workers Prometheus cannot scrape).

    ``grouping_key`` defaults to ``{"instance": "<host>:<pid>"}`` so workers do not overwrite each other.

        push("http://pushgateway:9091", job="orfeas_batch")  # at the end of a batch run
    """
    require_prometheus()
    from prometheus_client import REGISTRY, push_to_gateway

    from .definitions import metrics
    from .multiprocess import aggregate, multiprocess_dir

    folder = multiprocess_dir()
    metrics(REGISTRY)
    registry = REGISTRY if folder is None else aggregate(folder)
    key = grouping_key if grouping_key is not None else {"instance": f"{socket.gethostname()}:{os.getpid()}"}
    try:
        push_to_gateway(gateway, job=job, registry=registry, grouping_key=key, timeout=10)
    except OSError as exc:
        raise OrfeasError(f"could not push metrics to {gateway}: {exc}; check the Pushgateway address") from exc


def wait_until_interrupted() -> None:  # pragma: no cover - blocks until Ctrl-C; tested through the CLI process
    """Block the calling thread until Ctrl-C (KeyboardInterrupt propagates to the caller)."""
    threading.Event().wait()
