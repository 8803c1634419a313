"""Settings for checking notebooks/*.ipynb with nbval (see .ci/run).

nbval starts one kernel per notebook before any fixture runs, so the environment the kernels inherit
is set here, at collection time: outputs go to a temporary folder, never into the checkout, and
text_to_3d.ipynb gets CI's tiny text→image model through ``ORFEAS_TEXT_TO_IMAGE_MODEL`` (unless set).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

if "ORFEAS_OUTPUT_DIR" not in os.environ:
    _scratch = tempfile.mkdtemp(prefix="orfeas-notebooks-")
    atexit.register(shutil.rmtree, _scratch, ignore_errors=True)
    os.environ["ORFEAS_OUTPUT_DIR"] = _scratch


def pytest_collection_modifyitems(config, items):
    """Mark nbval cells ``notebook`` (``-m notebook`` selects them); give text_to_3d its tiny model."""
    import pytest

    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
    wanted = any(item.path.name == "text_to_3d.ipynb" for item in items)
    if wanted and not os.environ.get("ORFEAS_TEXT_TO_IMAGE_MODEL"):
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.tiny_models import build_tiny_sd

        folder = tempfile.mkdtemp(prefix="orfeas-tiny-sd-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        os.environ["ORFEAS_TEXT_TO_IMAGE_MODEL"] = str(build_tiny_sd(folder))
