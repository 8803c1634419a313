"""Files: every format in millimetres, the manifest embedded where there is room and as a sidecar."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import trimesh

import orfeas_nb
from orfeas_nb.mesh.export import EXPORTERS, embedded_manifest, mesh_bytes

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def model():
    return orfeas_nb.image_to_3d(orfeas_nb.samples.path("shapes"), method="relief", quality=2, size_mm=60.0)


@pytest.mark.parametrize("fmt", list(EXPORTERS))
def test_each_format_reads_back_as_the_same_solid_with_its_manifest(model, fmt, tmp_path):
    path = model.export(tmp_path / f"part.{fmt}")
    data = path.read_bytes()
    back = trimesh.load(path, force="mesh")
    assert back.is_watertight
    assert back.extents == pytest.approx(model.mesh.extents, rel=1e-5)
    assert back.volume == pytest.approx(model.mesh.volume, rel=1e-4)
    sidecar = json.loads((tmp_path / "part.manifest.json").read_text())
    assert sidecar["file"] == f"part.{fmt}" and sidecar["format"] == fmt
    if fmt == "stl":
        assert data[:80].startswith(b"orfeas_nb relief mm sha256=" + model.manifest["input"]["sha256"][:16].encode())
        assert embedded_manifest(data, fmt) is None
    else:
        embedded = embedded_manifest(data, fmt)
        assert embedded["input"]["sha256"] == model.manifest["input"]["sha256"]
        assert embedded["triangles"] == len(model.mesh.faces)
        assert embedded["method"] == "relief"


@pytest.mark.parametrize("manifest", [True, False])
def test_stl_header_is_readable_text_then_only_nul_bytes(model, manifest, tmp_path):
    data = model.export(tmp_path / "part.stl").read_bytes() if manifest else mesh_bytes(model.mesh, "stl")
    text, padding = data[:80].split(b"\0", 1)
    expected = f"orfeas_nb relief mm sha256={model.manifest['input']['sha256'][:16]}" if manifest else "orfeas_nb mm"
    assert text.decode("ascii") == expected
    assert padding == b"\0" * (79 - len(text))  # C tools that print the header as a string stop at the first NUL


def test_3mf_metadata_and_glb_extras_are_where_readers_look(model, tmp_path):
    glb = model.export(tmp_path / "a.glb").read_bytes()
    length = int.from_bytes(glb[12:16], "little")
    tree = json.loads(glb[20 : 20 + length])
    assert tree["asset"]["extras"]["units"] == "millimeters"
    assert tree["extras"]["orfeas_manifest"]["method"] == "relief"
    xml = zipfile.ZipFile(model.export(tmp_path / "a.3mf")).read("3D/3dmodel.model").decode()
    assert 'unit="millimeter"' in xml and '<metadata name="Title">relief model</metadata>' in xml
    assert 'xmlns:orfeas="' in xml


def test_export_without_manifest_writes_no_sidecar(model, tmp_path):
    model.export(tmp_path / "b.ply", manifest=False)
    assert not (tmp_path / "b.manifest.json").exists()
    assert embedded_manifest(b"ply\nformat ascii 1.0\nend_header\n", "ply") is None


def test_stl_streamed_in_pieces_by_threads_is_the_same_file(model, tmp_path, monkeypatch):
    from orfeas_nb.mesh import export

    whole = model.export(tmp_path / "whole.stl", manifest=False).read_bytes()
    monkeypatch.setattr(export, "STL_CHUNK_FACES", 7)  # hundreds of pieces, finished out of order by the threads
    monkeypatch.setattr(export, "STL_THREADS", 3)
    pieces = model.export(tmp_path / "pieces.stl", manifest=False).read_bytes()
    assert pieces == whole
    assert len(whole) == 84 + 50 * len(model.mesh.faces)
    back = trimesh.load(tmp_path / "pieces.stl", force="mesh")
    assert back.is_watertight and back.volume == pytest.approx(model.mesh.volume, rel=1e-4)
    assert abs(np.linalg.norm(np.frombuffer(whole, export._STL_FACET, offset=84)["normal"], axis=1) - 1).max() < 1e-5


def test_a_failure_while_streaming_an_stl_keeps_the_old_file(model, tmp_path, monkeypatch):
    from orfeas_nb.mesh import export

    target = model.export(tmp_path / "model.stl", manifest=False)
    before = target.read_bytes()
    encode = export._stl_facets
    calls = []

    def fail_on_the_third_piece(*args):
        calls.append(1)
        if len(calls) == 3:
            raise MemoryError("out of memory while encoding")
        return encode(*args)

    monkeypatch.setattr(export, "STL_CHUNK_FACES", 50)
    monkeypatch.setattr(export, "_stl_facets", fail_on_the_third_piece)
    with pytest.raises(MemoryError):
        export.export_mesh(model.mesh, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.stl"]
