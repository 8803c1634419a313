"""On a CUDA device: half precision, seeds that replay on the GPU, and memory given back after a run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import orfeas_nb
from orfeas_nb.pipeline import models

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def test_text_to_image_on_cuda_in_half_precision(tiny_sd):
    first = orfeas_nb.text_to_image("an owl", model=tiny_sd, steps=2, seed=3, progress=False)
    again = orfeas_nb.text_to_image("an owl", model=tiny_sd, steps=2, seed=3, progress=False)
    record = first.info["orfeas"]
    assert record["device"] == "cuda" and record["dtype"] == "float16"
    assert np.array_equal(np.asarray(first), np.asarray(again))


def test_dropping_the_cache_gives_memory_back(tiny_sd, tiny_shap_e):
    orfeas_nb.text_to_3d("a pawn", model=tiny_shap_e, quality=1, steps=2, seed=1, progress=False)
    orfeas_nb.text_to_image("an owl", model=tiny_sd, steps=2, seed=3, progress=False)
    held = torch.cuda.memory_allocated()
    models.CACHE.clear()
    from orfeas_nb.pipeline.device import release

    release("cuda")
    assert torch.cuda.memory_allocated() < held
