"""Text → image with diffusers' ``AutoPipelineForText2Image``, style presets, seeds, progress and cancel.

Example (with a model folder)::

    result = generate("a small ceramic owl", style="sculpture", seed=7, model="/models/tiny-sd")
    result.image.size, result.seed   # ((64, 64), 7) for a tiny test model
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from ..errors import InvalidInput
from . import device as devices
from .models import CACHE, ModelSource, local_files_only, resolve
from .parameters import HEIGHT, SEED, STEPS, STYLES, WIDTH
from .progress import CancelFlag, Progress, StepCallback


@dataclass(frozen=True)
class Family:
    """Sampling defaults of a model family."""

    name: str
    steps: int
    guidance_scale: float


def family(source: ModelSource, pipeline: Any) -> Family:
    """Defaults by family: SD-Turbo/SDXL-Turbo (1 step, no guidance), SDXL (30 steps), other SD (25 steps)."""
    if "turbo" in source.id.lower():
        return Family("turbo", 1, 0.0)
    if "XL" in type(pipeline).__name__:
        return Family("sdxl", 30, 5.0)
    return Family("stable-diffusion", 25, 7.5)


@dataclass
class GeneratedImage:
    """An image and everything needed to make it again."""

    image: Image.Image
    seed: int
    steps: int
    width: int
    height: int
    prompt: str
    negative_prompt: str | None
    style: str
    model: dict[str, str]
    device: str
    dtype: str
    extra: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """A JSON-ready record for a manifest."""
        return {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "style": self.style,
            "seed": self.seed,
            "steps": self.steps,
            "width": self.width,
            "height": self.height,
            "model": self.model,
            "device": self.device,
            "dtype": self.dtype,
            **self.extra,
        }


def new_seed() -> int:
    """A fresh random seed (recorded, so the image can be made again)."""
    return secrets.randbelow(2**31)


def load_pipeline(source: ModelSource, device: str, dtype: Any) -> Any:
    """Load ``AutoPipelineForText2Image`` onto ``device`` (CPU offload when the GPU is short) with SDPA attention."""
    import torch
    from diffusers import AutoPipelineForText2Image

    pipe = AutoPipelineForText2Image.from_pretrained(source.load_from, dtype=dtype, local_files_only=local_files_only(source))
    pipe.set_progress_bar_config(disable=True)
    weights = sum(
        p.numel() * p.element_size() for m in pipe.components.values() if isinstance(m, torch.nn.Module) for p in m.parameters()
    )
    if devices.wants_offload(device, weights):
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.to(device)
    if device.startswith("cuda"):
        denoiser(pipe).to(memory_format=torch.channels_last)
    return pipe


def denoiser(pipe: Any) -> Any:
    """The pipeline's denoising network: ``unet`` (SD, SDXL) or ``transformer`` (SD3, PixArt)."""
    return getattr(pipe, "unet", None) or pipe.transformer


def _check_size(name: str, value: int | None, default: int) -> int:
    if value is None:
        return default
    return {"width": WIDTH, "height": HEIGHT}[name].check(value)


def generate(
    prompt: str,
    *,
    style: str = "realistic",
    seed: int | None = None,
    steps: int | None = None,
    width: int | None = None,
    height: int | None = None,
    negative_prompt: str | None = None,
    model: str | os.PathLike | None = None,
    progress: bool = True,
    callback: StepCallback | None = None,
    cancel: CancelFlag | None = None,
) -> GeneratedImage:
    """Generate one image from an already validated ``prompt``. See :func:`orfeas_nb.text_to_image`."""
    # 1. Check inputs
    if not isinstance(style, str) or style not in STYLES:
        raise InvalidInput(f"unknown style {style!r}; choose one of: {', '.join(STYLES)}")
    seed = new_seed() if seed is None else SEED.check(seed)
    steps = STEPS.check(steps)
    preset = STYLES[style]
    negative = preset.negative if negative_prompt is None else str(negative_prompt)
    # 2. Find the model and the device before loading anything
    source = resolve("text_to_image", model)
    device = devices.pick_device()
    dtype = devices.pick_dtype(device)
    with CACHE.use(source, device, dtype, lambda: load_pipeline(source, device, dtype)) as pipe:
        # 3. Defaults of the model family; sizes in 8-pixel blocks
        fam = family(source, pipe)
        steps = steps or fam.steps
        native = int(denoiser(pipe).config.sample_size * pipe.vae_scale_factor)
        width, height = _check_size("width", width, native), _check_size("height", height, native)
        # 4. Denoise with progress and cancel hooks
        with Progress(steps, desc="text_to_image", show=progress, callback=callback, cancel=cancel) as tracker:
            tracker.check()

            def on_step_end(pipeline: Any, step: int, timestep: Any, tensors: dict) -> dict:
                tracker.advance()
                if tracker.cancelled:
                    pipeline._interrupt = True
                return tensors

            output = pipe(
                preset.template.format(prompt=prompt),
                negative_prompt=negative if fam.guidance_scale > 1 else None,
                num_inference_steps=steps,
                guidance_scale=fam.guidance_scale,
                width=width,
                height=height,
                generator=devices.generator(device, seed),
                callback_on_step_end=on_step_end,
            )
            tracker.check()
    image = output.images[0]
    negative = negative if fam.guidance_scale > 1 else None  # guidance-free models ignore it: record that
    return GeneratedImage(
        image,
        seed,
        steps,
        width,
        height,
        prompt,
        negative,
        style,
        source.describe(),
        device,
        str(dtype).removeprefix("torch."),
        {"family": fam.name, "guidance_scale": fam.guidance_scale},
    )
