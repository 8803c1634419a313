"""One result = one unit: a model and its manifest (a picture and its manifest, a demo's files and summary)
appear together or not at all, and every message is true about what is on disk."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import orfeas_nb
from orfeas_nb import files
from orfeas_nb.errors import ExportError, InvalidInput
from orfeas_nb.model import manifest_path
from orfeas_nb.picture import save_png

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def models():
    shapes = orfeas_nb.samples.path("shapes")
    return [orfeas_nb.image_to_3d(shapes, quality=1, size_mm=size) for size in (40.0, 60.0)]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def assert_pair_consistent(model_file: Path) -> dict:
    manifest = json.loads(manifest_path(model_file).read_text())
    assert manifest["output"]["sha256"] == sha(model_file) and manifest["file"] == model_file.name
    return manifest


def disk_full_at_the_second_file(monkeypatch) -> None:
    """From now on the second file fsynced fails with ENOSPC, as a full disk would."""
    fsync, calls = os.fsync, []

    def full_on_the_second_file(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return fsync(fd)

    monkeypatch.setattr(os, "fsync", full_on_the_second_file)


def test_the_manifest_names_its_file_by_sha256(models, tmp_path):
    path = models[0].export(tmp_path / "a.glb")
    manifest = assert_pair_consistent(path)
    assert manifest["output"] == {"name": "a.glb", "sha256": sha(path), "bytes": path.stat().st_size, "format": "glb"}
    assert manifest["format"] == "glb" and manifest["input"]["path"] == os.path.abspath(orfeas_nb.samples.path("shapes"))
    assert visible(tmp_path) == ["a.glb", "a.manifest.json"]  # no lock, journal or temporary left


def test_disk_full_at_the_second_write_keeps_the_old_pair(models, tmp_path, monkeypatch):
    target = models[0].export(tmp_path / "m.stl")
    old = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    disk_full_at_the_second_file(monkeypatch)  # the model's temporary is complete; the manifest's hits a full disk
    with pytest.raises(ExportError, match=r"cannot write m\.stl, m\.manifest\.json: No space left on device; "
                                          "nothing was written"):
        models[1].export(target)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == old
    assert_pair_consistent(target)


def test_disk_full_on_a_first_export_leaves_no_file(models, tmp_path, monkeypatch):
    disk_full_at_the_second_file(monkeypatch)
    with pytest.raises(ExportError, match="nothing was written"):
        models[0].export(tmp_path / "new.stl")
    assert visible(tmp_path) == []


def test_a_sidecar_path_taken_by_a_folder_is_refused_before_anything_is_written(models, tmp_path, cli):
    (tmp_path / "m.manifest.json").mkdir()
    with pytest.raises(InvalidInput, match=r"the manifest's path .*m\.manifest\.json is taken by a folder"):
        models[0].export(tmp_path / "m.stl")
    assert visible(tmp_path) == ["m.manifest.json"]
    result = cli("image-to-3d", orfeas_nb.samples.path("shapes"), "-o", tmp_path / "m.stl", "--quality", "1")
    assert result.exit_code == 2 and "is taken by a folder" in result.stderr
    assert visible(tmp_path) == ["m.manifest.json"]


def test_a_folder_appearing_at_the_sidecar_path_during_the_export_rolls_back(models, tmp_path, monkeypatch):
    target = models[0].export(tmp_path / "m.stl")
    old = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    (tmp_path / "m.manifest.json").unlink()
    (tmp_path / "m.manifest.json").mkdir()  # after the check, before the renames (a racing process)
    monkeypatch.setattr("orfeas_nb.model.check_output", lambda *a, **k: None)
    with pytest.raises(ExportError, match=r"m\.manifest\.json: a folder has that name; nothing was written"):
        models[1].export(target)
    assert target.read_bytes() == old["m.stl"]
    assert visible(tmp_path) == ["m.manifest.json", "m.stl"] and (tmp_path / "m.manifest.json").is_dir()


def test_a_rename_failing_half_way_puts_the_old_pair_back(models, tmp_path, monkeypatch):
    target = models[0].export(tmp_path / "m.ply")
    old = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    rename = files._rename
    calls = []

    def second_fails(temp, final):
        calls.append(final)
        if len(calls) == 2:
            raise OSError(errno.EIO, "Input/output error")
        rename(temp, final)

    monkeypatch.setattr(files, "_rename", second_fails)
    with pytest.raises(ExportError, match="Input/output error; nothing was written"):
        models[1].export(target)
    assert len(calls) == 2, "the model had been renamed into place when the manifest's rename failed"
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == old
    # and with no old pair: no file at all
    calls.clear()
    with pytest.raises(ExportError):
        models[1].export(tmp_path / "fresh.ply")
    assert visible(tmp_path) == ["m.manifest.json", "m.ply"]


def test_export_without_a_manifest_removes_the_sidecar_that_described_the_old_file(models, tmp_path):
    target = models[0].export(tmp_path / "m.stl")
    (tmp_path / "notes.manifest.json").write_text("{}")
    models[1].export(target, manifest=False)
    assert visible(tmp_path) == ["m.stl", "notes.manifest.json"]


def test_a_250_byte_name_and_its_sidecar_fit(models, tmp_path):
    name = "é" * 121 + "abcd.stl"  # 242 + 8 = 250 bytes
    assert len(name.encode()) == 250
    path = models[0].export(tmp_path / name)
    sidecar = manifest_path(path)
    assert len(sidecar.name.encode()) <= 255 and sidecar.name.endswith(".manifest.json")
    assert_pair_consistent(path)
    models[1].export(path)  # overwriting: the temporaries and backups fit too
    assert_pair_consistent(path)
    assert visible(tmp_path) == sorted([name, sidecar.name])
    with pytest.raises(InvalidInput, match="is 256 bytes; the limit is 255"):
        models[0].export(tmp_path / ("x" * 252 + ".stl"))


def test_a_parent_that_is_a_file_and_the_input_as_output_exit_2_before_any_work(tmp_path, cli, disk_png):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    missing = tmp_path / "no-such-picture.png"  # the output is checked first: before the input is even read
    result = cli("image-to-3d", missing, "-o", blocker / "sub" / "m.stl")
    assert result.exit_code == 2 and result.stderr.startswith(f"error: cannot write {blocker / 'sub' / 'm.stl'}: "
                                                              f"{blocker} is a file, not a folder")
    copy = tmp_path / "copy.stl"
    copy.write_bytes(disk_png.read_bytes())  # a picture with an .stl name, given as input and output
    result = cli("image-to-3d", copy, "-o", copy)
    assert result.exit_code == 2 and "is the input" in result.stderr and "would destroy it" in result.stderr
    assert copy.read_bytes() == disk_png.read_bytes()
    result = cli("demo", "--out", blocker / "demo")
    assert result.exit_code == 2 and "is a file, not a folder" in result.stderr
    result = cli("text-to-image", "an owl", "-o", blocker / "owl.png", "--model", tmp_path / "no-model")
    assert result.exit_code == 2 and "is a file, not a folder" in result.stderr  # before the model is looked for


def test_the_picture_and_its_manifest_are_one_unit(tmp_path, monkeypatch):
    image = Image.fromarray(np.arange(64 * 64, dtype=np.uint8).reshape(64, 64)).convert("RGB")
    image.info["orfeas"] = {"task": "text_to_image", "seed": 3}
    out = save_png(image, tmp_path / "p.png")
    manifest = json.loads(manifest_path(out).read_text())
    assert manifest["output"]["sha256"] == sha(out) and manifest["seed"] == 3
    old = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    disk_full_at_the_second_file(monkeypatch)
    image.info["orfeas"] = {"task": "text_to_image", "seed": 4}
    with pytest.raises(ExportError, match=r"p\.png, p\.manifest\.json: No space left on device; nothing was written"):
        save_png(image.rotate(90), out)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == old


def test_the_demo_publishes_all_its_files_or_none(tmp_path, cli, monkeypatch):
    out = tmp_path / "demo"
    first = cli("demo", "--out", out, "--quality", "1")
    assert first.exit_code == 0, first.stderr
    old = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(old) == 13  # 6 models, 6 manifests, summary.json
    rename, calls = files._rename, []

    def fails_at_the_seventh(temp, final):
        calls.append(final)
        if len(calls) == 7:
            raise OSError(errno.ENOSPC, "No space left on device")
        rename(temp, final)

    monkeypatch.setattr(files, "_rename", fails_at_the_seventh)
    result = cli("demo", "--out", out, "--quality", "2")
    assert result.exit_code == 1 and "nothing was written" in result.stderr and "wrote" not in result.stdout
    assert {p.name: p.read_bytes() for p in out.iterdir()} == old
