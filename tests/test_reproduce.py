"""``orfeas reproduce``: a weight-free model rebuilt from its manifest is byte-identical; a changed input is refused."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

import orfeas_nb
from orfeas_nb.errors import InvalidInput
from orfeas_nb.mesh.methods import METHODS
from orfeas_nb.model import manifest_path

pytestmark = pytest.mark.unit

CASES = [  # every weight-free method, every format, non-default options
    ("relief", "stl", ["-O", "height_mm=3", "-O", "invert=yes"]),
    ("relief", "3mf", ["-O", "blur=0.5", "-O", "border_mm=2"]),
    ("lithophane", "glb", []),
    ("lithophane", "3mf", []),
    ("extrude", "obj", ["-O", "height_mm=4"]),
    ("inflate", "ply", []),
    ("inflate", "3mf", []),
]


@pytest.fixture
def picture(tmp_path):
    path = tmp_path / "in" / "logo.png"
    path.parent.mkdir()
    shutil.copy(orfeas_nb.samples.path("logo"), path)
    return path


def test_every_weight_free_method_is_covered():
    assert {method for method, _fmt, _opts in CASES} == set(METHODS)


@pytest.mark.parametrize(("method", "fmt", "options"), CASES, ids=[f"{m}-{f}" for m, f, _ in CASES])
def test_reproduce_rebuilds_a_byte_identical_model(cli, tmp_path, picture, method, fmt, options):
    out = tmp_path / f"model.{fmt}"
    made = cli("image-to-3d", picture, "-o", out, "--method", method, "--quality", "2", *options)
    assert made.exit_code == 0, made.stderr
    result = cli("reproduce", manifest_path(out))
    assert result.exit_code == 0, result.stderr + result.stdout
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert result.stdout == f"identical: the rebuilt model has the recorded file bytes (sha256 {digest[:16]}…)\n"
    again = tmp_path / "again" / f"copy.{fmt}"
    result = cli("reproduce", manifest_path(out), "-o", again)
    assert result.exit_code == 0 and again.read_bytes() == out.read_bytes()
    copy_manifest = json.loads(manifest_path(again).read_text())
    assert copy_manifest["output"]["sha256"] == digest and copy_manifest["file"] == again.name


def test_a_repaired_model_and_an_in_memory_picture_reproduce_through_the_api(tmp_path, picture):
    model = orfeas_nb.image_to_3d(picture, method="relief", quality=2).repair()
    path = model.export(tmp_path / "r.glb")
    assert orfeas_nb.reproduce(manifest_path(path)).identical
    from PIL import Image

    with Image.open(picture) as image:
        memory = orfeas_nb.image_to_3d(image.copy(), method="inflate", quality=2)
    path = memory.export(tmp_path / "m.stl")
    with pytest.raises(InvalidInput, match="records no input path .* give it with --input"):
        orfeas_nb.reproduce(manifest_path(path))
    assert orfeas_nb.reproduce(manifest_path(path), input=picture).identical


def test_a_changed_input_is_refused_naming_both_sha256s(cli, tmp_path, picture):
    out = tmp_path / "m.stl"
    assert cli("image-to-3d", picture, "-o", out, "--quality", "2").exit_code == 0
    recorded = hashlib.sha256(picture.read_bytes()).hexdigest()
    picture.write_bytes(picture.read_bytes() + b"\0")  # same pixels, other bytes: not the file it was made from
    changed = hashlib.sha256(picture.read_bytes()).hexdigest()
    result = cli("reproduce", manifest_path(out))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: the input {picture} has sha256 {changed}, but the manifest records {recorded}")
    other = tmp_path / "original.png"
    shutil.copy(orfeas_nb.samples.path("logo"), other)
    assert cli("reproduce", manifest_path(out), "--input", other).exit_code == 0
    picture.unlink()
    result = cli("reproduce", manifest_path(out))
    assert result.exit_code == 2 and "is not there; give the picture the model was made from with --input" in result.stderr


def test_a_different_result_exits_1_saying_what_differs(cli, tmp_path, picture):
    out = tmp_path / "m.stl"
    assert cli("image-to-3d", picture, "-o", out, "--quality", "2").exit_code == 0
    manifest = json.loads(manifest_path(out).read_text())
    manifest["parameters"]["height_mm"] = 6.0  # the record no longer matches the file
    manifest["versions"]["trimesh"] = "0.0.1"
    manifest_path(out).write_text(json.dumps(manifest))
    result = cli("reproduce", manifest_path(out))
    assert result.exit_code == 1 and result.stdout.count("\n") == 1
    assert result.stdout.startswith("differs: the rebuilt model's file bytes have sha256 ")
    assert "trimesh 0.0.1 → " in result.stdout


def test_reproduce_refuses_what_it_cannot_use(cli, tmp_path, picture):
    out = tmp_path / "m.stl"
    assert cli("image-to-3d", picture, "-o", out, "--quality", "1").exit_code == 0
    for args, message in (
        ([tmp_path / "none.manifest.json"], "no manifest at"),
        ([out], "is not a readable JSON manifest"),
        ([manifest_path(out), "-o", picture], "is the input"),
        ([manifest_path(out), "-o", out], "is the input"),  # never over the model it is checked against
        ([manifest_path(out), "-o", tmp_path / "x.xyz"], "cannot export the suffix"),
    ):
        result = cli("reproduce", *args)
        assert result.exit_code == 2 and message in result.stderr, (args, result.stderr)
