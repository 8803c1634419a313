"""The public functions: validate, pick a backend, time it, and return a :class:`Model3D`."""

from __future__ import annotations

import datetime as _dt
import functools
import importlib.metadata
import time
from collections.abc import Callable
from typing import Any

from .catalogue import TEXT_TO_3D, catalogue
from .errors import InvalidInput, mapped_errors
from .learned import check_depth_model, depth_solid, shap_e_solid, split_run_options
from .mesh.methods import METHODS
from .mesh.printer import printer_from
from .mesh.quality import level
from .model import Model3D
from .monitoring.record import recorded
from .options import QUALITY, size_option
from .timing import Stages
from .validation import input_record, load_image, validate_prompt

_VERSIONED = ("orfeas_nb", "numpy", "scipy", "pillow", "trimesh")


@functools.cache
def _installed_version(name: str) -> str:
    # read once per process: a package upgraded later is not what this process has loaded anyway
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Installed versions of the packages that shaped a result (without importing them)."""
    return {name: _installed_version(name) for name in _VERSIONED + extra}


def _now() -> str:
    """The manifest's ``created`` stamp: UTC, to the second."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _check_common(quality: Any, size_mm: Any) -> tuple[int, float]:
    return QUALITY.check(quality), size_option().check(size_mm)


def _method_label(arguments: dict[str, Any]) -> str:
    """The ``method`` argument as a metric label: a known method, else "unknown" (labels stay a small set)."""
    method = arguments.get("method")
    return method if isinstance(method, str) and method in catalogue().methods else "unknown"


@recorded("image_to_3d", provider=_method_label)
def image_to_3d(image: Any, *, method: str = "relief", quality: int = 7, size_mm: float = 100.0, **options: Any) -> Model3D:
    """Turn an image into a watertight, printable 3D model whose longest side is ``size_mm``.

    ``image`` is a path, bytes, a PIL image or a numpy array. ``quality`` (1–10) trades triangles and
    time for detail. ``options`` are the method's own (see ``orfeas_nb.methods()``).

    >>> from orfeas_nb import samples
    >>> model = image_to_3d(samples.path("logo"), method="relief", quality=2, size_mm=50)
    >>> round(float(max(model.mesh.extents)), 3)
    50.0
    """
    started = time.perf_counter()
    stages = Stages()
    spec = catalogue().method(method)
    if spec.needs_weights:
        return _learned_image_to_3d(image, method=method, quality=quality, size_mm=size_mm, options=options)
    mesh_method = METHODS[method]
    quality, size_mm = _check_common(quality, size_mm)
    resolved = spec.resolve(options)
    printer = printer_from(resolved)
    with stages("load"):
        loaded = load_image(image)
    with mapped_errors(f"image_to_3d({method})"), stages("mesh"):
        lvl = level(quality, size_mm, max(loaded.size), printer)
        result = mesh_method.run(loaded.image, size_mm=size_mm, level=lvl, options=resolved, stages=stages)
    manifest = {
        "task": "image_to_3d",
        "method": method,
        "parameters": {"quality": quality, "size_mm": size_mm, **resolved},
        "seed": None,
        "model": None,
        "input": input_record(loaded),
        "versions": package_versions(),
        "created": _now(),
        "triangles": len(result.mesh.faces),
        "max_error_mm_target": lvl.max_error_mm,
        **result.info,
        "timings_s": {**stages.rounded(), "total": round(time.perf_counter() - started, 4)},
    }
    return Model3D(result.mesh, manifest)


def methods() -> dict[str, str]:
    """Every image→3D method with a one-line summary.

    >>> "relief" in methods()
    True
    """
    return {name: spec.summary for name, spec in catalogue().methods.items()}


_ML_VERSIONED = ("torch", "diffusers", "transformers")


