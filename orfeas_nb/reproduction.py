"""``reproduce``: rebuild a model or picture from its manifest and say whether it came out identical.

The manifest records what is needed: the task, method, every parameter, the seed, the model id and
revision, the input (its path and sha256) and the sha256 of the file it describes. A model is identical
when its file bytes are (encoded with the recorded manifest embedded, as the original was); a picture
when its pixels are.

    >>> import orfeas_nb  # doctest: +SKIP
    >>> orfeas_nb.reproduce("out/owl.manifest.json").identical  # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InvalidInput
from .files import check_output, json_text, publish_together, recover, sha256_file
from .model import Model3D, manifest_path, sidecar_manifest

_FILE_KEYS = ("file", "format", "output")
_RUN_ONLY = ("quality", "size_mm", "steps")


@dataclass
class Reproduction:
    """What :func:`reproduce` found: identical or not, the two digests, and what differs from the record."""

    kind: str  # "model" or "picture"
    identical: bool
    expected_sha256: str
    actual_sha256: str
    differences: list[str] = field(default_factory=list)
    out: Path | None = None

    def summary(self) -> str:
        """One line for the command line."""
        what = "file bytes" if self.kind == "model" else "pixels"
        where = f"; wrote {self.out}" if self.out else ""
        if self.identical:
            return f"identical: the rebuilt {self.kind} has the recorded {what} (sha256 {self.actual_sha256[:16]}…){where}"
        why = "; ".join(self.differences) or "versions, device and model are as recorded"
        return (f"differs: the rebuilt {self.kind}'s {what} have sha256 {self.actual_sha256[:16]}…, the record "
                f"{self.expected_sha256[:16]}… ({why}){where}")


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InvalidInput(f"no manifest at {path}; give the .manifest.json written beside a model or picture")
    recover(path.parent)  # a publication killed half-way is undone first: never read one file of a mix
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path} is not a readable JSON manifest: {exc}") from None
    if not isinstance(document, dict) or document.get("task") not in ("image_to_3d", "text_to_3d", "text_to_image"):
        raise InvalidInput(f"{path} is not an orfeas_nb manifest (no task image_to_3d, text_to_3d or text_to_image)")
    return document


def _input_path(manifest: dict[str, Any], given: str | os.PathLike | None) -> Path:
    record = manifest.get("input") or {}
    if given is None and not record.get("path"):
        raise InvalidInput("the manifest records no input path (the picture was given in memory); give it with --input")
    path = Path(given if given is not None else record["path"])
    if not path.is_file():
        raise InvalidInput(f"the input {path} is not there; give the picture the model was made from with --input")
    if record.get("digest", "file") == "pixels":
        from .validation import load_image

        actual = hashlib.sha256(load_image(path).image.tobytes()).hexdigest()
    else:
        actual = sha256_file(path)
    if actual != record.get("sha256"):
        raise InvalidInput(
            f"the input {path} has sha256 {actual}, but the manifest records {record.get('sha256')}: it is not the "
            "picture the model was made from; give the original with --input"
        )
    return path


def _versions_differ(manifest: dict[str, Any], now: dict[str, Any]) -> list[str]:
    from .api import package_versions

    recorded = manifest.get("versions") or {}
    current = package_versions(tuple(recorded))
    changes = [f"{name} {old} → {current[name]}" for name, old in recorded.items() if current.get(name) != old]
    for key in ("device", "dtype"):
        if manifest.get(key) is not None and now.get(key) is not None and manifest[key] != now[key]:
            changes.append(f"{key} {manifest[key]} → {now[key]}")
    old_model, new_model = manifest.get("model"), now.get("model")
    if isinstance(old_model, dict) and isinstance(new_model, dict) and old_model.get("revision") != new_model.get("revision"):
        changes.append(f"model revision {old_model.get('revision')} → {new_model.get('revision')}")
    return changes


def _rebuild_model(manifest: dict[str, Any], input_path: Path | None) -> Model3D:
    from .api import image_to_3d, text_to_3d

    parameters = dict(manifest.get("parameters") or {})
    options = {k: v for k, v in parameters.items() if k not in _RUN_ONLY}
    common = {"quality": parameters.get("quality", 7), "size_mm": parameters.get("size_mm", 100.0)}
    method = manifest.get("method")
    run: dict[str, Any] = {}
    if isinstance(manifest.get("model"), dict):  # learned weights: the same model, seed and steps
        run = {"model": manifest["model"].get("id"), "seed": manifest.get("seed"), "progress": False}
        if parameters.get("steps") is not None:
            run["steps"] = parameters["steps"]
        run = {k: v for k, v in run.items() if v is not None}
    if manifest["task"] == "image_to_3d":
        model = image_to_3d(input_path, method=method, **common, **options, **run)
    elif method == "shap-e":
        model = text_to_3d(manifest["prompt"], method=method, **common, **options, **run)
    else:
        image = manifest.get("image") or {}
        extra = {"seed": image.get("seed"), "steps": image.get("steps"), "progress": False}
        depth = run.get("model") if method == "depth" else None
        model = text_to_3d(manifest["prompt"], method=method, **common, style=image.get("style", "realistic"),
                           image_model=(image.get("model") or {}).get("id"), depth_model=depth, **options,
                           **{k: v for k, v in extra.items() if v is not None})
    return model.repair() if "repairs" in manifest else model


def _reproduce_model(manifest: dict[str, Any], manifest_file: Path, input_path: Path | None,
                     out: Path | None) -> Reproduction:
    from .mesh.export import format_for, mesh_chunks

    embedded = {k: v for k, v in manifest.items() if k not in _FILE_KEYS}
    fmt = manifest.get("format") or format_for(manifest.get("file", "x.stl"))
    expected = (manifest.get("output") or {}).get("sha256")
    if expected is None:  # a manifest from before files were named by sha256: the file beside it
        original = manifest_file.with_name(manifest.get("file", ""))
        if not original.is_file():
            raise InvalidInput(f"{manifest_file} records no output sha256 and {original} is not there to compare with")
        expected = sha256_file(original)
    model = _rebuild_model(manifest, input_path)
    digest = hashlib.sha256()
    for chunk in mesh_chunks(model.mesh, fmt, embedded):
        digest.update(memoryview(chunk).cast("B"))
    actual = digest.hexdigest()
    identical = actual == expected
    result = Reproduction("model", identical, expected, actual, [] if identical else _versions_differ(manifest, model.manifest))
    if out is not None:
        out_fmt = format_for(out)
        document = embedded if identical else {**model.manifest, "reproduction_of": {"manifest": str(manifest_file),
                                                                                       "sha256": expected}}
        with publish_together() as unit:
            written = unit.add(out, mesh_chunks(model.mesh, out_fmt, document))
            unit.add(manifest_path(out), json_text(sidecar_manifest(document, written, out_fmt)))
        result.out = out
    return result


def _reproduce_picture(manifest: dict[str, Any], manifest_file: Path, out: Path | None) -> Reproduction:
    from .api import text_to_image
    from .picture import pixels_sha256, save_png

    expected = (manifest.get("output") or {}).get("pixels_sha256")
    if expected is None:
        from PIL import Image

        original = manifest_file.with_name(manifest.get("file", ""))
        if not original.is_file():
            raise InvalidInput(f"{manifest_file} records no pixels sha256 and {original} is not there to compare with")
        with Image.open(original) as png:
            expected = pixels_sha256(png.convert(png.mode))
    image = text_to_image(manifest["prompt"], style=manifest.get("style", "realistic"), seed=manifest.get("seed"),
                          steps=manifest.get("steps"), width=manifest.get("width"), height=manifest.get("height"),
                          negative_prompt=manifest.get("negative_prompt"), model=(manifest.get("model") or {}).get("id"),
                          progress=False)
    actual = pixels_sha256(image)
    identical = actual == expected
    differences = [] if identical else _versions_differ(manifest, image.info["orfeas"])
    result = Reproduction("picture", identical, expected, actual, differences)
    if out is not None:
        if identical:
            image.info["orfeas"] = {k: v for k, v in manifest.items() if k not in _FILE_KEYS}
        else:
            image.info["orfeas"] = {**image.info["orfeas"], "reproduction_of": {"manifest": str(manifest_file),
                                                                               "pixels_sha256": expected}}
        result.out = save_png(image, out)
    return result


def reproduce(manifest: str | os.PathLike, out: str | os.PathLike | None = None, *,
              input: str | os.PathLike | None = None) -> Reproduction:
    """Rebuild the model or picture a manifest describes; ``.identical`` says whether it came out the same.

    The input picture is found at its recorded path, or given as ``input``, and must have the recorded
    sha256 (else :class:`InvalidInput` naming both). With ``out`` the rebuilt result is written there with
    its manifest, as one unit. When it differs, ``.differences`` lists what changed since the record
    (package versions, device, dtype, model revision).
    """
    manifest_file = Path(manifest)
    document = _read_manifest(manifest_file)
    task = document["task"]
    input_path = _input_path(document, input) if task == "image_to_3d" else None
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        described = manifest_file.with_name(str(document.get("file", "")))
        check_output(out_path, sidecars=[manifest_path(out_path)],
                     inputs=[input_path, manifest_file, described if document.get("file") else None])
    if task == "text_to_image":
        if out_path is not None:
            from .picture import check_png_output

            check_png_output(out_path)
        return _reproduce_picture(document, manifest_file, out_path)
    if out_path is not None:
        from .mesh.export import format_for

        format_for(out_path)
    return _reproduce_model(document, manifest_file, input_path, out_path)
