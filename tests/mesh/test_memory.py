"""A 4096×4096 picture at quality 10 stays under 3 GiB peak RSS (measured in a fresh process)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow

CHILD = """
import json, resource, sys
import orfeas_nb
model = orfeas_nb.image_to_3d(sys.argv[1], method=sys.argv[2], quality=10, size_mm=150.0, **json.loads(sys.argv[3]))
path = model.export(sys.argv[4])
report = model.report()
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_mib": peak_kib / 1024, "triangles": report.triangles, "watertight": report.watertight}))
"""


@pytest.fixture(scope="module")
def big_picture(tmp_path_factory):
    yy, xx = np.mgrid[0:4096, 0:4096].astype(np.float32) / 4096
    grey = 0.5 + 0.25 * np.sin(40 * xx) * np.cos(31 * yy) + 0.2 * np.sin(200 * xx * yy)
    grey[(xx - 0.5) ** 2 + (yy - 0.5) ** 2 > 0.2] = 1.0  # a plain background for the silhouette methods
    path = tmp_path_factory.mktemp("big") / "big.png"
    Image.fromarray((np.clip(grey, 0, 1) * 255).astype(np.uint8)).convert("RGB").save(path)
    return path


@pytest.mark.parametrize(
    ("method", "options"),
    # the two heaviest paths: a curved lithophane keeps the full grid (≈2M triangles, no adaptive top); inflate meshes
    # the silhouette's inside with Triangle (≈1.2M triangles)
    [("lithophane", {"shape": "curved"}), ("inflate", {})],
)
def test_4096_squared_at_quality_10_peaks_under_3_gib(big_picture, tmp_path, method, options):
    out = tmp_path / "big.stl"
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(big_picture), method, json.dumps(options), str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["watertight"]
    assert facts["triangles"] > 100_000
    assert facts["peak_mib"] < 3 * 1024, facts
    assert out.stat().st_size == 84 + 50 * facts["triangles"]
