"""Fixtures of the monitoring tests: a fresh registry, free ports, and the repository's monitoring/ folder."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def registry() -> CollectorRegistry:
    """A registry of its own, so counts start at zero."""
    return CollectorRegistry()


@pytest.fixture
def no_prometheus(monkeypatch):
    """Pretend prometheus-client is not installed (imports of it raise ImportError)."""
    for name in ("prometheus_client", "orfeas_nb.monitoring.definitions", "orfeas_nb.monitoring.collector",
                 "orfeas_nb.monitoring.multiprocess"):
        monkeypatch.setitem(__import__("sys").modules, name, None)
