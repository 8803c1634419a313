"""Jupyter server extension: ``/orfeas/metrics`` and ``/orfeas/health``, behind Jupyter's login.

Enabled on install by ``etc/jupyter/jupyter_server_config.d/orfeas_nb.json``; by hand::

    jupyter server --ServerApp.jpserver_extensions="{'orfeas_nb.server': True}"

At start the extension prepares an empty folder for prometheus-client's multiprocess mode and puts
it in ``PROMETHEUS_MULTIPROC_DIR``: every kernel (and any batch worker started from a kernel or a
Jupyter terminal) inherits it and writes its metrics there, so ``/orfeas/metrics`` is the sum over
all of them plus the host gauges. A dead kernel's live gauges are dropped at each scrape; the folder
is removed when the server exits. If ``PROMETHEUS_MULTIPROC_DIR`` is already set, that folder is
used (and its metric files wiped at start) so local batch workers can share it.

Both endpoints answer only requests that carry Jupyter's token or login cookie (403 otherwise);
scraping them does not count as user activity, so idle culling still works.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tornado import web

from . import __version__, config
from .monitoring.exposition import INSTALL_HINT

SETTINGS_KEY = "orfeas_monitoring"
_FOLDER_PREFIX = "orfeas-metrics-"


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Tell jupyter_server where the extension lives."""
    return [{"module": "orfeas_nb.server"}]


def _remove_stale_folders(parent: Path) -> None:
    """Remove metric folders of earlier servers that are no longer running (after a crash or kill -9)."""
    from .monitoring.multiprocess import pid_alive

    for folder in parent.glob(f"{_FOLDER_PREFIX}*"):
        match = re.fullmatch(rf"{_FOLDER_PREFIX}(\d+)", folder.name)
        if match and int(match.group(1)) != os.getpid() and not pid_alive(int(match.group(1))):
            shutil.rmtree(folder, ignore_errors=True)


def _metrics_folder(runtime_dir: str) -> tuple[Path, bool]:
    """The multiprocess folder to use and whether this server owns it (and so removes it at exit)."""
    from .monitoring.multiprocess import ENV, prepare_dir

    given = os.environ.get(ENV)
    if given:
        return prepare_dir(given), False
    parent = Path(runtime_dir or tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_folders(parent)
    return prepare_dir(parent / f"{_FOLDER_PREFIX}{os.getpid()}"), True


def _health(state: dict[str, Any], kernels: int) -> dict[str, Any]:
    snapshot = state["sampler"].latest()
    return {
        "status": "ok",
        "version": __version__,
        "cpu_percent": snapshot.cpu_percent,
        "memory": {"used_bytes": snapshot.memory_used_bytes, "total_bytes": snapshot.memory_total_bytes},
        "gpus": [
            {"id": g.gpu_id, "used_bytes": g.used_bytes, "total_bytes": g.total_bytes, "source": g.source}
            for g in snapshot.gpus
        ],
        "kernels": kernels,
        "metrics_dir": str(state["folder"]),
    }


def _handlers() -> tuple[type, type]:
    from jupyter_server.base.handlers import APIHandler
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    class MetricsHandler(APIHandler):
        """Prometheus text format: every kernel's metrics summed, plus host gauges."""

        _track_activity = False

        def compute_etag(self) -> None:
            return None  # always fresh numbers

        @web.authenticated
        async def get(self) -> None:
            registry = self.settings[SETTINGS_KEY]["registry"]
            body = await asyncio.get_running_loop().run_in_executor(None, generate_latest, registry)
            self.finish(body, set_content_type=CONTENT_TYPE_LATEST)

    class HealthHandler(APIHandler):
        """JSON: status, CPU, memory, GPU memory per device, and the number of kernels."""

        _track_activity = False

        @web.authenticated
        async def get(self) -> None:
            kernels = len(self.kernel_manager.list_kernel_ids())
            self.finish(json.dumps(_health(self.settings[SETTINGS_KEY], kernels)))

    return MetricsHandler, HealthHandler


def _cleanup(state: dict[str, Any]) -> None:
    state["sampler"].stop()
    if state["owned"]:
        shutil.rmtree(state["folder"], ignore_errors=True)


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Prepare the multiprocess folder, start the host sampler and add the two handlers."""
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        serverapp.log.warning("orfeas_nb: %s; /orfeas/metrics and /orfeas/health are not served", INSTALL_HINT)
        return
    from jupyter_server.utils import url_path_join

    from .monitoring.collector import HostCollector
    from .monitoring.multiprocess import ENV, aggregate
    from .monitoring.readers import read_host
    from .monitoring.sampler import Sampler

    folder, owned = _metrics_folder(serverapp.runtime_dir)
    os.environ[ENV] = str(folder)  # kernels and terminals started from now on inherit it
    sampler = Sampler(read_host, interval=config.get("metrics_interval"), name="orfeas-host-sampler").start()
    registry = aggregate(folder)
    registry.register(HostCollector(sampler.latest))
    state = {"folder": folder, "owned": owned, "sampler": sampler, "registry": registry}
    serverapp.web_app.settings[SETTINGS_KEY] = state
    atexit.register(_cleanup, state)
    metrics_handler, health_handler = _handlers()
    base = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(
        ".*$",
        [(url_path_join(base, "orfeas", "metrics"), metrics_handler), (url_path_join(base, "orfeas", "health"), health_handler)],
    )
    serverapp.log.info("orfeas_nb: metrics of every kernel at %sorfeas/metrics (folder %s)", base, folder)
