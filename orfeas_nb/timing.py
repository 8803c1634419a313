"""A stopwatch that records how long each named stage of a job took."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator


class Stages:
    """Accumulates wall-clock seconds per stage name.

    >>> stages = Stages()
    >>> with stages("mesh"):
    ...     pass
    >>> list(stages.seconds)
    ['mesh']
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def rounded(self, digits: int = 4) -> dict[str, float]:
        """The stage timings rounded for a manifest."""
        return {name: round(sec, digits) for name, sec in self.seconds.items()}
