"""prometheus-client's multiprocess mode: many kernels and batch workers, one set of numbers.

Every process started with ``PROMETHEUS_MULTIPROC_DIR`` in its environment writes its metrics to
files there; :func:`aggregate` adds them up. Counters and histograms of finished processes stay
(counts never go backwards); a dead process's live gauges (jobs in progress, queue length) are
removed by :func:`remove_dead`.

    >>> import tempfile
    >>> folder = prepare_dir(tempfile.mkdtemp())
    >>> list(folder.iterdir())
    []
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from ..errors import InvalidInput

ENV = "PROMETHEUS_MULTIPROC_DIR"
_LIVE_GAUGE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")
_METRIC_FILE = re.compile(r"(counter|histogram|summary|gauge_[a-z]+)_\d+\.db")


def multiprocess_dir() -> Path | None:
    """The folder of multiprocess mode from the environment, or None when it is off."""
    value = os.environ.get(ENV)
    return Path(value) if value else None


def prepare_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` if needed and delete metric files left there by earlier runs; returns the folder."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        if _METRIC_FILE.fullmatch(stale.name):  # only prometheus-client's own files, whatever the folder
            stale.unlink(missing_ok=True)
    return folder


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` runs (a zombie counts as dead)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil ships with the metrics extra
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def remove_dead(path: str | os.PathLike[str]) -> list[int]:
    """Drop the live gauges of processes that no longer run (``mark_process_dead``); returns their pids."""
    dead = set()
    for file in Path(path).glob("gauge_live*_*.db"):
        match = _LIVE_GAUGE.fullmatch(file.name)
        if match and not pid_alive(int(match.group(1))):
            dead.add(int(match.group(1)))
    for pid in sorted(dead):
        mark_process_dead(pid, str(path))
    return sorted(dead)


class _LiveCollector(MultiProcessCollector):
    """MultiProcessCollector that first drops the live gauges of processes that have died."""

    def collect(self):
        remove_dead(self._path)
        return super().collect()


def aggregate(path: str | os.PathLike[str]) -> CollectorRegistry:
    """A fresh registry that, at each scrape, sums every live or finished process that wrote to ``path``."""
    if not Path(path).is_dir():
        raise InvalidInput(f"{ENV}={str(path)!r} is not a folder: create it before the processes start, or unset it")
    registry = CollectorRegistry()
    _LiveCollector(registry, path=str(path))
    return registry
