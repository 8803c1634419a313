"""Mesh engine benchmarks: a table of ratios, every figure measured in this one run.

1. The public path a user takes (``image_to_3d`` at quality 10 with the default printer, then
   ``export`` to STL) against the dense path of the same picture (``printer="exact"``,
   ``triangulation="grid"``: every sample), on real photographs shipped with scikit-image (astronaut,
   camera, coffee, rocket, enlarged to side × side) and on the bundled ``scene.png``, as relief and as
   lithophane: time ratio (target: at most 1.2×) and triangle ratio (target: at most 25 %). Times are
   medians of three, the two paths alternated.
2. The same public path (lithophane) against the ``lithophane`` PyPI package on each photo: its own
   pipeline from the image file to an STL file at the same resolution. Target: at least 30× faster.
3. The floor: the dense relief's mesh → STL file against writing as many bytes with numpy's
   ``tofile``, fsynced like our atomic writes, and not. Target: within 2.5× of the durable floor.

Usage: ``python benchmarks/mesh.py [--side 1024]`` (``--side 48`` is the smoke test's size).
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

DENSE = {"printer": "exact", "triangulation": "grid"}


def timed(action):
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def theirs_lithophane(png: Path, out: Path, side: int) -> tuple[float, int, bool]:
    """The ``lithophane`` package: its own pipeline from the image file to an STL file."""
    import lithophane

    def run():
        with contextlib.redirect_stdout(io.StringIO()):
            x, y, z = lithophane.jpg_to_stl(png, width_mm=side / lithophane.RESOLUTION, depth_mm=2.4, offset_mm=0.8,
                                            show=False)
            lithophane.make_mesh(x, y, z).save(str(out))

    _, seconds = timed(run)
    mesh = trimesh.load(out, force="mesh")
    return seconds, len(mesh.faces), bool(mesh.is_watertight)


def path_seconds(picture: Path, out: Path, method: str, options: dict) -> tuple[float, orfeas_nb.Model3D]:
    """Load, mesh at quality 10 and export a binary STL: the seconds and the model."""

    def run():
        model = orfeas_nb.image_to_3d(picture, method=method, quality=10, **options)
        model.export(out, manifest=False)
        return model

    model, seconds = timed(run)
    return seconds, model


def installed(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=1024, help="photo side in pixels (default 1024)")
    args = parser.parse_args(argv)
    side = args.side
    os.environ.setdefault("ORFEAS_MAX_GRID", str(max(side, 1024)))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        pictures = []
        for name, source in real_photos():
            png = tmp / f"{Path(name).stem}.png"
            Image.open(source).convert("RGB").resize((side, side), Image.Resampling.BICUBIC).save(png)
            pictures.append((f"{Path(name).stem} {side}²", png))
        pictures.append(("scene.png", samples.path("scene")))
        orfeas_nb.image_to_3d(samples.path("shapes"), quality=1).export(tmp / "warm.stl")  # imports are not the work

        # 1. the public path against the dense path of the same picture; 2. against the lithophane package
        for label, picture in pictures:
            for method in ("relief", "lithophane"):
                dense_s, public_s = [], []
                for _ in range(3):
                    seconds, dense = path_seconds(picture, tmp / "dense.stl", method, DENSE)
                    dense_s.append(seconds)
                    seconds, public = path_seconds(picture, tmp / "public.stl", method, {})
                    public_s.append(seconds)
                ours, theirs = statistics.median(public_s), statistics.median(dense_s)
                share = len(public.mesh.faces) / len(dense.mesh.faces)
                kept = (f"{public.manifest['triangulation']}, grid {public.manifest['grid'][0]}; "
                        f"error {public.manifest['achieved_max_error_mm']:.3f} mm")
                rows.append((f"{label} {method}: public path vs dense path", f"{ours / theirs:.2f}× the time",
                             f"{ours:.2f} s vs {theirs:.2f} s",
                             f"{share:.1%} of the triangles ({len(public.mesh.faces):,} vs {len(dense.mesh.faces):,}); {kept}",
                             "≤ 1.2×, ≤ 25 %"))
                if method != "lithophane" or label == "scene.png":
                    continue
                name = f"{label} lithophane: public path vs lithophane pkg"
                if not installed("lithophane"):
                    rows.append((name, "not installed", "-", "pip install lithophane (the dev extra has it)", "≥ 30×"))
                    continue
                their_s, their_tris, their_closed = theirs_lithophane(picture, tmp / "theirs.stl", side)
                rows.append((name, f"{their_s / ours:.1f}× faster", f"{ours:.2f} s vs {their_s:.2f} s",
                             f"triangles {len(public.mesh.faces):,} vs {their_tris:,}; watertight yes vs {yes(their_closed)}",
                             "≥ 30×"))

        # 3. the floor: mesh → STL file against numpy writing the same number of bytes, with and without
        #    the fsync that our atomic writes do (a model survives a power cut once export returns)
        dense = orfeas_nb.image_to_3d(pictures[0][1], method="relief", quality=10, size_mm=100.0, **DENSE)
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
        rows.append((f"dense relief → STL file vs numpy tofile + fsync ({size})", f"{ours / durable_floor:.1f}× the floor",
                     f"{ours:.3f} s vs {durable_floor:.3f} s", "both durable: written, fsynced", "≤ 2.5×"))
        rows.append(("the same vs numpy tofile alone (page cache, no fsync)", f"{ours / floor:.1f}× the floor",
                     f"{ours:.3f} s vs {floor:.3f} s", f"encoding alone (no file) {encode:.3f} s", "(for reference)"))
    print(table(rows))


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
