"""The progress/cancel hook every generator shares."""

from __future__ import annotations

import threading

import pytest

from orfeas_nb.errors import InvalidInput, JobCancelled
from orfeas_nb.pipeline.progress import Progress

pytestmark = pytest.mark.unit


def test_callback_sees_every_step_and_cancel_stops_the_next_check():
    cancel = threading.Event()
    seen = []
    with Progress(3, desc="job", show=False, callback=lambda s, t: seen.append((s, t)), cancel=cancel) as tracker:
        tracker.check()
        tracker.advance()
        cancel.set()
        with pytest.raises(JobCancelled, match="job was cancelled after 1 of 3 steps"):
            tracker.check()
    assert seen == [(1, 3)]


def test_tqdm_bar_is_shown_on_request(capsys):
    with Progress(2, desc="denoising", show=True) as tracker:
        tracker.advance()
        tracker.advance()
    assert "denoising" in capsys.readouterr().err


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"callback": 3}, "callback must be a function"),
    ({"cancel": True}, "cancel must be a threading.Event"),
])
def test_bad_hooks_are_refused(kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        Progress(1, desc="x", show=False, **kwargs)
