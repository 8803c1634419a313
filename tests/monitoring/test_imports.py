"""monitoring/ is light to import: prometheus-client, psutil and torch load on use (its layer: tests/test_layers.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def loaded_after(code: str) -> set[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    return set(json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout))


def test_importing_monitoring_is_light():
    loaded = loaded_after("import orfeas_nb.monitoring, orfeas_nb.server")
    assert "orfeas_nb.monitoring" in loaded and not {"torch", "prometheus_client", "jupyter_server", "psutil"} & loaded


def test_recording_loads_prometheus_client_only_when_used():
    loaded = loaded_after(
        "from orfeas_nb.monitoring import record_generation\nwith record_generation('image_to_3d', 'relief'):\n    pass"
    )
    assert "prometheus_client" in loaded and "torch" not in loaded and "orfeas_nb.jobs" not in loaded
