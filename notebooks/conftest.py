"""Settings for checking notebooks/*.ipynb with nbval (see .ci/run).

nbval starts one kernel per notebook before any fixture runs, so the environment the kernels inherit
is set here, at collection time: outputs go to a temporary folder, never into the checkout.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

if "ORFEAS_OUTPUT_DIR" not in os.environ:
    _scratch = tempfile.mkdtemp(prefix="orfeas-notebooks-")
    atexit.register(shutil.rmtree, _scratch, ignore_errors=True)
    os.environ["ORFEAS_OUTPUT_DIR"] = _scratch


def pytest_collection_modifyitems(config, items):
    """Mark every nbval cell item ``notebook`` so ``-m notebook`` selects (or ``-m "not notebook"`` skips) them."""
    import pytest

    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
