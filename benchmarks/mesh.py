"""Mesh engine benchmarks: a table of ratios, every figure measured in this one run.

1. lithophane: a photo-like picture → watertight binary STL, ours against the ``lithophane`` PyPI
   package at the same resolution and thickness (0.8–3.2 mm): time ratio, triangles, watertight.
   Target: ours at least 5× faster and always watertight. Without the package (``pip install lithophane``,
   part of the ``dev`` extra) its rows say "not installed".
2. adaptive against full grid at the same max error (0.05 mm on a 100 mm relief, quality 7): triangle
   ratio, on the bundled photo-like ``scene.png`` (as is, and smoothed by ``blur=0.25`` mm), on the
   enlarged grainy picture, and on real photographs shipped with scikit-image. Target: at most 25 %.
   0.05 mm is about two grey levels of a 7 mm relief: grain and texture taller than that must be kept,
   so grainy or textured pictures need the blur option to gain much.
3. the floor: the full-grid relief's mesh → STL file against writing as many bytes with numpy's
   ``tofile``, fsynced like our atomic writes and not. Target: within 3×.

Usage: ``python benchmarks/mesh.py [--side 1024]`` (``--side 64`` is the smoke test's size).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

import orfeas_nb
from orfeas_nb import samples
from orfeas_nb.mesh.export import stl_chunks


def photo_like(side: int) -> Image.Image:
    """The bundled photo-like sample, enlarged to side × side, with fine grain like a camera's."""
    scene = Image.open(samples.path("scene")).convert("RGB").resize((side, side), Image.Resampling.BICUBIC)
    grain = np.random.default_rng(0).normal(0, 4, (side, side, 1))
    return Image.fromarray(np.clip(np.asarray(scene, dtype=np.float32) + grain, 0, 255).astype(np.uint8))


def timed(action):
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def theirs_lithophane(png: Path, out: Path, side: int) -> tuple[float, int, bool] | None:
    """The ``lithophane`` package: its own pipeline from the image file to an STL file (None: not installed)."""
    try:
        import lithophane
    except ImportError:
        return None

    def run():
        with contextlib.redirect_stdout(io.StringIO()):
            x, y, z = lithophane.jpg_to_stl(png, width_mm=side / lithophane.RESOLUTION, depth_mm=2.4, offset_mm=0.8,
                                            show=False)
            lithophane.make_mesh(x, y, z).save(str(out))

    _, seconds = timed(run)
    mesh = trimesh.load(out, force="mesh")
    return seconds, len(mesh.faces), bool(mesh.is_watertight)


