"""Text → image through the public API and the CLI, with a tiny Stable Diffusion folder."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import orfeas_nb
from orfeas_nb.errors import InvalidInput, JobCancelled, ModelUnavailable, OutOfResources
from orfeas_nb.pipeline import models
from orfeas_nb.pipeline.text_to_image import STYLES, _check_size, family
from tests.conftest import run_orfeas

pytestmark = pytest.mark.integration


def _image(tiny_sd, **kwargs):
    kwargs = {"model": tiny_sd, "steps": 2, "progress": False, **kwargs}
    return orfeas_nb.text_to_image("a small ceramic owl", **kwargs)


@pytest.mark.slow
def test_seed_reproduces_and_is_recorded(tiny_sd):
    first = _image(tiny_sd, seed=11)
    again = _image(tiny_sd, seed=11)
    other = _image(tiny_sd, seed=12)
    assert isinstance(first, Image.Image) and first.size == (64, 64) and first.mode == "RGB"
    assert np.array_equal(np.asarray(first), np.asarray(again))
    assert not np.array_equal(np.asarray(first), np.asarray(other))
    record = first.info["orfeas"]
    assert record["seed"] == 11 and record["steps"] == 2 and record["style"] == "realistic"
    assert record["model"]["id"] == str(tiny_sd) and record["model"]["revision"].startswith("sha256:")
    assert record["device"] == "cpu" and record["dtype"] == "float32"
    assert "a small ceramic owl" in record["prompt"]


@pytest.mark.slow
def test_random_seed_is_recorded_and_replays(tiny_sd):
    image = _image(tiny_sd)
    replay = _image(tiny_sd, seed=image.info["orfeas"]["seed"])
    assert np.array_equal(np.asarray(image), np.asarray(replay))


def test_model_from_the_environment_and_size_options(monkeypatch, tiny_sd):
    monkeypatch.setenv("ORFEAS_TEXT_TO_IMAGE_MODEL", str(tiny_sd))
    image = orfeas_nb.text_to_image("an owl", steps=1, width=96, height=64, seed=1, progress=False)
    assert image.size == (96, 64)


def test_styles_shape_the_prompt_and_negative_prompt(tiny_sd):
    image = _image(tiny_sd, style="high-contrast", seed=1, negative_prompt="colour")
    record = image.info["orfeas"]
    assert record["negative_prompt"] == "colour" and record["style"] == "high-contrast"
    assert set(STYLES) == {"realistic", "cartoon", "sculpture", "low-poly", "high-contrast"}
    assert all("{prompt}" in style.template for style in STYLES.values())


@pytest.mark.slow
def test_progress_callback_fires_once_per_step(tiny_sd, recorder):
    steps = recorder()
    _image(tiny_sd, steps=3, seed=1, callback=steps)
    assert steps.calls == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.slow
def test_cancel_stops_within_one_step(tiny_sd, recorder):
    steps = recorder(cancel_at=2)
    with pytest.raises(JobCancelled, match="cancelled after 2 of 10 steps"):
        _image(tiny_sd, steps=10, seed=1, callback=steps, cancel=steps.cancel)
    assert steps.calls == [(1, 10), (2, 10)]


def test_cancel_before_start_runs_no_step(tiny_sd, recorder):
    steps = recorder()
    steps.cancel.set()
    with pytest.raises(JobCancelled, match="after 0 of 2 steps"):
        _image(tiny_sd, callback=steps, cancel=steps.cancel)
    assert steps.calls == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"style": "baroque"}, "unknown style 'baroque'; choose one of: realistic"),
    ({"width": 100}, "width must be a multiple of 8"),
    ({"height": 16}, "height must be between 64 and 2048"),
    ({"steps": 0}, "steps must be between 1 and 200"),
    ({"seed": -1}, "seed must be between"),
])
def test_bad_values_are_refused(tiny_sd, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        _image(tiny_sd, **kwargs)


def test_an_empty_prompt_is_refused(tiny_sd):
    with pytest.raises(InvalidInput, match="prompt is empty"):
        orfeas_nb.text_to_image("   ", model=tiny_sd)


@pytest.mark.slow
def test_out_of_memory_is_mapped_and_the_pipeline_dropped(monkeypatch, tiny_sd):
    _image(tiny_sd, seed=1)  # resident now
    (key,) = [k for k in models.CACHE.keys() if k[0] == "text_to_image" and k[1] == str(tiny_sd)]
    pipe = models.CACHE._entries[key].pipeline

    def exhausted(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(pipe.unet, "forward", exhausted)
    with pytest.raises(OutOfResources, match="ran out of memory on cpu"):
        _image(tiny_sd, seed=1)
    assert key not in models.CACHE.keys()
    assert _image(tiny_sd, seed=1).size == (64, 64)  # reloaded fresh


@pytest.mark.slow
def test_unet_attention_uses_torch_sdpa(tiny_sd):
    from diffusers.models.attention_processor import AttnProcessor2_0

    _image(tiny_sd, seed=1)
    (key,) = [k for k in models.CACHE.keys() if k[0] == "text_to_image" and k[1] == str(tiny_sd)]
    processors = models.CACHE._entries[key].pipeline.unet.attn_processors.values()
    assert processors and all(isinstance(p, AttnProcessor2_0) for p in processors)


def test_family_defaults():
    turbo = models.ModelSource("text_to_image", "stabilityai/sd-turbo", None, "hub:latest")
    plain = models.ModelSource("text_to_image", "runwayml/stable-diffusion-v1-5", None, "hub:latest")
    assert family(turbo, object()).steps == 1 and family(turbo, object()).guidance_scale == 0.0
    assert family(plain, object()).steps == 25


def test_cli_writes_png_with_record_and_manifest(cli, tiny_sd, tmp_path):
    out = tmp_path / "owl.png"
    result = cli("text-to-image", "a small owl", "-o", out, "--model", tiny_sd, "--seed", 5, "--steps", 2,
                 "--style", "cartoon")
    assert result.exit_code == 0, result.stderr
    assert f"wrote {out} (64×64, seed 5)" in result.stdout
    with Image.open(out) as png:
        record = json.loads(png.text["orfeas"])
        assert png.size == (64, 64)
    assert record["seed"] == 5 and record["style"] == "cartoon"
    manifest = json.loads((tmp_path / "owl.manifest.json").read_text())
    assert manifest["file"] == "owl.png" and manifest["model"]["id"] == str(tiny_sd)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_cli_missing_model_exits_3(cli, tmp_path):
    result = cli("text-to-image", "an owl", "-o", tmp_path / "x.png", "--model", tmp_path / "missing")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: model folder") and "ORFEAS_TEXT_TO_IMAGE_MODEL" in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_cli_refuses_a_non_png_name(cli, tiny_sd, tmp_path):
    result = cli("text-to-image", "an owl", "-o", tmp_path / "x.jpg", "--model", tiny_sd)
    assert result.exit_code == 2 and "writes PNG" in result.stderr


@pytest.mark.slow
def test_offline_hub_id_exits_3_in_a_real_shell(tmp_path):
    done = run_orfeas("text-to-image", "an owl", "-o", tmp_path / "x.png", "--model", "stabilityai/sd-turbo",
                      env={"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "cache")})
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "not in the local Hugging Face cache" in lines[0] and "Traceback" not in done.stderr
    assert not (tmp_path / "x.png").exists()


def test_model_unavailable_is_raised_in_python(tmp_path):
    with pytest.raises(ModelUnavailable, match="sd-turbo"):
        orfeas_nb.text_to_image("an owl", model="stabilityai/sd-turbo")


@settings(max_examples=60, deadline=None)
@given(st.integers(-10, 3000))
def test_sizes_are_whole_8_pixel_blocks_within_limits(value):
    if 64 <= value <= 2048 and value % 8 == 0:
        assert _check_size("width", value, 512) == value
    else:
        with pytest.raises(InvalidInput, match="width must"):
            _check_size("width", value, 512)


@pytest.mark.slow
def test_concurrent_jobs_share_one_pipeline_safely(tiny_sd):
    expected = {seed: np.asarray(_image(tiny_sd, seed=seed)) for seed in (21, 22)}
    results, errors = {}, []

    def job(seed):
        try:
            results[seed] = np.asarray(_image(tiny_sd, seed=seed))
        except Exception as exc:  # noqa: BLE001 - any failure in a thread is reported below
            errors.append(exc)

    threads = [threading.Thread(target=job, args=(seed,)) for seed in expected]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert all(np.array_equal(results[seed], image) for seed, image in expected.items())
