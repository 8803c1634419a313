"""The hostile-upload corpus through the Python API and the CLI: a clear error or a correct model, nothing else.

Rejected uploads must raise :class:`InvalidInput` (exit 2 in the CLI, one line, no traceback) and write
nothing; accepted ones must decode to the right size and mode and mesh into a watertight solid.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import orfeas_nb
from orfeas_nb.errors import InvalidInput
from orfeas_nb.mesh.methods import METHODS
from orfeas_nb.validation import load_image
from tests.security.corpus import ACCEPTED, HOSTILE_NAMES, REJECTED, Case, corpus

pytestmark = pytest.mark.security

ids = lambda case: case.name  # noqa: E731


def tree(root: Path) -> set[str]:
    """Every file and folder under ``root``, relative, hidden ones included."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def assert_clear(message: str) -> None:
    """A message a person can act on: one line, no memory addresses, no traceback, not endless."""
    assert "\n" not in message
    assert "Traceback" not in message
    assert not re.search(r"object at 0x[0-9a-f]+", message), message
    assert len(message) < 500, message


def test_the_corpus_covers_what_the_issue_lists():
    names = {case.name for case in corpus()}
    for kind in ("truncated", "corrupt|bad-crc|bad-zlib|garbage", "polyglot", "svg", "html", "bomb", "claims",
                 "empty", "1x1", "16-bit", "cmyk", "palette-with-transparency", "animated-gif", "animated-webp",
                 "exif-rotated", "hostile-name"):
        assert any(re.search(kind, name) for name in names), kind
    assert len(REJECTED) >= 25 and len(ACCEPTED) >= 20


@pytest.mark.parametrize("case", REJECTED, ids=ids)
def test_api_refuses_hostile_bytes_with_a_clear_message(case: Case):
    with pytest.raises(InvalidInput, match=case.reject) as info:
        orfeas_nb.image_to_3d(case.data, quality=1, size_mm=20)
    assert_clear(str(info.value))


@pytest.mark.parametrize("case", REJECTED, ids=ids)
def test_api_refuses_hostile_files_and_names_the_file(case: Case, tmp_path):
    path = tmp_path / "upload.bin"  # the name says nothing; the content decides
    path.write_bytes(case.data)
    with pytest.raises(InvalidInput, match=case.reject) as info:
        load_image(path)
    assert "upload.bin" in str(info.value)
    assert_clear(str(info.value))


@pytest.mark.parametrize("case", ACCEPTED, ids=ids)
def test_odd_but_valid_images_decode_upright_in_a_supported_mode(case: Case):
    loaded = load_image(case.data)
    assert loaded.image.mode == case.mode
    if case.size:
        assert loaded.size == case.size


@pytest.mark.parametrize("case", [c for c in ACCEPTED if not c.name.startswith("hostile-name")], ids=ids)
def test_odd_images_become_watertight_models_or_a_clear_refusal_in_every_method(case: Case):
    for name in METHODS:
        try:
            model = orfeas_nb.image_to_3d(case.data, method=name, quality=1, size_mm=20)
        except InvalidInput as exc:  # e.g. extrude on a picture with no foreground: said plainly
            assert name != "relief", f"relief must take any decodable image, refused {case.name}: {exc}"
            assert_clear(str(exc))
            continue
        report = model.report()
        assert report.watertight, (case.name, name)
        assert max(model.mesh.extents) == pytest.approx(20.0, rel=1e-3), (case.name, name)
        assert model.manifest["input"]["size_px"] == list(load_image(case.data).size)


def test_exif_orientation_is_applied_before_meshing():
    case = next(c for c in ACCEPTED if c.name == "exif-rotated-jpeg")  # stored 40 wide × 20 high, displayed 20 × 40
    model = orfeas_nb.image_to_3d(case.data, quality=1, size_mm=40)
    x, y, _ = model.mesh.extents
    assert y == pytest.approx(40.0, rel=1e-3) and x == pytest.approx(20.0, rel=0.1)


def test_polyglot_payloads_never_reach_the_manifest_or_the_file(tmp_path):
    case = next(c for c in ACCEPTED if c.name == "jpeg-with-script-comment")
    model = orfeas_nb.image_to_3d(case.data, quality=1, size_mm=20)
    path = model.export(tmp_path / "m.obj")
    for written in (path, tmp_path / "m.manifest.json"):
        text = written.read_bytes()
        assert b"<script>" not in text and b"<?php" not in text


# --- the CLI --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", REJECTED, ids=ids)
def test_cli_exits_2_with_one_line_and_writes_nothing(case: Case, cli, tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    image = source / "upload.png"
    image.write_bytes(case.data)
    out = tmp_path / "out"
    out.mkdir()
    before = tree(tmp_path)
    result = cli("image-to-3d", image, "-o", out / "model.stl", "--quality", "1")
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert re.search(case.reject, lines[0])
    assert_clear(lines[0])
    assert result.stdout == ""
    assert tree(tmp_path) == before


@pytest.mark.parametrize("name", [n for n in HOSTILE_NAMES if "\x00" not in n and "/" not in n and n not in ("", ".")])
def test_cli_reads_files_with_hostile_names_and_writes_only_where_told(name, cli, tmp_path):
    folder = tmp_path / "in" / "deep"
    folder.mkdir(parents=True)
    image = folder / name[:200]
    image.write_bytes(next(c for c in ACCEPTED if c.name == "hostile-name-0").data)
    before = tree(tmp_path)
    result = cli("image-to-3d", image, "-o", tmp_path / "out" / "model.stl", "--quality", "1", "--size-mm", "20")
    assert result.exit_code == 0, result.output
    assert tree(tmp_path) - before == {"out", "out/model.stl", "out/model.manifest.json"}


@pytest.mark.parametrize("name", ["../../../../etc/passwd.png", "/etc/shadow", "photo\x00.png"])
def test_api_treats_traversal_and_nul_names_as_missing_files(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidInput, match="no image file|not a supported image|could not be decoded") as info:
        load_image(name)
    assert_clear(str(info.value))


def test_cli_handles_non_utf8_file_names_in_a_real_shell(tmp_path):
    """argv bytes that are not UTF-8 (a file copied from an old Windows share) — read, and reported without crashing."""
    folder = os.fsencode(tmp_path)
    good = os.path.join(folder, b"caf\xe9\xff.png")
    with open(good, "wb") as handle:
        handle.write(next(c for c in ACCEPTED if c.name == "hostile-name-0").data)
    missing = os.path.join(folder, b"\xfe\xfdmissing.png")
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    ok = subprocess.run([sys.executable, "-m", "orfeas_nb", b"image-to-3d", good, b"-o", os.path.join(folder, b"\xe9.stl"),
                         b"--quality", b"1"], capture_output=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert os.path.exists(os.path.join(folder, b"\xe9.stl"))
    bad = subprocess.run([sys.executable, "-m", "orfeas_nb", b"image-to-3d", missing, b"-o", b"x.stl"],
                         capture_output=True, env=env, timeout=120, cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.count(b"\n") == 1 and bad.stderr.startswith(b"error: no image file")
    assert b"Traceback" not in bad.stderr
    assert not (tmp_path / "x.stl").exists()


@pytest.mark.parametrize("out", ["model\x00.stl", "model.exe", "model.stl.sh", "model"])
def test_api_export_refuses_bad_output_names_without_writing(out, tmp_path):
    model = orfeas_nb.image_to_3d(ACCEPTED[0].data, quality=1, size_mm=20)
    with pytest.raises(InvalidInput) as info:
        model.export(tmp_path / out)
    assert_clear(str(info.value))
    assert list(tmp_path.iterdir()) == []
