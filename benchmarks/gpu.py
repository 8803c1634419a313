"""SD-1.5-sized text→image throughput on a CUDA GPU: orfeas_nb's settings against diffusers' defaults.

A UNet, VAE and CLIP text encoder with Stable Diffusion 1.5's shapes are built from config with random
weights (the compute is what is measured), saved once as a ``save_pretrained`` folder, and run at
512×512 for 4 steps with batch 1 and 4:

- ``diffusers``: ``StableDiffusionPipeline.from_pretrained(folder).to("cuda")`` (float32, its defaults);
- ``ours``: the pipeline exactly as ``orfeas_nb`` loads it (float16, SDPA attention, channels_last), batch 1
  through ``orfeas_nb.text_to_image``; ``--compile`` adds ``torch.compile`` of the UNet.

    python benchmarks/gpu.py [--repeats 5] [--compile]

Prints images/s, peak GPU memory and the speed-up (target ≥ 1.3×). Without CUDA it refuses (exit 2).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SIZE, STEPS, BATCHES = 512, 4, (1, 4)


def unet_config() -> dict[str, Any]:
    """Stable Diffusion 1.5's UNet2DConditionModel configuration."""
    return {
        "sample_size": 64,
        "in_channels": 4,
        "out_channels": 4,
        "layers_per_block": 2,
        "block_out_channels": (320, 640, 1280, 1280),
        "down_block_types": ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        "cross_attention_dim": 768,
        "attention_head_dim": 8,
        "norm_num_groups": 32,
    }


def vae_config() -> dict[str, Any]:
    """Stable Diffusion 1.5's AutoencoderKL configuration."""
    return {
        "in_channels": 3,
        "out_channels": 3,
        "latent_channels": 4,
        "block_out_channels": (128, 256, 512, 512),
        "down_block_types": ("DownEncoderBlock2D",) * 4,
        "up_block_types": ("UpDecoderBlock2D",) * 4,
        "layers_per_block": 2,
        "norm_num_groups": 32,
        "sample_size": 512,
    }


def text_config() -> Any:
    """Stable Diffusion 1.5's CLIP ViT-L/14 text encoder configuration."""
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        vocab_size=49408,
        hidden_size=768,
        intermediate_size=3072,
        num_hidden_layers=12,
        num_attention_heads=12,
        max_position_embeddings=77,
        hidden_act="quick_gelu",
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    )


def build_configs() -> dict[str, Any]:
    """The three component configurations (cheap: nothing is allocated)."""
    return {"unet": unet_config(), "vae": vae_config(), "text_encoder": text_config()}


def build_folder(folder: Path) -> Path:
    """Random-weight SD-1.5-sized pipeline saved in float16 to ``folder``."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

    from tests.tiny_models import tiny_clip_tokenizer

    configs = build_configs()
    torch.manual_seed(0)
    pipe = StableDiffusionPipeline(
        unet=UNet2DConditionModel(**configs["unet"]),
        vae=AutoencoderKL(**configs["vae"]),
        text_encoder=CLIPTextModel(configs["text_encoder"]),
        tokenizer=tiny_clip_tokenizer(),
        scheduler=EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.to(torch.float16).save_pretrained(folder)
    return folder


def _timed(run, repeats: int) -> tuple[float, int]:
    import torch

    run()  # warm-up (and compilation)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times), torch.cuda.max_memory_allocated()


def _diffusers_rows(folder: Path, repeats: int, common: dict) -> list[tuple[str, int, float, float]]:
    from diffusers import StableDiffusionPipeline

    plain = StableDiffusionPipeline.from_pretrained(folder, local_files_only=True).to("cuda")
    plain.set_progress_bar_config(disable=True)
    rows = []
    for batch in BATCHES:
        seconds, peak = _timed(lambda b=batch: plain("an owl", num_images_per_prompt=b, **common), repeats)
        rows.append(("diffusers defaults", batch, batch / seconds, peak / 2**30))
    return rows


def measure(folder: Path, repeats: int, compile_unet: bool) -> list[tuple[str, int, float, float]]:
    """(side, batch, images/s, peak GiB) rows."""
    import torch

    import orfeas_nb
    from orfeas_nb.pipeline import models
    from orfeas_nb.pipeline.text_to_image import load_pipeline

    common = {"num_inference_steps": STEPS, "height": SIZE, "width": SIZE, "guidance_scale": 7.5}
    rows = _diffusers_rows(folder, repeats, common)
    torch.cuda.empty_cache()

    source = models.resolve("text_to_image", folder)
    loader = lambda: load_pipeline(source, "cuda", torch.float16)  # noqa: E731 - the cache's loader
    with models.CACHE.use(source, "cuda", torch.float16, loader) as ours:  # the entry text_to_image will use
        if compile_unet:
            ours.unet = torch.compile(ours.unet)
    seconds, peak = _timed(
        lambda: orfeas_nb.text_to_image("an owl", model=folder, steps=STEPS, width=SIZE, height=SIZE, seed=1, progress=False),
        repeats,
    )
    rows.append(("orfeas_nb", 1, 1 / seconds, peak / 2**30))
    seconds, peak = _timed(lambda: ours("an owl", num_images_per_prompt=4, **common), repeats)
    rows.append(("orfeas_nb settings", 4, 4 / seconds, peak / 2**30))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Refuse without CUDA; otherwise build, measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compile", action="store_true", help="torch.compile the UNet on our side")
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("benchmarks/gpu.py needs a CUDA GPU and none is visible here; run it on a GPU machine.", file=sys.stderr)
        return 2
    os.environ["ORFEAS_DEVICE"] = "cuda"
    os.environ["ORFEAS_CPU_OFFLOAD"] = "off"
    with tempfile.TemporaryDirectory() as tmp:
        rows = measure(build_folder(Path(tmp) / "sd15"), args.repeats, args.compile)
    print(f"SD-1.5-sized random weights, {SIZE}×{SIZE}, {STEPS} steps, {torch.cuda.get_device_name(0)}")
    print(f"{'side':<22}{'batch':>6}{'images/s':>11}{'peak GiB':>10}")
    for side, batch, rate, peak in rows:
        print(f"{side:<22}{batch:>6}{rate:>11.2f}{peak:>10.2f}")
    for batch in BATCHES:
        base = next(rate for side, b, rate, _ in rows if b == batch and side.startswith("diffusers"))
        ours = next(rate for side, b, rate, _ in rows if b == batch and side.startswith("orfeas"))
        print(f"speed-up at batch {batch}: {ours / base:.2f}× (target ≥ 1.3×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
