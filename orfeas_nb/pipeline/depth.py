"""Image → relative depth with transformers' ``pipeline("depth-estimation")`` (Depth Anything, DPT).

Example (with a model folder)::

    result = estimate(image, model="/models/tiny-depth")
    result.depth.shape == (image.height, image.width), float(result.depth.max())   # (True, 1.0)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from . import device as devices
from .models import CACHE, ModelSource, local_files_only, resolve
from .progress import CancelFlag, Progress, StepCallback


@dataclass
class DepthMap:
    """Relative depth in [0, 1] per pixel of the input (1 = nearest), and where it came from."""

    depth: np.ndarray
    model: dict[str, str]
    device: str
    dtype: str


def load_pipeline(source: ModelSource, device: str, dtype: Any) -> Any:
    """A transformers depth-estimation pipeline on ``device``."""
    from transformers import pipeline

    return pipeline(
        "depth-estimation",
        model=source.load_from,
        device=device,
        dtype=dtype,
        local_files_only=local_files_only(source),
    )


def normalise(raw: np.ndarray) -> np.ndarray:
    """Scale a depth prediction to [0, 1] (nearest = 1); a constant map becomes all zeros.

    >>> normalise(np.array([[2.0, 4.0]])).tolist()
    [[0.0, 1.0]]
    """
    raw = np.nan_to_num(np.asarray(raw, dtype=np.float32))
    low, high = float(raw.min()), float(raw.max())
    if high - low <= 1e-12:
        return np.zeros_like(raw)
    return (raw - low) / (high - low)


def estimate(
    image: Image.Image,
    *,
    model: str | os.PathLike | None = None,
    progress: bool = True,
    callback: StepCallback | None = None,
    cancel: CancelFlag | None = None,
) -> DepthMap:
    """Relative depth of ``image`` at its own size (one forward pass: one progress step)."""
    source = resolve("depth", model)
    device = devices.pick_device()
    dtype = devices.pick_dtype(device)
    with Progress(1, desc="depth", show=progress, callback=callback, cancel=cancel) as tracker:
        tracker.check()
        with CACHE.use(source, device, dtype, lambda: load_pipeline(source, device, dtype)) as pipe:
            output = pipe(image.convert("RGB"))
        tracker.advance()
    predicted = output["predicted_depth"].float().cpu().numpy()
    predicted = predicted.reshape(predicted.shape[-2:])
    if predicted.shape != (image.height, image.width):
        resized = Image.fromarray(predicted, "F").resize(image.size, Image.Resampling.BILINEAR)
        predicted = np.asarray(resized, dtype=np.float32)
    return DepthMap(normalise(predicted), source.describe(), device, str(dtype).removeprefix("torch."))
