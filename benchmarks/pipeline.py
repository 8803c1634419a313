"""Overhead of ``orfeas_nb.text_to_image`` over calling the same diffusers pipeline directly.

Both sides use the same tiny Stable Diffusion folder (built here), the same styled prompt, guidance,
size, steps and seed, and both are warm (the pipeline is loaded before timing). Runs alternate and the
medians are compared; the images must be identical, which proves both did the same work.

    python benchmarks/pipeline.py [--steps 8] [--repeats 9] [--model TINY_SD_FOLDER]

Prints the two medians and the overhead ratio (target ≤ 1.05). No wall-clock thresholds are asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def measure(steps: int, repeats: int, folder: Path) -> dict[str, float]:
    """Median seconds per image for ours and for diffusers directly, and their ratio."""
    import numpy as np
    import torch
    from diffusers import AutoPipelineForText2Image

    import orfeas_nb
    from orfeas_nb.pipeline.text_to_image import STYLES

    prompt, seed = "a small ceramic owl", 1234
    style = STYLES["realistic"]
    direct = AutoPipelineForText2Image.from_pretrained(folder, local_files_only=True)
    direct.set_progress_bar_config(disable=True)

    def ours():
        return orfeas_nb.text_to_image(prompt, steps=steps, seed=seed, model=folder, progress=False)

    def theirs():
        return direct(
            style.template.format(prompt=prompt),
            negative_prompt=style.negative,
            num_inference_steps=steps,
            guidance_scale=7.5,
            generator=torch.Generator("cpu").manual_seed(seed),
        ).images[0]

    same = np.array_equal(np.asarray(ours()), np.asarray(theirs()))  # also warms both up
    times: dict[str, list[float]] = {"ours": [], "diffusers": []}
    for _ in range(repeats):
        for name, run in (("ours", ours), ("diffusers", theirs)):
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    ours_s, theirs_s = statistics.median(times["ours"]), statistics.median(times["diffusers"])
    return {"ours_s": ours_s, "diffusers_s": theirs_s, "ratio": ours_s / theirs_s, "identical": float(same)}


def main(argv: list[str] | None = None) -> int:
    """Build the tiny model, measure, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--model", type=Path, default=None, help="an existing tiny SD folder (default: build one)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 keeps shared machines fair)")
    args = parser.parse_args(argv)
    os.environ["ORFEAS_DEVICE"] = "cpu"
    import torch

    torch.set_num_threads(args.threads)
    from tests.tiny_models import build_tiny_sd

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.model or build_tiny_sd(Path(tmp) / "sd")
        result = measure(args.steps, args.repeats, folder)
    print(f"tiny SD, 64×64, {args.steps} steps, {args.repeats} alternating runs (median), {args.threads} thread(s)")
    print(f"  diffusers pipeline directly : {result['diffusers_s'] * 1000:8.1f} ms")
    print(f"  orfeas_nb.text_to_image     : {result['ours_s'] * 1000:8.1f} ms")
    print(f"  overhead ratio              : {result['ratio']:.3f} (target ≤ 1.05)")
    print(f"  identical images            : {'yes' if result['identical'] else 'NO'}")
    return 0 if result["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
