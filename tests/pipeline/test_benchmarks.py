"""The benchmark scripts run (pipeline overhead) or at least build their SD-1.5 configs (GPU) on CPU."""

from __future__ import annotations

import importlib.util
import re

import pytest
import torch

from tests.conftest import ROOT

pytestmark = [pytest.mark.performance, pytest.mark.slow]  # a benchmark script run as a test


def _load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_benchmark_builds_sd15_sized_components_on_cpu():
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel

    gpu = _load("gpu")
    configs = gpu.build_configs()
    with init_empty_weights():  # shapes only: no memory is allocated
        unet = UNet2DConditionModel(**configs["unet"])
        vae = AutoencoderKL(**configs["vae"])
        text = CLIPTextModel(configs["text_encoder"])
    millions = {name: sum(p.numel() for p in m.parameters()) / 1e6 for name, m in
                (("unet", unet), ("vae", vae), ("text", text))}
    assert millions["unet"] == pytest.approx(859.5, abs=1.0)  # SD 1.5's UNet
    assert millions["vae"] == pytest.approx(83.7, abs=0.5)
    assert millions["text"] == pytest.approx(123.1, abs=0.5)  # CLIP ViT-L/14 text tower


def test_gpu_benchmark_refuses_clearly_without_cuda(monkeypatch, capsys):
    gpu = _load("gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu.main([]) == 2
    assert "needs a CUDA GPU" in capsys.readouterr().err


def test_pipeline_overhead_benchmark_runs_and_reports_a_ratio(capsys, monkeypatch, tiny_sd):
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # leave the test process's threads alone
    bench = _load("pipeline")
    assert bench.main(["--steps", "2", "--repeats", "2", "--model", str(tiny_sd)]) == 0
    out = capsys.readouterr().out
    ratio = float(re.search(r"overhead ratio\s+: ([0-9.]+)", out).group(1))
    assert ratio > 0 and "identical images            : yes" in out
