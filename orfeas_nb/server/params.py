"""Checks on the JSON bodies of ``text-to-image`` and ``generate-3d``, read from the one catalogue.

Every value is checked against :func:`orfeas_nb.catalogue` (methods and their options, formats,
styles, quality, size and generation ranges) before a job is queued, so a bad one answers 400 with
the same message as the CLI instead of a failed job later. The returned dicts are exactly the
keywords the worker passes to :func:`orfeas_nb.text_to_image`, :func:`orfeas_nb.image_to_3d` or
:func:`orfeas_nb.text_to_3d`.

    >>> text_to_image_params({"prompt": "an owl", "art_style": "cartoon", "steps": 2})
    {'prompt': 'an owl', 'style': 'cartoon', 'steps': 2}
"""

from __future__ import annotations

from typing import Any

from .. import catalogue as catalogue_module
from .. import config
from ..catalogue import IMAGE_TO_3D, TEXT_TO_3D
from ..errors import InvalidInput, UnsupportedFormat
from ..validation import validate_prompt

_MODEL_CHARS = 500
TEXT_TO_IMAGE_FIELDS = ("prompt", "art_style", "style", "negative_prompt", "seed", "steps", "width", "height", "model")
#: generate-3d's own fields; every other name is an option of the method (``.resolve()`` checks it)
GENERATE_FIELDS = ("job_id", "prompt", "format", "quality", "method", "size_mm", "art_style", "style", "seed",
                   "steps", "model", "image_model", "depth_model", "negative_prompt")


def _object(body: Any, route: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput(f"the body of {route} must be a JSON object, got {type(body).__name__}")
    return body


def _text(name: str, value: Any, limit: int = _MODEL_CHARS) -> str:
    if not isinstance(value, str) or not value or "\x00" in value or len(value) > limit:
        raise InvalidInput(f"{name} must be text of 1 to {limit} characters")
    return value


def _style(body: dict[str, Any]) -> str | None:
    if "art_style" in body and "style" in body and body["art_style"] != body["style"]:
        raise InvalidInput("give art_style or style (its alias), not both with different values")
    style = body.get("art_style", body.get("style"))
    return None if style is None else catalogue_module.catalogue().style(style).name


def _checked(body: dict[str, Any], options: tuple, *, among: tuple[str, ...] = ()) -> dict[str, Any]:
    """The values of ``options`` given in ``body`` (not None), each checked; a name of ``among`` that is
    given but not one of ``options`` is refused rather than ignored."""
    known = {opt.name for opt in options}
    for name in among:
        if body.get(name) is not None and name not in known:
            raise InvalidInput(f"{name} does not apply here; this run takes: {', '.join(sorted(known)) or 'none'}")
    return {opt.name: opt.check(body[opt.name]) for opt in options if body.get(opt.name) is not None}


def text_to_image_params(body: Any) -> dict[str, Any]:
    """The keywords of :func:`orfeas_nb.text_to_image` from a ``text-to-image`` body, checked."""
    body = _object(body, "text-to-image")
    unknown = sorted(set(body) - set(TEXT_TO_IMAGE_FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r} for text-to-image; the fields are: {', '.join(TEXT_TO_IMAGE_FIELDS)}")
    if body.get("prompt") is None:
        raise InvalidInput('text-to-image needs a prompt: send {"prompt": "a small ceramic owl"}')
    params: dict[str, Any] = {"prompt": validate_prompt(body["prompt"])}
    style = _style(body)
    if style is not None:
        params["style"] = style
    params.update(_checked(body, catalogue_module.catalogue().generation))
    if body.get("model") is not None:
        params["model"] = _text("model", body["model"])
    if body.get("negative_prompt") is not None:
        params["negative_prompt"] = _text("negative_prompt", body["negative_prompt"], config.get("max_prompt_chars"))
    return params


def generate_3d_params(body: Any) -> tuple[str | None, dict[str, Any]]:
    """The source job id (or None for a prompt) and the worker's keywords from a ``generate-3d`` body."""
    cat = catalogue_module.catalogue()
    body = _object(body, "generate-3d")
    source, prompt = body.get("job_id"), body.get("prompt")
    if (source is None) == (prompt is None):
        raise InvalidInput("generate-3d needs either job_id (an upload or a finished text-to-image job) or prompt")
    if source is not None and not isinstance(source, str):
        raise InvalidInput(f"job_id must be a job id string, got {source!r}")
    fmt = body.get("format", "stl")
    if not isinstance(fmt, str) or fmt.lower() not in cat.formats:
        raise UnsupportedFormat(f"cannot export the format {fmt!r}; use one of: {', '.join(cat.formats)}")
    method = cat.method(body.get("method", "shap-e" if prompt is not None else "relief"))
    quality, size = cat.common
    params: dict[str, Any] = {
        "format": fmt.lower(),
        "method": method.name,
        "quality": quality.check(body.get("quality", 7)),
        "size_mm": size.check(body.get("size_mm", 100.0)),
    }
    options = {key: value for key, value in body.items() if key not in GENERATE_FIELDS}
    params.update(method.resolve(options, TEXT_TO_3D if prompt is not None else IMAGE_TO_3D))
    models = [name for name in ("model", "image_model", "depth_model") if body.get(name) is not None]
    if prompt is not None:
        params["prompt"] = validate_prompt(prompt)
        style = _style(body)
        if style is not None:
            params["style"] = style
        params.update(_checked(body, cat.prompt_run_options(method.name), among=("seed", "steps")))
        if body.get("negative_prompt") is not None:
            if method.reads_prompt:
                raise InvalidInput(f"{method.name} reads the prompt itself and takes no negative_prompt; leave it out")
            params["negative_prompt"] = _text("negative_prompt", body["negative_prompt"], config.get("max_prompt_chars"))
    else:
        if _style(body) is not None or body.get("negative_prompt") is not None:
            raise InvalidInput("style and negative_prompt apply to prompts only; this job starts from an image")
        if not method.needs_weights and (models or body.get("seed") is not None or body.get("steps") is not None):
            raise InvalidInput(f"seed, steps and model apply to learned methods and prompts only, not to {method.name!r}")
        if [m for m in models if m != "model"]:
            raise InvalidInput("image_model and depth_model apply to prompts only; give model for this method")
        params.update(_checked(body, method.run_options, among=("seed", "steps")))
    for name in models:
        params[name] = _text(name, body[name])
    return (source, params)
