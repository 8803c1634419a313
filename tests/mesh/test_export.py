"""Files: every format in millimetres, the manifest embedded where there is room and as a sidecar."""

from __future__ import annotations

import json
import zipfile

import pytest
import trimesh

import orfeas_nb
from orfeas_nb.mesh.export import EXPORTERS, embedded_manifest

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
