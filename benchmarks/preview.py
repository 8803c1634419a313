"""A 1M-triangle mesh to a displayed 3D view: our pythreejs view against trimesh's notebook viewer.

For the same mesh (a closed wavy height field of ~1M triangles) it measures, in one run:

- ours: the time to build ``mesh_view(mesh)`` (level of detail included) and the bytes its widgets
  send to the front end (comm JSON + binary buffers, recorded by a stand-in comm);
- baseline: the time for ``trimesh.viewer.notebook.scene_to_html`` and the size of its HTML;
- and, for the static display, the time of ``render_png`` on the full mesh.

    python benchmarks/preview.py [--side 708] [--repeats 3]

Targets (issue 5): ≤ 1 s and ≤ 5 MB at the default LOD. Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def wavy_solid(side: int):
    """A closed height-field solid with about 2·side² triangles (side=708 → ~1.0M)."""
    import numpy as np

    from orfeas_nb.mesh.heightfield import grid_solid

    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
    heights = 8 + 3 * np.sin(xx / 23.0) * np.cos(yy / 17.0) + 1.5 * np.sin((xx + yy) / 9.0)
    return grid_solid(heights, 0.15)


class CountingComm:
    """Records the bytes every widget comm would send (JSON messages plus binary buffers)."""

    total = 0

    @classmethod
    def install(cls):
        import comm
        from comm.base_comm import BaseComm

        class Recording(BaseComm):
            def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
                cls.total += len(json.dumps(data or {}, default=str)) + sum(memoryview(b).nbytes for b in buffers or [])

        comm.create_comm = lambda *args, **kwargs: Recording(*args, **kwargs)


def timed(function, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=708, help="height-field side (triangles ≈ 2·side²)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import trimesh
    import trimesh.viewer.notebook

    from orfeas_nb import config
    from orfeas_nb.mesh.render import render_png
    from orfeas_nb.widgets.view import mesh_view

    CountingComm.install()
    mesh = wavy_solid(args.side)
    faces = len(mesh.faces)
    mesh_view(trimesh.creation.box())  # warm imports and the comm path

    def ours():
        CountingComm.total = 0
        view = mesh_view(mesh)
        return view, CountingComm.total

    ours_s, (view, ours_bytes) = timed(ours, args.repeats)
    base_s, html = timed(lambda: trimesh.viewer.notebook.scene_to_html(trimesh.Scene(mesh)), args.repeats)
    base_bytes = len(html.encode("utf-8"))
    png_s, png = timed(lambda: render_png(mesh), args.repeats)

    print(f"mesh: {faces:,} triangles; LOD bound ORFEAS_PREVIEW_MAX_FACES={config.get('preview_max_faces'):,}")
    print(f"ours     mesh_view:      {ours_s:6.3f} s  {ours_bytes / 1e6:7.2f} MB sent   ({view.arrays.caption})")
    print(f"baseline scene_to_html:  {base_s:6.3f} s  {base_bytes / 1e6:7.2f} MB of HTML")
    print(f"static   render_png:     {png_s:6.3f} s  {len(png) / 1e3:7.1f} kB PNG (full mesh, 640×480)")
    print(f"ratios ours/baseline: time {ours_s / base_s:.2f}, bytes {ours_bytes / base_bytes:.3f}")
    print(f"targets: ≤ 1 s → {'met' if ours_s <= 1 else 'NOT met'}; ≤ 5 MB → {'met' if ours_bytes <= 5e6 else 'NOT met'}")


if __name__ == "__main__":
    main()
