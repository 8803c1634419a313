"""A background thread that reads values every few seconds, off the notebook's main loop.

    >>> sampler = Sampler(lambda: 42, interval=0.5).start()
    >>> sampler.latest()
    42
    >>> sampler.stop()

The first reading happens in :meth:`Sampler.start`, so :meth:`Sampler.latest` has a value at once.
A reader that raises keeps the previous value and is logged, never killing the thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
_log = logging.getLogger(__name__)


class Sampler(Generic[T]):
    """Calls ``read()`` every ``interval`` seconds on a daemon thread and keeps the latest result."""

    def __init__(self, read: Callable[[], T], *, interval: float = 2.0, name: str = "orfeas-sampler"):
        if not interval > 0:
            raise ValueError(f"interval must be positive seconds, got {interval!r}")
        self.read = read
        self.interval = float(interval)
        self._name = name
        self._latest: T | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True while the sampling thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Sampler[T]:
        """Take a first reading now, then keep sampling in the background; returns ``self``."""
        if not self.running:
            self._stop.clear()
            self.sample()
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()
        return self

    def sample(self) -> T | None:
        """Read once now (on the calling thread) and return the latest value."""
        try:
            self._latest = self.read()
        except Exception:  # noqa: BLE001 - a failing reader must not stop monitoring
            _log.exception("%s: reading failed; keeping the previous value", self._name)
        return self._latest

    def latest(self) -> T | None:
        """The most recent reading (``None`` before the first)."""
        return self._latest

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and wait for it to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()
