"""One workflow: text_to_3d's stage-aware progress, the Studio's prompt as one text_to_3d, and model folders of the
wrong kind refused before anything loads (tiny models)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from prometheus_client import REGISTRY

import orfeas_nb
from orfeas_nb.errors import InvalidInput, ModelUnavailable
from orfeas_nb.pipeline import models

pytestmark = pytest.mark.integration


def generations(type: str, provider: str) -> float:
    labels = {"type": type, "provider": provider, "status": "success"}
    return REGISTRY.get_sample_value("orfeas_generations_total", labels) or 0


def test_text_to_3d_reports_text_to_image_then_mesh(tiny_sd, recorder):
    stages, steps = [], recorder()
    orfeas_nb.text_to_3d("an owl", method="relief", image_model=tiny_sd, seed=2, steps=3, quality=1, progress=False,
                         callback=steps, stage_callback=lambda *call: stages.append(call))
    assert stages == [("text_to_image", 0, 0), ("text_to_image", 1, 3), ("text_to_image", 2, 3),
                      ("text_to_image", 3, 3), ("mesh", 0, 0), ("mesh", 1, 1)]
    assert steps.calls == [(1, 3), (2, 3), (3, 3)], "callback(step, total) users see the same steps as before"


def test_a_learned_mesh_stage_reports_its_model_steps(tiny_sd, tiny_depth):
    stages = []
    orfeas_nb.text_to_3d("an owl", method="depth", model=tiny_sd, depth_model=tiny_depth, seed=2, steps=1, quality=1,
                         progress=False, stage_callback=lambda *call: stages.append(call))
    names = [stage for stage, _, _ in stages]
    assert names == sorted(names, key=["text_to_image", "mesh"].index), "text→image first, then the mesh"
    mesh = [(step, total) for stage, step, total in stages if stage == "mesh"]
    assert mesh[0] == (0, 0) and mesh[-1][0] == mesh[-1][1] >= 1


def test_shap_e_has_only_the_mesh_stage(tiny_shap_e):
    stages = []
    orfeas_nb.text_to_3d("a pawn", model=tiny_shap_e, quality=1, steps=2, seed=1, progress=False,
                         stage_callback=lambda *call: stages.append(call))
    assert {stage for stage, _, _ in stages} == {"mesh"} and stages[0] == ("mesh", 0, 0)
    assert stages[-1][1] == stages[-1][2] >= 2


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"stage_callback": "loud"}, "stage_callback must be a function"),
    ({"negative_prompt": "blur"}, "takes no negative_prompt"),
])
def test_bad_workflow_hooks_are_refused(tiny_shap_e, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        orfeas_nb.text_to_3d("a pawn", model=tiny_shap_e, quality=1, steps=1, progress=False, **kwargs)


def test_bad_mesh_options_are_refused_before_the_picture_is_made(tiny_sd):
    stages = []
    with pytest.raises(InvalidInput, match="height_mm must be between"):
        orfeas_nb.text_to_3d("an owl", method="relief", image_model=tiny_sd, height_mm=-1, progress=False,
                             stage_callback=lambda *call: stages.append(call))
    assert stages == []


def test_a_studio_prompt_counts_as_one_text_to_3d(tiny_sd, monkeypatch):
    from orfeas_nb.widgets import Studio
    from orfeas_nb.widgets.studio import PROMPT_TAB

    monkeypatch.setenv("ORFEAS_TEXT_TO_IMAGE_MODEL", str(tiny_sd))
    before = {kind: generations(kind, provider) for kind, provider in
              (("text_to_3d", "relief"), ("text_to_image", "diffusers"), ("image_to_3d", "relief"))}
    studio = Studio(method="relief", quality=1, size_mm=30)
    try:
        studio.source.set_state({"selected_index": PROMPT_TAB})
        studio.prompt.prompt.set_state({"value": "an owl"})
        studio.prompt.steps.set_state({"value": "2"})
        job = studio.generate()
        assert job is not None and job.wait(300), "the Studio job did not finish"
        assert job.status == "done", job.error
        assert studio.model.manifest["task"] == "text_to_3d" and studio.model.manifest["image"]["steps"] == 2
    finally:
        studio.close()
    assert generations("text_to_3d", "relief") == before["text_to_3d"] + 1
    assert generations("text_to_image", "diffusers") == before["text_to_image"]
    assert generations("image_to_3d", "relief") == before["image_to_3d"]


# -- the wrong model folder ----------------------------------------------------------------------


def test_each_kind_refuses_a_folder_of_another_kind(tiny_sd, tiny_depth, tiny_shap_e):
    cases = [("shap_e", tiny_sd, "holds a StableDiffusionPipeline; shap-e needs a ShapEPipeline "
                                 "(set ORFEAS_SHAP_E_MODEL or --model)"),
             ("text_to_image", tiny_shap_e, "holds a ShapEPipeline; text→image needs a text→image pipeline"),
             ("depth", tiny_sd, "holds a StableDiffusionPipeline; depth needs a depth-estimation model"),
             ("text_to_image", tiny_depth, "holds a DepthAnythingForDepthEstimation; text→image needs"),
             ("shap_e_img2img", tiny_shap_e, "holds a ShapEPipeline; shap-e from a picture needs a ShapEImg2ImgPipeline")]
    for kind, folder, message in cases:
        with pytest.raises(ModelUnavailable) as info:
            models.resolve(kind, folder)
        assert str(info.value) == f"{folder} {message}" or message in str(info.value)
        assert str(folder) in str(info.value)
    assert models.resolve("shap_e", tiny_shap_e).path == tiny_shap_e
    assert models.resolve("depth", tiny_depth).path == tiny_depth


def test_a_cached_snapshot_of_the_wrong_kind_is_refused(monkeypatch, tmp_path):
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--acme--sd"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelUnavailable, match="model 'acme/sd' holds a StableDiffusionPipeline; shap-e needs"):
        models.resolve("shap_e", "acme/sd")


@pytest.mark.slow
def test_cli_refuses_a_text_to_image_folder_as_shap_e_in_one_line(tiny_sd, tmp_path):
    out = tmp_path / "pawn.stl"
    result = subprocess.run([sys.executable, "-m", "orfeas_nb", "text-to-3d", "a pawn", "-o", str(out), "--model",
                             str(tiny_sd), "--quality", "1"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 3
    assert result.stderr == (f"error: {tiny_sd} holds a StableDiffusionPipeline; shap-e needs a ShapEPipeline "
                             "(set ORFEAS_SHAP_E_MODEL or --model)\n")
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_the_wrong_folder_for_each_method(cli, tiny_sd, tiny_depth, tmp_path):
    image = orfeas_nb.samples.path("logo")
    runs = [("text-to-3d", "a pawn", "--model", tiny_sd),
            ("text-to-3d", "an owl", "--method", "relief", "--image-model", tiny_depth),
            ("text-to-3d", "an owl", "--method", "depth", "--model", tiny_sd, "--depth-model", tiny_sd, "--steps", "1"),
            ("image-to-3d", image, "--method", "depth", "-O", f"model={tiny_sd}"),
            ("image-to-3d", image, "--method", "shap-e", "-O", f"model={tiny_depth}"),
            ("text-to-image", "an owl", "--model", tiny_depth)]
    for args in runs:
        suffix = ".png" if args[0] == "text-to-image" else ".stl"
        result = cli(*args, "-o", tmp_path / f"out{suffix}")
        assert result.exit_code == 3, (args, result.stderr)
        assert result.stderr.startswith("error: ") and " holds a " in result.stderr and result.stderr.count("\n") == 1
        assert "Traceback" not in result.stderr
        assert list(tmp_path.iterdir()) == []
