"""Stopping the servers and workers that tests start as subprocesses."""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen, grace: float = 30.0) -> None:
    """SIGTERM ``process`` if it still runs, then SIGKILL it after ``grace`` seconds; always reaps it."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
