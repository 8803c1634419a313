"""The README's picture: one photo as a relief for ``printer="exact"`` and for the default ``fdm``, side by side.

Renders both models with :func:`orfeas_nb.mesh.render.render_array`, writes their STL files to a
temporary folder to measure them, and saves ``docs/images/printer-exact-vs-fdm.png`` with a caption
under each view (triangles, STL size). Prints the figures as a Markdown table for the README.

Usage: ``python scripts/printer_pictures.py [--out docs/images/printer-exact-vs-fdm.png]``
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import skimage
from PIL import Image, ImageDraw

import orfeas_nb
from orfeas_nb.mesh.render import BACKGROUND, render_array

ROOT = Path(__file__).resolve().parents[1]
CAPTION = 44


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "printer-exact-vs-fdm.png")
    args = parser.parse_args(argv)
    coins = skimage.data.coins()  # scikit-image's public-domain photo, 384 × 303 px
    panels, rows = [], []
    with tempfile.TemporaryDirectory() as folder:
        for printer in ("exact", "fdm"):
            model = orfeas_nb.image_to_3d(coins, quality=10, size_mm=60.0, printer=printer)
            stl = model.export(Path(folder) / f"{printer}.stl", manifest=False)
            triangles, size = len(model.mesh.faces), stl.stat().st_size
            view = render_array(model.mesh, 640, 480, azimuth_deg=20.0, elevation_deg=55.0)
            caption = f'printer="{printer}": {triangles:,} triangles, STL {size / 1e6:.1f} MB'
            panels.append(with_caption(view, caption))
            rows.append((printer, triangles, size, model.manifest))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    picture = Image.fromarray(np.concatenate(panels, axis=1)).quantize(colors=96)  # a smaller file, same look
    picture.save(args.out, optimize=True)
    print(f"wrote {args.out}\n")
    print("| printer | triangles | STL | error vs filtered / picture |\n|---|---|---|---|")
    for printer, triangles, size, manifest in rows:
        print(f"| `{printer}` | {triangles:,} | {size / 1e6:.2f} MB | {manifest['achieved_max_error_mm']:.3f} / "
              f"{manifest['error_vs_picture_mm']:.2f} mm |")


def with_caption(view: np.ndarray, text: str) -> np.ndarray:
    """``view`` with ``text`` written in a band under it."""
    band = Image.new("RGB", (view.shape[1], CAPTION), BACKGROUND)
    ImageDraw.Draw(band).text((16, 14), text, fill=(40, 40, 40))
    return np.concatenate([view, np.asarray(band)], axis=0)


if __name__ == "__main__":
    main()