def ours_lithophane(png: Path, out: Path, side: int, triangulation: str) -> tuple[float, int, bool]:
    """orfeas_nb: load, mesh at the full resolution (quality 10), export a binary STL."""

    def run():
        model = orfeas_nb.image_to_3d(png, method="lithophane", quality=10, size_mm=side / 10.0,
                                      triangulation=triangulation)
        model.export(out, manifest=False)
        return model

    model, seconds = timed(run)
    back = trimesh.load(out, force="mesh")
    return seconds, len(model.mesh.faces), bool(back.is_watertight)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=1024, help="picture side in pixels (default 1024)")
    args = parser.parse_args(argv)
    side = args.side
    os.environ.setdefault("ORFEAS_MAX_GRID", str(max(side, 1024)))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        png = tmp / "photo.png"
        photo_like(side).save(png)

        # 1. ours against the lithophane package (ours warmed up first: imports are not the work)
        rows += lithophane_rows(png, tmp, side)

        # 2. adaptive against the full grid at the same error bound (quality 7: 0.05 mm on 100 mm)
        picture = photo_like(side)
        scene = samples.path("scene")
        cases = [("scene.png", scene, 0.0), ("scene.png, blur 0.25 mm", scene, 0.25), (f"{side}² + grain", picture, 0.0)]
        cases += [(f"{name} (scikit-image photo)", path, 0.0) for name, path in real_photos()]
        for name, source, blur in cases:
            common = {"method": "relief", "quality": 7, "size_mm": 100.0, "blur": blur}
            grid = orfeas_nb.image_to_3d(source, triangulation="grid", **common)
            adaptive = orfeas_nb.image_to_3d(source, **common)
            ratio = len(adaptive.mesh.faces) / len(grid.mesh.faces)
            rows.append((f"relief 100 mm ({name}), adaptive vs grid at 0.05 mm", f"{ratio:.1%} of the triangles",
                         f"{len(adaptive.mesh.faces):,} vs {len(grid.mesh.faces):,}",
                         f"achieved error {adaptive.manifest['achieved_max_error_mm']:.4f} mm; "
                         f"grid {grid.manifest['grid']}", "≤ 25%"))

        # 3. the floor: mesh → STL file against numpy writing the same number of bytes, with and without
        #    the fsync that our atomic writes do (a model survives a power cut once export returns)
        dense = orfeas_nb.image_to_3d(picture, method="relief", quality=10, size_mm=100.0, triangulation="grid")
        stl = tmp / "dense.stl"
        payload = np.frombuffer(os.urandom(84 + 50 * len(dense.mesh.faces)), dtype=np.uint8)
        ours, floor, durable_floor, encode = [], [], [], []
        for _ in range(5):  # alternated, medians: the disk's speed drifts
            ours.append(quiet_timed(tmp, lambda: dense.export(stl, manifest=False)))
            floor.append(quiet_timed(tmp, lambda: payload.tofile(tmp / "floor.bin")))
            durable_floor.append(quiet_timed(tmp, lambda: durable_tofile(payload, tmp / "floor.bin")))
            encode.append(quiet_timed(tmp, lambda: sum(len(memoryview(c)) for c in stl_chunks(dense.mesh))))
        ours, floor, durable_floor, encode = map(statistics.median, (ours, floor, durable_floor, encode))
        size = f"{len(payload) / 1e6:.0f} MB, {len(dense.mesh.faces):,} triangles"
        rows.append((f"full-grid relief → STL file vs numpy tofile + fsync ({size})", f"{ours / durable_floor:.1f}× the floor",
                     f"{ours:.3f} s vs {durable_floor:.3f} s", "both durable: written, fsynced", "≤ 3×"))
        rows.append(("the same vs numpy tofile alone (page cache, no fsync)", f"{ours / floor:.1f}× the floor",
                     f"{ours:.3f} s vs {floor:.3f} s", f"encoding alone (no file) {encode:.3f} s", "≤ 3×"))
    print(table(rows))


def lithophane_rows(png: Path, tmp: Path, side: int) -> list[tuple[str, ...]]:
    """Rows of part 1: ours (grid, adaptive) against the ``lithophane`` package, or "not installed"."""
    orfeas_nb.image_to_3d(photo_like(16), method="lithophane", quality=1).export(tmp / "warm.stl")
    theirs = theirs_lithophane(png, tmp / "theirs.stl", side)
    rows = []
    for triangulation in ("grid", "adaptive"):
        our_s, our_tris, our_closed = ours_lithophane(png, tmp / "ours.stl", side, triangulation)
        label = f"lithophane {side}² → STL, ours ({triangulation}) vs lithophane pkg"
        if theirs is None:
            rows.append((label, "not installed", f"{our_s:.2f} s vs -",
                         f"triangles {our_tris:,}; watertight {yes(our_closed)}; pip install lithophane", "≥ 5×, watertight"))
            continue
        their_s, their_tris, their_closed = theirs
        rows.append((label, f"{their_s / our_s:.1f}× faster", f"{our_s:.2f} s vs {their_s:.2f} s",
                     f"triangles {our_tris:,} vs {their_tris:,}; watertight {yes(our_closed)} vs {yes(their_closed)}",
                     "≥ 5×, watertight"))
    return rows


def real_photos() -> list[tuple[str, Path]]:
    """Photographs that scikit-image ships (public domain / CC0): real grain, texture and gradients."""
    import skimage

    folder = Path(skimage.__file__).parent / "data"
    return [(name, folder / name) for name in ("astronaut.png", "camera.png", "coffee.png", "rocket.jpg")
            if (folder / name).exists()]


def quiet_timed(folder: Path, action) -> float:
    """Seconds ``action`` takes, started with no dirty pages waiting (earlier writes would slow it)."""
    for leftover in folder.glob("*.bin"):
        leftover.unlink()
    os.sync()
    return timed(action)[1]


def durable_tofile(payload: np.ndarray, path: Path) -> None:
    with open(path, "wb") as handle:
        payload.tofile(handle)
        handle.flush()
        os.fsync(handle.fileno())


def yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def table(rows: list[tuple[str, ...]]) -> str:
    """A fixed-width text table with a header."""
    header = ("benchmark", "ratio", "times / counts", "details", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
