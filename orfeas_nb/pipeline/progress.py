"""Progress and cancellation hooks shared by every generator, and the tqdm bar.

Every generating function takes the same two hooks:

- ``callback(step, total)``: called after each denoising step (``step`` counts from 1 to ``total``);
- ``cancel``: a :class:`threading.Event` (anything with ``is_set()``); once set, the job raises
  :class:`~orfeas_nb.errors.JobCancelled` within one step.

    >>> import threading
    >>> seen = []
    >>> tracker = Progress(2, desc="demo", show=False, callback=lambda s, t: seen.append((s, t)))
    >>> tracker.advance(); tracker.advance(); tracker.close()
    >>> seen
    [(1, 2), (2, 2)]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..errors import InvalidInput, JobCancelled

StepCallback = Callable[[int, int], None]


class CancelFlag(Protocol):
    """What ``cancel=`` accepts: a ``threading.Event`` or anything with ``is_set()``."""

    def is_set(self) -> bool: ...


class Progress:
    """Counts steps, feeds a tqdm bar (``show=True``) and the user's callback, and watches the cancel flag."""

    def __init__(
        self,
        total: int,
        *,
        desc: str,
        show: bool = True,
        callback: StepCallback | None = None,
        cancel: CancelFlag | None = None,
    ) -> None:
        if callback is not None and not callable(callback):
            raise InvalidInput(f"callback must be a function taking (step, total), got {type(callback).__name__}")
        if cancel is not None and not callable(getattr(cancel, "is_set", None)):
            raise InvalidInput(f"cancel must be a threading.Event (anything with is_set()), got {type(cancel).__name__}")
        self.total = total
        self.step = 0
        self.desc = desc
        self._callback = callback
        self._cancel = cancel
        self._bar: Any = None
        if show:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="step", leave=False)

    @property
    def cancelled(self) -> bool:
        """True once the cancel flag is set."""
        return self._cancel is not None and bool(self._cancel.is_set())

    def check(self) -> None:
        """Raise :class:`JobCancelled` if the cancel flag is set."""
        if self.cancelled:
            raise JobCancelled(f"{self.desc} was cancelled after {self.step} of {self.total} steps")

    def set_total(self, total: int) -> None:
        """Change the number of steps once it is known (e.g. a scheduler with two evaluations per step)."""
        if total != self.total:
            self.total = total
            if self._bar is not None:
                self._bar.total = total
                self._bar.refresh()

    def advance(self) -> None:
        """Record one finished step: update the bar and call the callback."""
        self.step += 1
        if self._bar is not None:
            self._bar.update(1)
        if self._callback is not None:
            self._callback(self.step, self.total)

    def close(self) -> None:
        """Close the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
