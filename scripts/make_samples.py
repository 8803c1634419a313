"""Draw the bundled sample images (orfeas_nb/samples/*.png). Run: python scripts/make_samples.py"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parent.parent / "orfeas_nb" / "samples"


def shapes(size: int = 256) -> Image.Image:
    """Grey shapes of several tones on white."""
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    draw.ellipse((24, 24, 120, 120), fill=40)
    draw.rectangle((140, 30, 230, 110), fill=110)
    draw.polygon([(40, 230), (128, 140), (216, 230)], fill=170)
    draw.ellipse((150, 150, 200, 200), fill=0)
    return image.filter(ImageFilter.GaussianBlur(1.2))


def logo(size: int = 256) -> Image.Image:
    """A ring with a bar through it, on a transparent background."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((28, 28, 228, 228), fill=(20, 90, 200, 255))
    draw.ellipse((78, 78, 178, 178), fill=(0, 0, 0, 0))
    draw.rectangle((112, 16, 144, 240), fill=(230, 120, 20, 255))
    return image


def scene(width: int = 320, height: int = 240, seed: int = 7) -> Image.Image:
    """Two lit spheres on a graded floor with grain: something like a photograph."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    sky = 0.85 - 0.35 * yy / height
    light = np.array([-0.5, -0.6, 0.62])
    light /= np.linalg.norm(light)
    rgb = np.stack([sky * 0.8, sky * 0.9, sky], axis=-1)
    for cx, cy, r, colour in ((110, 140, 70, (0.9, 0.45, 0.3)), (230, 165, 48, (0.35, 0.6, 0.9))):
        dx, dy = (xx - cx) / r, (yy - cy) / r
        inside = dx**2 + dy**2 < 1
        dz = np.sqrt(np.clip(1 - dx**2 - dy**2, 0, 1))
        shade = np.clip(dx * light[0] + dy * light[1] + dz * light[2], 0, 1) * 0.85 + 0.12
        rgb[inside] = np.outer(shade[inside], colour)
    rgb += rng.normal(0, 0.025, rgb.shape)
    return Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8), "RGB")


if __name__ == "__main__":
    for name, image in {"shapes": shapes(), "logo": logo(), "scene": scene()}.items():
        image.save(OUT / f"{name}.png", optimize=True)
        print(name, image.size, image.mode, (OUT / f"{name}.png").stat().st_size, "bytes")
