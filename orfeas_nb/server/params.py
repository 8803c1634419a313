"""Checks on the JSON bodies of ``text-to-image`` and ``generate-3d``: the same rules as the api, up front.

Every value is checked before a job is queued, so a bad one answers 400 with the api's own message
instead of a failed job later. The returned dicts are exactly the keywords the worker passes to
:func:`orfeas_nb.text_to_image`, :func:`orfeas_nb.image_to_3d` or :func:`orfeas_nb.text_to_3d`.

    >>> text_to_image_params({"prompt": "an owl", "art_style": "cartoon", "steps": 2})
    {'prompt': 'an owl', 'style': 'cartoon', 'steps': 2}
"""

from __future__ import annotations

import math
from typing import Any

from .. import config
from ..errors import InvalidInput, UnsupportedFormat
from ..validation import check_number, validate_prompt

MAX_SEED = 2**63 - 1
MAX_STEPS = 200
MAX_SIDE = 2048
_MODEL_CHARS = 500
TEXT_TO_IMAGE_FIELDS = ("prompt", "art_style", "style", "negative_prompt", "seed", "steps", "width", "height", "model")
GENERATE_FIELDS = ("job_id", "prompt", "format", "quality", "method", "size_mm", "art_style", "style", "seed",
                   "steps", "model")


def _styles() -> tuple[str, ...]:
    from ..pipeline.text_to_image import STYLES  # no torch at import

    return tuple(STYLES)


def _formats() -> tuple[str, ...]:
    from ..mesh.export import EXPORTERS

    return tuple(EXPORTERS)


def _methods() -> tuple[str, ...]:
    from ..learned import LEARNED
    from ..mesh.methods import METHODS

    return (*METHODS, *LEARNED)


def _resolve(method: str, options: dict[str, Any], *, from_prompt: bool) -> dict[str, Any]:
    """The method's options with defaults filled; InvalidInput for unknown names or values out of range."""
    from ..learned import LEARNED, SHAP_E_TEXT_OPTIONS
    from ..mesh.methods import METHODS
    from ..mesh.options import resolve_options

    if method == "shap-e" and from_prompt:
        return resolve_options(method, SHAP_E_TEXT_OPTIONS, options)
    return (LEARNED[method] if method in LEARNED else METHODS[method]).resolve(options)


def _object(body: Any, route: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput(f"the body of {route} must be a JSON object, got {type(body).__name__}")
    return body


def _integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and not value.is_integer()):
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(check_number(name, value, low, high, integer=True))


def _number(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"{name} must be a number from {low:g} to {high:g}, got {value!r}")
    return float(check_number(name, value, low, high))


def _text(name: str, value: Any, limit: int) -> str:
    if not isinstance(value, str) or "\x00" in value or len(value) > limit:
        raise InvalidInput(f"{name} must be text of at most {limit} characters")
    return value


def _style(body: dict[str, Any]) -> str | None:
    if "art_style" in body and "style" in body and body["art_style"] != body["style"]:
        raise InvalidInput("give art_style or style (its alias), not both with different values")
    style = body.get("art_style", body.get("style"))
    if style is None:
        return None
    if style not in _styles():
        raise InvalidInput(f"unknown style {style!r}; choose one of: {', '.join(_styles())}")
    return style


def _run_values(body: dict[str, Any]) -> dict[str, Any]:
    """seed, steps, model and negative_prompt, checked; only those given."""
    out: dict[str, Any] = {}
    if body.get("seed") is not None:
        out["seed"] = _integer("seed", body["seed"], 0, MAX_SEED)
    if body.get("steps") is not None:
        out["steps"] = _integer("steps", body["steps"], 1, MAX_STEPS)
    if body.get("model") is not None:
        out["model"] = _text("model", body["model"], _MODEL_CHARS)
    if body.get("negative_prompt") is not None:
        out["negative_prompt"] = _text("negative_prompt", body["negative_prompt"], config.get("max_prompt_chars"))
    return out


def text_to_image_params(body: Any) -> dict[str, Any]:
    """The keywords of :func:`orfeas_nb.text_to_image` from a ``text-to-image`` body, checked."""
    body = _object(body, "text-to-image")
    unknown = sorted(set(body) - set(TEXT_TO_IMAGE_FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r} for text-to-image; the fields are: {', '.join(TEXT_TO_IMAGE_FIELDS)}")
    if body.get("prompt") is None:
        raise InvalidInput("text-to-image needs a prompt: send {\"prompt\": \"a small ceramic owl\"}")
    params: dict[str, Any] = {"prompt": validate_prompt(body["prompt"])}
    style = _style(body)
    if style is not None:
        params["style"] = style
    params.update(_run_values(body))
    for side in ("width", "height"):
        if body.get(side) is not None:
            value = _integer(side, body[side], 64, MAX_SIDE)
            if value % 8:
                raise InvalidInput(f"{side} must be a multiple of 8, got {value}; try {value // 8 * 8}")
            params[side] = value
    return params


def generate_3d_params(body: Any) -> tuple[str | None, dict[str, Any]]:
    """The source job id (or None for a prompt) and the worker's keywords from a ``generate-3d`` body."""
    body = _object(body, "generate-3d")
    source, prompt = body.get("job_id"), body.get("prompt")
    if (source is None) == (prompt is None):
        raise InvalidInput("generate-3d needs either job_id (an upload or a finished text-to-image job) or prompt")
    if source is not None and not isinstance(source, str):
        raise InvalidInput(f"job_id must be a job id string, got {source!r}")
    fmt = body.get("format", "stl")
    if not isinstance(fmt, str) or fmt.lower() not in _formats():
        raise UnsupportedFormat(f"cannot export the format {fmt!r}; use one of: {', '.join(_formats())}")
    method = body.get("method", "shap-e" if prompt is not None else "relief")
    if method not in _methods():
        raise InvalidInput(f"unknown method {method!r}; choose one of: {', '.join(_methods())}")
    params: dict[str, Any] = {
        "format": fmt.lower(),
        "method": method,
        "quality": _integer("quality", body.get("quality", 7), 1, 10),
        "size_mm": _number("size_mm", body.get("size_mm", 100.0), config.get("min_size_mm"), config.get("max_size_mm")),
    }
    options = {key: value for key, value in body.items() if key not in GENERATE_FIELDS}
    params.update(_resolve(method, options, from_prompt=prompt is not None))
    run = _run_values(body)
    if prompt is not None:
        params["prompt"] = validate_prompt(prompt)
        style = _style(body)
        if style is not None:
            params["style"] = style
        params.update(run)
    else:
        if _style(body) is not None:
            raise InvalidInput("style applies to prompts only; this job starts from an image")
        from ..learned import LEARNED

        if run and method not in LEARNED:
            raise InvalidInput(f"seed, steps and model apply to learned methods only, not to {method!r}")
        params.update(run)
    return (source, params)
