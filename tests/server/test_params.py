"""Request values are checked with the api's own rules before any job is queued."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orfeas_nb.errors import InvalidInput, JobCancelled, UnsupportedFormat
from orfeas_nb.jobs import JobQueue
from orfeas_nb.jobstate import error_dict, job_dict
from orfeas_nb.server.params import generate_3d_params, text_to_image_params

pytestmark = pytest.mark.unit


def test_generate_fills_defaults_and_resolves_the_method_options():
    source, params = generate_3d_params({"job_id": "abc", "base_mm": 2, "format": "3MF"})
    assert source == "abc"
    assert params["format"] == "3mf" and params["method"] == "relief" and params["quality"] == 7
    assert params["base_mm"] == 2.0 and "height_mm" in params  # the method's defaults, filled in


def test_a_prompt_defaults_to_shap_e_and_keeps_run_values():
    source, params = generate_3d_params({"prompt": " a pawn ", "seed": 4, "steps": 3, "style": "sculpture"})
    assert source is None and params["method"] == "shap-e" and params["prompt"] == "a pawn"
    assert (params["seed"], params["steps"], params["style"]) == (4, 3, "sculpture")


@pytest.mark.parametrize(("body", "error", "words"), [
    ({"job_id": "a", "format": "dwg"}, UnsupportedFormat, "dwg"),
    ({"job_id": "a", "quality": 0}, InvalidInput, "quality"),
    ({"job_id": "a", "quality": 2.5}, InvalidInput, "whole number"),
    ({"job_id": "a", "quality": True}, InvalidInput, "quality must be a number"),
    ({"job_id": "a", "size_mm": float("nan")}, InvalidInput, "size_mm"),
    ({"job_id": "a", "seed": 1}, InvalidInput, "learned methods"),
    ({"job_id": "a", "style": "cartoon"}, InvalidInput, "prompts only"),
    ({"job_id": "a", "negative_prompt": "blur"}, InvalidInput, "prompts only"),
    ({"prompt": "owl", "negative_prompt": "blur"}, InvalidInput, "takes no negative_prompt"),
    ({"job_id": 7}, InvalidInput, "job id string"),
    ({"prompt": "x", "art_style": "cartoon", "style": "realistic"}, InvalidInput, "not both"),
    ([], InvalidInput, "JSON object"),
])
def test_bad_generate_values(body, error, words):
    with pytest.raises(error, match=words):
        generate_3d_params(body)


def test_prompt_runs_take_the_text_to_image_models():
    _, params = generate_3d_params({"prompt": "owl", "method": "depth", "image_model": "sd", "depth_model": "da",
                                    "negative_prompt": "blur"})
    assert (params["image_model"], params["depth_model"], params["negative_prompt"]) == ("sd", "da", "blur")
    with pytest.raises(InvalidInput, match="prompts only"):
        generate_3d_params({"job_id": "a", "method": "depth", "image_model": "sd"})
    with pytest.raises(InvalidInput, match="does not apply"):
        generate_3d_params({"job_id": "a", "method": "depth", "seed": 3})


def test_text_to_image_values():
    assert text_to_image_params({"prompt": "owl", "style": "cartoon", "width": 128}) == {
        "prompt": "owl", "style": "cartoon", "width": 128}
    for body, words in (({"prompt": "owl", "height": 130}, "multiple of 8"), ({"prompt": "owl", "steps": 201}, "steps"),
                        ({"prompt": "owl", "model": 3}, "model"), ({"prompt": "owl", "x": 1}, "unknown field 'x'"),
                        ({"style": "cartoon"}, "needs a prompt")):
        with pytest.raises(InvalidInput, match=words):
            text_to_image_params(body)


@settings(max_examples=50)
@given(st.dictionaries(st.sampled_from(["quality", "size_mm", "format", "method", "seed", "blur"]),
                       st.one_of(st.none(), st.booleans(), st.integers(-5, 50), st.floats(allow_nan=True), st.text(max_size=5)),
                       max_size=4))
def test_any_body_is_accepted_or_refused_with_an_orfeas_error(extra):
    try:
        generate_3d_params({"job_id": "a", **extra})
    except InvalidInput as exc:  # UnsupportedFormat included
        assert str(exc) and "\n" not in str(exc)


def test_the_kernel_queue_and_the_server_share_the_job_shape():
    queue = JobQueue()
    job = queue.submit(lambda job: 42, name="answer")
    job.wait(10)
    queue.close()
    shape = job_dict("id", "generate-3d", "queued")
    assert set(job.to_dict()) == set(shape) and job.to_dict()["status"] == "done"
    assert job.to_dict()["finished"] is not None and job.to_dict()["error"] is None
    assert error_dict(JobCancelled("stop")) == {"type": "JobCancelled", "message": "stop"}
    assert error_dict(KeyError("x")) == {"type": "OrfeasError", "message": "KeyError: 'x'"}
