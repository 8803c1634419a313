"""The pipeline's declared parameters: style presets and the ranges of seed, steps, sizes and guidance.

Torch-free, so :func:`orfeas_nb.catalogue` can read it without loading a model library; the generators
check their inputs against these same declarations.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..options import Option


@dataclass(frozen=True)
class Style:
    """A text→image preset: a one-line summary, a prompt template (``{prompt}`` is replaced) and what to avoid."""

    summary: str
    template: str
    negative: str


STYLES: dict[str, Style] = {
    "realistic": Style(
        "photograph-like, natural light",
        "{prompt}, photorealistic, natural light, sharp focus",
        "blurry, lowres, watermark, text",
    ),
    "cartoon": Style(
        "bold outlines and flat colours",
        "{prompt}, cartoon style, bold outlines, flat colours",
        "photo, realistic, noisy, watermark",
    ),
    "sculpture": Style(
        "one matte clay object on a plain background (good for 3D)",
        "{prompt}, a single sculpture on a plain background, matte clay, studio lighting",
        "busy background, multiple objects, text, watermark",
    ),
    "low-poly": Style(
        "flat-shaded facets on a plain background",
        "{prompt}, low poly 3d render, flat shaded facets, plain background",
        "photo, noisy, text",
    ),
    "high-contrast": Style(
        "black and white with a clear silhouette (good for extrude and relief)",
        "{prompt}, high contrast black and white, strong shadows, clear silhouette",
        "low contrast, washed out, colour noise, text",
    ),
}

SEED = Option("seed", None, "random seed: the same seed and settings make the same result (default: a random one, recorded)",
              low=0, high=2**63 - 1, kind="int", label="Seed")
STEPS = Option("steps", None, "text→image denoising steps (default: the model's)", low=1, high=200, kind="int",
               label="Steps")
WIDTH = Option("width", None, "image width (default: the model's)", low=64, high=2048, kind="int", unit="px",
               multiple_of=8, why="the VAE works in 8-pixel blocks", label="Width")
HEIGHT = Option("height", None, "image height (default: the model's)", low=64, high=2048, kind="int", unit="px",
                multiple_of=8, why="the VAE works in 8-pixel blocks", label="Height")
#: the text→image run parameters, in the order faces show them
TEXT_TO_IMAGE = (SEED, STEPS, WIDTH, HEIGHT)

SHAP_E_STEPS = Option("steps", 64, "Shap-E sampling steps: more are slower and often cleaner", low=1, high=500,
                      label="Steps")
#: Shap-E's guidance per input kind: a prompt needs stronger guidance than a picture
SHAP_E_GUIDANCE = {
    kind: Option("guidance_scale", default, "how closely Shap-E follows the prompt or picture", low=0.0, high=100.0,
                 label="Guidance")
    for kind, default in (("image", 3.0), ("text", 15.0))
}
