"""Text or image → a closed triangle surface with diffusers' Shap-E pipelines.

The pipeline samples latents; the renderer's network is then evaluated as a signed distance field on
a regular grid (its size set by ``quality``) and scikit-image's marching cubes extracts the surface.
The grid is padded with "outside" so every surface is closed.

Example (with a model folder)::

    surface = generate("a chair", kind="text", quality=1, steps=2, model="/models/tiny-shap-e")
    surface.vertices.shape[1], surface.faces.shape[1]   # (3, 3)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from ..errors import InvalidInput, OrfeasError
from ..options import QUALITY
from . import device as devices
from .models import CACHE, ModelSource, local_files_only, resolve
from .parameters import SEED, SHAP_E_GUIDANCE, SHAP_E_STEPS
from .progress import CancelFlag, Progress, StepCallback

#: quality 1–10 → marching-cubes grid (Shap-E's own default is 128, quality 7)
GRID = (32, 48, 64, 80, 96, 112, 128, 160, 192, 256)
QUERY_BATCH = 65536


@dataclass
class Surface:
    """A closed surface (vertices in the renderer's [-1, 1] box, counter-clockwise faces) and its record."""

    vertices: np.ndarray
    faces: np.ndarray
    info: dict[str, Any]


def load_pipeline(source: ModelSource, device: str, dtype: Any) -> Any:
    """``ShapEPipeline`` or ``ShapEImg2ImgPipeline`` (as saved in the folder) on ``device``."""
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(source.load_from, dtype=dtype, local_files_only=local_files_only(source))
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def _signed_distance(renderer: Any, latent: Any, grid: int) -> np.ndarray:
    """Evaluate the renderer's signed distance (positive inside) on a ``grid``³ lattice over its box."""
    import torch
    from diffusers.pipelines.shap_e.renderer import volume_query_points

    with torch.no_grad():
        projected = renderer.params_proj(latent[None])
        for name, param in renderer.mlp.state_dict().items():
            if f"nerstf.{name}" in projected:
                param.copy_(projected[f"nerstf.{name}"].squeeze(0))
        points = volume_query_points(renderer.volume, grid)[None].to(device=latent.device, dtype=renderer.mlp.dtype)
        fields = [
            renderer.mlp(
                position=points[:, i : i + QUERY_BATCH], direction=None, ts=None, nerf_level="fine", rendering_mode="stf"
            ).signed_distance
            for i in range(0, points.shape[1], QUERY_BATCH)
        ]
    return torch.cat(fields, dim=1).float().cpu().numpy().reshape(grid, grid, grid)


def surface_from_field(field: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Marching cubes at level 0 on ``field`` (positive inside) padded with outside, mapped into [low, high].

    An empty field (nothing inside, or everything inside) raises :class:`OrfeasError`.
    """
    from skimage.measure import marching_cubes

    inside = field > 0
    if not inside.any() or inside.all():
        raise OrfeasError(
            "Shap-E produced an empty surface (the shape has no inside). Try another seed, more steps, "
            "a higher guidance_scale or a more concrete prompt or picture."
        )
    padded = np.pad(field.astype(np.float32), 1, constant_values=-1.0)
    vertices, faces, _normals, _values = marching_cubes(padded, level=0.0)
    grid = field.shape[0]
    vertices = low + (vertices - 1.0) / (grid - 1) * (high - low)
    return vertices.astype(np.float64), faces.astype(np.int64)


def _encode(kind: str, subject: str | Image.Image) -> Any:
    if kind == "text":
        return subject
    if kind == "image":
        if subject.mode in ("RGBA", "LA"):  # Shap-E saw objects on white: composite transparency onto white
            white = Image.new("RGBA", subject.size, (255, 255, 255, 255))
            return Image.alpha_composite(white, subject.convert("RGBA")).convert("RGB")
        return subject.convert("RGB")
    raise InvalidInput(f"kind must be 'text' or 'image', got {kind!r}")


def generate(
    subject: str | Image.Image,
    *,
    kind: str,
    quality: int = 7,
    seed: int | None = None,
    steps: int | None = None,
    guidance_scale: float | None = None,
    model: str | os.PathLike | None = None,
    progress: bool = True,
    callback: StepCallback | None = None,
    cancel: CancelFlag | None = None,
) -> Surface:
    """A closed surface from a prompt (``kind="text"``) or a picture (``kind="image"``)."""
    from .text_to_image import new_seed

    # 1. Check inputs
    pipeline_input = _encode(kind, subject)
    quality = QUALITY.check(quality)
    seed = new_seed() if seed is None else SEED.check(seed)
    steps = SHAP_E_STEPS.default if steps is None else SHAP_E_STEPS.check(steps)
    guidance_option = SHAP_E_GUIDANCE[kind]
    guidance = guidance_option.default if guidance_scale is None else guidance_option.check(guidance_scale)
    grid = GRID[quality - 1]
    source = resolve("shap_e" if kind == "text" else "shap_e_img2img", model)
    device = devices.pick_device()
    dtype = devices.pick_dtype(device)
    with CACHE.use(source, device, dtype, lambda: load_pipeline(source, device, dtype)) as pipe:
        # 2. Sample latents; Shap-E has no step callback, so count the scheduler's steps instead
        with Progress(steps, desc=f"shap-e ({kind})", show=progress, callback=callback, cancel=cancel) as tracker:
            tracker.check()
            scheduler_step = pipe.scheduler.step

            def counted_step(*args: Any, **kwargs: Any) -> Any:
                tracker.set_total(len(pipe.scheduler.timesteps))
                tracker.check()
                result = scheduler_step(*args, **kwargs)
                tracker.advance()
                return result

            pipe.scheduler.step = counted_step
            try:
                latents = pipe(
                    pipeline_input,
                    num_inference_steps=steps,
                    guidance_scale=guidance,
                    generator=devices.generator(device, seed),
                    output_type="latent",
                ).images
            finally:
                del pipe.scheduler.step
            tracker.check()
        # 3. Decode the first latent's signed distance and extract the surface
        renderer = pipe.shap_e_renderer
        field = _signed_distance(renderer, latents[0], grid)
        low = renderer.volume.bbox_min.float().cpu().numpy()
        high = renderer.volume.bbox_max.float().cpu().numpy()
    vertices, faces = surface_from_field(field, low, high)
    info = {
        "seed": seed,
        "steps": steps,
        "guidance_scale": guidance,
        "grid": grid,
        "model": source.describe(),
        "device": device,
        "dtype": str(dtype).removeprefix("torch."),
    }
    return Surface(vertices, faces, info)
