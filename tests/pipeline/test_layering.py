"""pipeline/ loads torch, diffusers and transformers only on first use (its layer: import-linter, tests/test_layers.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

CHECK = """
import json, sys
import orfeas_nb.pipeline.depth, orfeas_nb.pipeline.models, orfeas_nb.pipeline.shap_e
import orfeas_nb.pipeline.text_to_image, orfeas_nb.pipeline.device, orfeas_nb.pipeline.progress
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("orfeas_nb", "torch", "diffusers", "transformers"))))
"""


def test_importing_the_pipeline_loads_no_torch_diffusers_or_transformers():
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True, timeout=120)
    loaded = json.loads(done.stdout)
    assert "orfeas_nb.pipeline.text_to_image" in loaded
    assert not [m for m in loaded if m.split(".")[0] in ("torch", "diffusers", "transformers")]
