"""The Studio controller: upload → Generate → background job → view, report, export; errors inline."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

import orfeas_nb
from orfeas_nb import api
from orfeas_nb.errors import InvalidInput
from orfeas_nb.widgets import Studio
from orfeas_nb.widgets.studio import PROMPT_TAB
from orfeas_nb.widgets.view import MeshView

from .conftest import upload_state

pytestmark = pytest.mark.unit


@pytest.fixture
def studio():
    s = Studio(quality=3, size_mm=60)
    yield s
    s.close()


def finish(job, timeout=60):
    assert job is not None, "generate() refused to start"
    assert job.wait(timeout), "the job did not finish"
    return job


def test_upload_generate_view_report_and_save(studio, logo_bytes, sent, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ORFEAS_OUTPUT_DIR", "out")
    studio.upload.upload.set_state(upload_state(logo_bytes, name="logo.png"))
    studio.generate_button.click()
    job = finish(studio.job)
    assert job.status == "done", job.error
    assert isinstance(studio.model, orfeas_nb.Model3D) and studio.model.manifest["method"] == "relief"
    assert studio.model.manifest["input"]["sha256"] == studio.upload.loaded.sha256
    assert max(studio.model.mesh.extents) == pytest.approx(60)
    assert isinstance(studio.view, MeshView) and studio.view_box.children == (studio.view,)
    assert studio.view.arrays.total_faces == len(studio.model.mesh.faces)
    assert "watertight: yes" in studio.report.value
    assert studio.progress.bar.value == 100 and "done in" in studio.progress.status.value
    assert not studio.generate_button.disabled and studio.progress.cancel.disabled
    assert sent.updates("disabled")[:4] == [True, False, False, True]  # Generate off, Cancel on, then back
    path = studio.export.save()
    assert path.is_file() and path.suffix == ".stl" and path.name.startswith("relief-")


@pytest.fixture
def gated(monkeypatch):
    """``api.image_to_3d`` that signals ``entered`` and then waits for ``gate`` before doing the work."""
    gate, entered = threading.Event(), threading.Event()
    real = api.image_to_3d

    def slow(*args, **kwargs):
        entered.set()
        gate.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "image_to_3d", slow)
    return gate, entered


def test_generate_is_disabled_while_a_job_runs_and_the_kernel_stays_free(studio, logo_bytes, gated):
    gate, entered = gated
    studio.upload.upload.set_state(upload_state(logo_bytes))
    job = studio.generate()  # returns at once: the work is on the worker thread
    assert entered.wait(10) and job.status == "running"
    assert studio.generate_button.disabled and not studio.progress.cancel.disabled
    assert studio.generate() is None
    assert "already running" in studio.progress.status.value
    gate.set()
    assert finish(job).status == "done" and not studio.generate_button.disabled


def test_cancel_stops_the_job_and_says_so(studio, logo_bytes, gated):
    gate, entered = gated
    studio.upload.upload.set_state(upload_state(logo_bytes))
    job = studio.generate()
    assert entered.wait(10)
    studio.progress.cancel.click()
    assert "cancelling" in studio.progress.status.value
    gate.set()
    assert finish(job).status == "cancelled"
    assert studio.model is None and "cancelled" in studio.progress.status.value
    assert not studio.generate_button.disabled


def test_inputs_are_checked_before_any_job_starts(studio):
    assert studio.generate() is None and studio.job is None
    assert "upload a picture first" in studio.progress.status.value and "⚠" in studio.progress.status.value
    studio.source.set_state({"selected_index": PROMPT_TAB})
    studio.generate_button.click()
    assert studio.job is None and "prompt is empty" in studio.progress.status.value


def test_a_failing_job_is_shown_inline(studio, monkeypatch, logo_bytes):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(api, "image_to_3d", broken)
    studio.upload.upload.set_state(upload_state(logo_bytes))
    job = finish(studio.generate())
    assert job.status == "failed"
    assert "failed: unexpected error: RuntimeError: disk on fire" in studio.progress.status.value
    assert studio.progress.bar.bar_style == "danger" and studio.model is None


def test_method_options_reach_the_api(studio, logo_bytes):
    studio.upload.upload.set_state(upload_state(logo_bytes))
    studio.parameters.option_widgets["invert"].set_state({"value": True})
    studio.parameters.option_widgets["height_mm"].set_state({"value": 7.5})
    job = finish(studio.generate())
    params = studio.model.manifest["parameters"]
    assert job.status == "done" and params["invert"] is True and params["height_mm"] == 7.5


def test_a_prompt_goes_through_text_to_3d_with_stage_progress(studio, monkeypatch):
    calls, statuses, workflows = [], [], []
    real_text_to_3d = api.text_to_3d

    def spy_text_to_3d(prompt, **kwargs):
        workflows.append(kwargs["method"])
        return real_text_to_3d(prompt, **kwargs)

    def fake_text_to_image(prompt, **kwargs):
        calls.append((prompt, kwargs))
        assert isinstance(kwargs["cancel"], threading.Event) and kwargs["progress"] is False
        for step in (1, 2):
            kwargs["callback"](step, 2)
            statuses.append((studio.progress.bar.value, studio.progress.status.value))
        image = Image.fromarray(np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (64, 1)), "L")
        image.info["orfeas"] = {"seed": kwargs["seed"]}
        return image

    monkeypatch.setattr(api, "text_to_image", fake_text_to_image)
    monkeypatch.setattr(api, "text_to_3d", spy_text_to_3d)
    studio.source.set_state({"selected_index": PROMPT_TAB})
    studio.prompt.prompt.set_state({"value": "a small owl"})
    studio.prompt.seed.set_state({"value": "11"})
    studio.prompt.negative_prompt.set_state({"value": "text"})
    job = finish(studio.generate())
    assert job.status == "done", job.error
    prompt, kwargs = calls[0]
    assert prompt == "a small owl" and kwargs["seed"] == 11 and kwargs["negative_prompt"] == "text"
    assert kwargs["style"] == "realistic" and "steps" not in kwargs
    assert studio.model.manifest["task"] == "text_to_3d" and studio.model.manifest["prompt"] == "a small owl"
    assert studio.model.manifest["image"] == {"seed": 11} and studio.model.manifest["seed"] == 11
    assert workflows == ["relief"], "the Studio runs one text_to_3d, not the stages itself"
    assert "text → image: step 1 of 2" in statuses[0][1] and "step 2 of 2" in statuses[1][1]
    assert 0 < statuses[0][0] < statuses[1][0] < 100


def test_shap_e_prompts_go_to_text_to_3d_with_the_hooks(studio, monkeypatch):
    seen = {}

    def fake_text_to_3d(prompt, **kwargs):
        seen.update(kwargs, prompt=prompt)
        kwargs["stage_callback"]("mesh", 0, 0)
        kwargs["stage_callback"]("mesh", 1, 1)
        return api.image_to_3d(np.full((16, 16), 200, np.uint8), quality=1, size_mm=kwargs["size_mm"])

    monkeypatch.setattr(api, "text_to_3d", fake_text_to_3d)
    studio.parameters.method.set_state({"index": list(studio.parameters.method.options).index("shap-e")})
    studio.source.set_state({"selected_index": PROMPT_TAB})
    studio.prompt.prompt.set_state({"value": "a chess pawn"})
    studio.prompt.steps.set_state({"value": "4"})
    job = finish(studio.generate())
    assert job.status == "done", job.error
    assert seen["prompt"] == "a chess pawn" and seen["method"] == "shap-e" and seen["steps"] == 4
    assert seen["cancel"] is job.cancel_event and "guidance_scale" in seen and seen["size_mm"] == 60
    assert "style" not in seen and "negative_prompt" not in seen, "Shap-E reads the prompt itself"


def test_without_weights_the_prompt_path_says_which_model_is_missing(studio, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ORFEAS_TEXT_TO_IMAGE_MODEL", "/nonexistent/tiny-sd")
    studio.source.set_state({"selected_index": PROMPT_TAB})
    studio.prompt.prompt.set_state({"value": "a small owl"})
    job = finish(studio.generate())
    assert job.status == "failed" and "tiny-sd" in studio.progress.status.value


def test_unknown_starting_method_is_refused():
    with pytest.raises(InvalidInput, match="unknown method 'clay'"):
        Studio(method="clay")


def test_the_lod_bound_applies_to_the_studio_view(logo_bytes):
    studio = Studio(quality=6, max_faces=500)
    try:
        studio.upload.upload.set_state(upload_state(logo_bytes))
        finish(studio.generate())
        arrays = studio.view.arrays
        assert arrays.shown_faces <= 500 < arrays.total_faces == len(studio.model.mesh.faces)
        assert f"showing {arrays.shown_faces:,} of {arrays.total_faces:,} triangles" in studio.progress.status.value
    finally:
        studio.close()


def test_studio_is_reachable_from_the_package():
    assert orfeas_nb.Studio is Studio


def test_a_model_that_cannot_be_shown_is_still_kept_and_the_reason_shown(studio, logo_bytes, monkeypatch):
    from orfeas_nb.widgets import studio as studio_module

    def refuse(*args, **kwargs):
        raise ValueError("no WebGL today")

    monkeypatch.setattr(studio_module, "MeshView", refuse)
    studio.upload.upload.set_state(upload_state(logo_bytes))
    assert finish(studio.generate()).status == "done"
    assert isinstance(studio.model, orfeas_nb.Model3D)
    assert "cannot be shown: no WebGL today" in studio.progress.status.value
    assert not studio.generate_button.disabled