def _learned_manifest(task: str, method: str, parameters: dict, record: dict, result: Any, stages: Stages,
                      started: float, **extra: Any) -> dict[str, Any]:
    """The manifest of a model made with learned weights: seed, model id and revision, device."""
    return {
        "task": task,
        "method": method,
        "parameters": parameters,
        "seed": record.get("seed"),
        "model": record["model"],
        "device": record["device"],
        "dtype": record["dtype"],
        **extra,
        "versions": package_versions(_ML_VERSIONED),
        "created": _now(),
        "triangles": len(result.mesh.faces),
        **result.info,
        "timings_s": {**stages.rounded(), "total": round(time.perf_counter() - started, 4)},
    }


def _learned_image_to_3d(image: Any, *, method: str, quality: Any, size_mm: Any, options: dict) -> Model3D:
    """``image_to_3d`` for the methods that need weights (``depth``, ``shap-e``)."""
    started = time.perf_counter()
    stages = Stages()
    quality, size_mm = _check_common(quality, size_mm)
    run, mesh_options = split_run_options(options)
    resolved = catalogue().method(method).resolve(mesh_options)
    with stages("load"):
        loaded = load_image(image)
    with mapped_errors(f"image_to_3d({method})"):
        if method == "depth":
            lvl = level(quality, size_mm, max(loaded.size), printer_from(resolved))
            result, record = depth_solid(loaded.image, size_mm=size_mm, level=lvl, options=resolved, stages=stages, run=run)
        else:
            result, record = shap_e_solid(loaded.image, kind="image", quality=quality, size_mm=size_mm,
                                          options=resolved, stages=stages, run=run)
    parameters = {"quality": quality, "size_mm": size_mm, **resolved, "steps": result.info.get("steps")}
    inputs = input_record(loaded)
    manifest = _learned_manifest("image_to_3d", method, parameters, record, result, stages, started, input=inputs)
    return Model3D(result.mesh, manifest)


@recorded("text_to_image", provider="diffusers")
def text_to_image(
    prompt: str,
    *,
    style: str = "realistic",
    seed: int | None = None,
    steps: int | None = None,
    width: int | None = None,
    height: int | None = None,
    negative_prompt: str | None = None,
    model: str | None = None,
    progress: bool = True,
    callback: Any = None,
    cancel: Any = None,
) -> Any:
    """Generate a picture from ``prompt`` with a diffusers text→image model; returns a ``PIL.Image.Image``.

    ``model`` is a hub id or a ``save_pretrained`` folder (default ``ORFEAS_TEXT_TO_IMAGE_MODEL``); ``style``
    is a preset of ``orfeas_nb.catalogue().styles`` (realistic by default). The seed (random when None) and
    everything else needed to make the image again are in ``image.info["orfeas"]``. Hooks:
    ``callback(step, total)`` after each step, ``cancel`` a ``threading.Event`` that stops the job within
    one step (:class:`~orfeas_nb.errors.JobCancelled`).

    Example (with a model folder)::

        image = text_to_image("a small ceramic owl", seed=1, model="tiny-sd-folder")
        image.info["orfeas"]["seed"]   # 1
    """
    from .pipeline.text_to_image import generate

    text = validate_prompt(prompt)
    started = time.perf_counter()
    with mapped_errors("text_to_image"):
        result = generate(text, style=style, seed=seed, steps=steps, width=width, height=height,
                          negative_prompt=negative_prompt, model=model, progress=progress, callback=callback,
                          cancel=cancel)
    record = {"task": "text_to_image", **result.record(), "versions": package_versions(_ML_VERSIONED),
              "created": _now(),
              "timings_s": {"total": round(time.perf_counter() - started, 4)}}
    result.image.info["orfeas"] = record
    return result.image


StageCallback = Callable[[str, int, int], None]


def _stage_hooks(run: dict[str, Any], stage_callback: StageCallback | None, stage: str) -> dict[str, Any]:
    """The run keywords of one stage, its ``callback(step, total)`` also reporting ``stage_callback(stage, step, total)``."""
    if stage_callback is None:
        return run
    callback = run.get("callback")
    if callback is not None and not callable(callback):
        raise InvalidInput(f"callback must be a function taking (step, total), got {type(callback).__name__}")

    def both(step: int, total: int) -> None:
        if callback is not None:
            callback(step, total)
        stage_callback(stage, step, total)

    stage_callback(stage, 0, 0)
    return {**run, "callback": both}


