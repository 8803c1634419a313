"""The export panel: safe names, full-resolution files, and downloads a browser can use."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import trimesh
from hypothesis import given
from hypothesis import strategies as st

import orfeas_nb
from orfeas_nb.errors import InvalidInput
from orfeas_nb.widgets import export
from orfeas_nb.widgets.export import ExportPanel, download_html, safe_stem

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", ["../evil", "a/b", "", ".hidden", "x" * 101, "con:1", "a\\b", "..x"])
def test_unsafe_file_names_are_refused(name):
    with pytest.raises(InvalidInput, match="not allowed"):
        safe_stem(name)


@given(st.text(max_size=120))
def test_any_accepted_name_stays_inside_its_folder(name):
    try:
        stem = safe_stem(name)
    except InvalidInput:
        return
    target = (Path("/out") / f"{stem}.stl").resolve()
    assert target.parent == Path("/out") and "/" not in stem and ".." not in stem


def test_a_file_in_the_workspace_gets_a_relative_download_link(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "out dir" / "owl.stl"
    path.parent.mkdir()
    path.write_bytes(b"x" * 300_000)
    markup = download_html(path)
    assert 'href="out%20dir/owl.stl"' in markup and 'download="owl.stl"' in markup
    assert "0.30 MB" in markup and "base64" not in markup


def test_a_small_file_outside_the_workspace_is_inlined(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    outside.mkdir()
    path = outside / "ring.glb"
    path.write_bytes(b"glTF-bytes")
    markup = download_html(path)
    payload = re.search(r'href="data:model/gltf-binary;base64,([^"]+)"', markup).group(1)
    assert base64.b64decode(payload) == b"glTF-bytes" and "(10 bytes)" in markup


def test_a_large_file_outside_the_workspace_is_not_sent_as_a_giant_data_uri(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(export, "DATA_URI_MAX_BYTES", 100)
    outside = tmp_path.parent / f"{tmp_path.name}-far"
    outside.mkdir()
    path = outside / "big.stl"
    path.write_bytes(b"y" * 1000)
    markup = download_html(path)
    assert "data:" not in markup and "outside the Jupyter workspace" in markup and "ORFEAS_OUTPUT_DIR" in markup


def test_saving_writes_the_full_mesh_and_its_manifest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ORFEAS_OUTPUT_DIR", "outputs")
    model = orfeas_nb.Model3D(trimesh.creation.icosphere(subdivisions=4), {"method": "test"})
    panel = ExportPanel()
    assert panel.save() is None  # nothing yet: said inline
    assert "generate a model first" in panel.link.outputs[0]["data"]["text/html"]
    panel.set_model(model, "sphere")
    panel.format.set_state({"index": panel.format.options.index("ply")})
    path = panel.save()
    assert path == Path("outputs/studio/sphere.ply") and panel.last_path == path
    assert len(trimesh.load(path).faces) == 5120  # full resolution, whatever the preview showed
    assert Path("outputs/studio/sphere.manifest.json").is_file()
    assert 'href="outputs/studio/sphere.ply"' in panel.link.outputs[0]["data"]["text/html"]


def test_a_bad_name_is_reported_in_the_panel_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ORFEAS_OUTPUT_DIR", "outputs")
    panel = ExportPanel()
    panel.set_model(orfeas_nb.Model3D(trimesh.creation.box(), {}), "box")
    panel.name.set_state({"value": "../../etc/passwd"})
    assert panel.save() is None
    assert "not allowed" in panel.link.outputs[0]["data"]["text/html"]
    assert not Path("outputs").exists()
