"""The Jupyter server extension: the ORFEAS HTTP API under ``{base_url}orfeas/``, behind Jupyter's login.

Enabled on install by ``etc/jupyter/jupyter_server_config.d/orfeas_nb.json``; by hand::

    jupyter server --ServerApp.jpserver_extensions="{'orfeas_nb.server': True}"

Monitoring: at start the extension prepares an empty folder for prometheus-client's multiprocess mode
and puts it in ``PROMETHEUS_MULTIPROC_DIR``: every kernel, batch worker and job-engine worker started
from now on inherits it and writes its metrics there, so ``/orfeas/metrics`` is the sum over all of
them plus the host gauges and the API's request metrics. A dead process's live gauges are dropped at
each scrape; the folder is removed when the server exits. If ``PROMETHEUS_MULTIPROC_DIR`` is already
set, that folder is used (and its metric files wiped at start) so local batch workers can share it.

Jobs: records and files in ``ORFEAS_JOBS_DIR`` (:mod:`.store`), work on Dask (:mod:`.engine`). Every
route but ``health`` answers only requests with Jupyter's token or login cookie (403 otherwise);
monitoring routes do not count as user activity, so idle culling still works.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .. import config
from ..monitoring.exposition import INSTALL_HINT
from .health import SETTINGS_KEY, _health, detailed_health  # noqa: F401 - the extension's public names

_FOLDER_PREFIX = "orfeas-metrics-"


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Tell jupyter_server where the extension lives."""
    return [{"module": "orfeas_nb.server"}]


def _remove_stale_folders(parent: Path) -> None:
    """Remove metric folders of earlier servers that are no longer running (after a crash or kill -9)."""
    from ..monitoring.multiprocess import pid_alive

    for folder in parent.glob(f"{_FOLDER_PREFIX}*"):
        match = re.fullmatch(rf"{_FOLDER_PREFIX}(\d+)", folder.name)
        if match and int(match.group(1)) != os.getpid() and not pid_alive(int(match.group(1))):
            shutil.rmtree(folder, ignore_errors=True)


def _metrics_folder(runtime_dir: str) -> tuple[Path, bool]:
    """The multiprocess folder to use and whether this server owns it (and so removes it at exit)."""
    from ..monitoring.multiprocess import ENV, prepare_dir

    given = os.environ.get(ENV)
    if given:
        return prepare_dir(given), False
    parent = Path(runtime_dir or tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_folders(parent)
    return prepare_dir(parent / f"{_FOLDER_PREFIX}{os.getpid()}"), True


def _cleanup(state: dict[str, Any]) -> None:
    state["sampler"].stop()
    if state["owned"]:
        shutil.rmtree(state["folder"], ignore_errors=True)


def _monitoring(serverapp: Any) -> dict[str, Any] | None:
    """Prepare the multiprocess folder and start the host sampler; None without prometheus-client."""
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        serverapp.log.warning("orfeas_nb: %s; /orfeas/metrics is not served", INSTALL_HINT)
        return None
    from ..monitoring.collector import HostCollector
    from ..monitoring.multiprocess import ENV, aggregate
    from ..monitoring.readers import read_host
    from ..monitoring.sampler import Sampler

    folder, owned = _metrics_folder(serverapp.runtime_dir)
    os.environ[ENV] = str(folder)  # kernels, terminals and engine workers started from now on inherit it
    sampler = Sampler(read_host, interval=config.get("metrics_interval"), name="orfeas-host-sampler").start()
    registry = aggregate(folder)
    registry.register(HostCollector(sampler.latest))
    state = {"folder": folder, "owned": owned, "sampler": sampler, "registry": registry}
    serverapp.web_app.settings[SETTINGS_KEY] = state
    atexit.register(_cleanup, state)
    return state


def _request_metrics(state: dict[str, Any] | None) -> Any:
    """The request counters: in multiprocess files when this process writes them, else on the scrape registry."""
    if state is None:
        return None
    from prometheus_client import CollectorRegistry, values

    from ..monitoring.definitions import request_metrics

    # prometheus-client picks its value class at import: with PROMETHEUS_MULTIPROC_DIR set before the
    # server started, samples go to that folder's files (and the scrape reads them there)
    return request_metrics(CollectorRegistry() if values.ValueClass._multiprocess else state["registry"])


def jobs_dir() -> Path:
    """``ORFEAS_JOBS_DIR``, else ``orfeas/jobs`` in Jupyter's data directory."""
    given = config.get("jobs_dir")
    if given:
        return Path(given).expanduser()
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "orfeas" / "jobs"


def _routes(base: str) -> list[tuple]:
    from jupyter_server.utils import url_path_join

    from . import base as shared
    from . import handlers as h

    job = r"(?P<job_id>[^/]+)"
    table: list[tuple] = [
        ("health", h.HealthHandler), ("health-detailed", h.HealthDetailedHandler), ("metrics", h.MetricsHandler),
        ("upload-image", h.UploadHandler), ("text-to-image", h.TextToImageHandler), ("generate-3d", h.GenerateHandler),
        ("jobs", h.JobsHandler), (f"jobs/{job}", h.JobHandler),
        *((f"jobs/{job}/{kind}", h.JobFileHandler, {"kind": kind}) for kind in h.FILE_KINDS),
        ("openapi.json", h.OpenAPIHandler), ("(?P<rest>.*)", shared.NotFoundHandler),
    ]
    return [(url_path_join(base, "orfeas", route[0]), *route[1:]) for route in table]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Monitoring, the job store (failing jobs a previous server left unfinished), the engine and the routes."""
    from ..catalogue import catalogue
    from . import params  # noqa: F401 - loaded now, not on the event loop at the first request
    from .base import API_KEY, RateLimiter
    from .engine import Engine
    from .store import JobStore

    catalogue()  # builds it (imports the mesh engine) before the first request

    state = _monitoring(serverapp)
    store = JobStore(jobs_dir())
    interrupted = store.interrupt_unfinished()
    if interrupted:
        serverapp.log.warning("orfeas_nb: %d jobs were interrupted by the restart and are marked failed", interrupted)
    gpus = len(state["sampler"].latest().gpus) if state is not None else 0
    engine = Engine(store, gpus=gpus)
    if state is not None:
        from ..jobstate import QUEUED, RUNNING
        from ..monitoring.collector import ApiJobsCollector

        state["registry"].register(ApiJobsCollector(lambda: {QUEUED: store.count(QUEUED), RUNNING: store.count(RUNNING)}))
    engine.start_housekeeping()
    serverapp.web_app.settings[API_KEY] = {"store": store, "engine": engine, "limiter": RateLimiter(),
                                          "requests": _request_metrics(state)}
    atexit.register(engine.close)
    base = serverapp.web_app.settings["base_url"]
    routes = _routes(base)
    if state is None:
        routes = [r for r in routes if not r[0].endswith("/orfeas/metrics")]
    serverapp.web_app.add_handlers(".*$", routes)
    serverapp.log.info("orfeas_nb: the HTTP API at %sorfeas/ (jobs in %s); metrics at %sorfeas/metrics",
                       base, store.folder, base)