@recorded("text_to_3d", provider=_method_label)
def text_to_3d(
    prompt: str,
    *,
    method: str = "shap-e",
    quality: int = 7,
    size_mm: float = 100.0,
    style: str = "realistic",
    image_model: str | None = None,
    depth_model: str | None = None,
    negative_prompt: str | None = None,
    stage_callback: StageCallback | None = None,
    **options: Any,
) -> Model3D:
    """Turn ``prompt`` into a printable model: Shap-E directly, or text→image and then any image method.

    With ``method="shap-e"`` the run keywords (``model``, ``seed``, ``steps``, ``progress``, ``callback``,
    ``cancel``) go to Shap-E. With any other method (``relief``, ``lithophane``, ``depth``, …) they go to
    :func:`text_to_image` (``model`` or ``image_model`` is the text→image model, ``style`` its preset,
    ``negative_prompt`` what to avoid), the picture goes to :func:`image_to_3d` with the remaining
    options, and ``depth_model`` picks the depth model. The manifest records the prompt and the picture's
    generation.

    ``stage_callback(stage, step, total)`` follows the whole workflow: stage ``"text_to_image"`` (only for
    methods that need a picture first), then ``"mesh"``. Each stage reports ``(0, 0)`` when it starts,
    then ``(step, total)`` after each model step; a stage without model steps ends with ``(1, 1)``.
    ``callback(step, total)`` still gets every model step.

    Example (with a model folder)::

        model = text_to_3d("a chess pawn", method="shap-e", quality=1, steps=2, model="tiny-shap-e")
    """
    text = validate_prompt(prompt)
    spec = catalogue().method(method)
    if stage_callback is not None and not callable(stage_callback):
        raise InvalidInput(f"stage_callback must be a function taking (stage, step, total), got {type(stage_callback).__name__}")
    run, mesh_options = split_run_options(options)
    if not spec.reads_prompt:
        _check_common(quality, size_mm)
        spec.resolve(mesh_options, TEXT_TO_3D)  # refuse bad options (and a wrong depth model) before the picture is made
        if spec.needs_weights:
            check_depth_model(depth_model)
        image_run = {key: value for key, value in run.items() if key != "model"}
        image = text_to_image(text, style=style, negative_prompt=negative_prompt, model=image_model or run.get("model"),
                              **_stage_hooks(image_run, stage_callback, "text_to_image"))
        hooks = {key: run[key] for key in ("progress", "callback", "cancel") if key in run}
        extra = _stage_hooks({"model": depth_model, **hooks}, stage_callback, "mesh") if spec.needs_weights else {}
        if not spec.needs_weights and stage_callback is not None:
            stage_callback("mesh", 0, 0)
        model = image_to_3d(image, method=method, quality=quality, size_mm=size_mm, **mesh_options, **extra)
        if not spec.needs_weights and stage_callback is not None:
            stage_callback("mesh", 1, 1)
        record = image.info["orfeas"]
        model.manifest.update(task="text_to_3d", prompt=text, seed=record["seed"], image=record)
        return model
    if negative_prompt is not None:
        raise InvalidInput(f"{method} reads the prompt itself and takes no negative_prompt; leave it out")
    started = time.perf_counter()
    stages = Stages()
    quality, size_mm = _check_common(quality, size_mm)
    resolved = spec.resolve(mesh_options, TEXT_TO_3D)
    with mapped_errors("text_to_3d(shap-e)"):
        result, record = shap_e_solid(text, kind="text", quality=quality, size_mm=size_mm, options=resolved,
                                      stages=stages, run=_stage_hooks(run, stage_callback, "mesh"))
    parameters = {"quality": quality, "size_mm": size_mm, **resolved, "steps": result.info.get("steps")}
    manifest = _learned_manifest("text_to_3d", method, parameters, record, result, stages, started, prompt=text)
    return Model3D(result.mesh, manifest)
