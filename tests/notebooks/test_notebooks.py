"""The notebooks: their parameter contract, clean stored outputs, and runs with other parameters.

nbval (``--nbval`` in .ci/run) re-runs each notebook as stored and compares outputs; these tests pin what
nbval cannot: the ``parameters`` cell papermill relies on, and that other parameters work and write files.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import nbformat
import papermill
import papermill.cli
import pytest
import trimesh
from click.testing import CliRunner
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NAMES = ("quickstart", "image_to_3d", "text_to_3d", "batch", "studio")
MACHINE_PATHS = re.compile(r"(/tmp/|/work/|/root/|/home/|[A-Z]:\\\\)")


def load(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


@pytest.mark.unit
def test_every_notebook_is_there_and_nothing_else():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(NAMES)


@pytest.mark.unit
@pytest.mark.parametrize("name", NAMES)
def test_one_documented_parameters_cell_and_a_kernelspec(name):
    nb = load(name)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "papermill needs exactly one cell tagged 'parameters'"
    assert nb.metadata.kernelspec.name == "python3"
    declared = papermill.inspect_notebook(str(NOTEBOOKS / f"{name}.ipynb"))
    assert "output_dir" in declared  # every notebook writes its files where it is told
    for param in declared.values():
        assert len(param["help"]) > 15, f"{param['name']} needs a comment saying what it is"
    shown = CliRunner().invoke(papermill.cli.papermill, ["--help-notebook", str(NOTEBOOKS / f"{name}.ipynb")])
    assert shown.exit_code == 0
    for param in declared.values():
        assert param["name"] in shown.output and param["help"] in shown.output


@pytest.mark.unit
@pytest.mark.parametrize("name", NAMES)
def test_stored_outputs_are_a_clean_top_to_bottom_run(name):
    nb = load(name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        for output in cell.outputs:
            assert output.output_type != "error", cell.source
            text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            if "nbval-ignore-output" not in cell.metadata.get("tags", []):
                assert output.get("name") != "stderr", f"stray stderr in: {cell.source[:60]}"
            assert not MACHINE_PATHS.search(text), f"a machine path is stored in: {text[:200]}"
    assert any(c.outputs for c in code), "no stored outputs"


def run(name: str, tmp_path: Path, **parameters) -> nbformat.NotebookNode:
    return papermill.execute_notebook(
        str(NOTEBOOKS / f"{name}.ipynb"), str(tmp_path / f"{name}-run.ipynb"), parameters=parameters,
        progress_bar=False, cwd=str(NOTEBOOKS), kernel_name="python3",
    )


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.integration
def test_quickstart_with_other_parameters_writes_model_preview_and_manifest(tmp_path):
    out = tmp_path / "out"
    run("quickstart", tmp_path, sample="logo", quality=3, size_mm=40.0, output_dir=str(out))
    assert sorted(p.name for p in out.iterdir()) == ["logo.manifest.json", "logo.png", "logo.stl"]
    mesh = trimesh.load(out / "logo.stl")
    assert mesh.is_watertight and max(mesh.extents) == pytest.approx(40.0, abs=0.01)
    manifest = json.loads((out / "logo.manifest.json").read_text())
    assert manifest["parameters"]["quality"] == 3 and manifest["triangles"] == len(mesh.faces)
    with Image.open(out / "logo.png") as preview:
        assert preview.format == "PNG" and preview.size == (640, 480)


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.integration
def test_image_to_3d_takes_your_image_method_and_formats(tmp_path, disk_png):
    out = tmp_path / "out"
    nb = run("image_to_3d", tmp_path, image=str(disk_png), method="lithophane", quality=3, size_mm=60.0,
             formats=["obj", "glb"], output_dir=str(out))
    names = sorted(p.name for p in out.iterdir())
    assert names == ["disk-lithophane.glb", "disk-lithophane.manifest.json", "disk-lithophane.obj", "disk-lithophane.png"]
    mesh = trimesh.load(out / "disk-lithophane.glb", force="mesh")
    assert mesh.is_watertight and max(mesh.extents) == pytest.approx(60.0, abs=0.01)
    assert json.loads((out / "disk-lithophane.manifest.json").read_text())["method"] == "lithophane"
    assert "→ lithophane" in "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.integration
def test_image_to_3d_takes_a_printer(tmp_path, disk_png):
    out = tmp_path / "out"
    assert papermill.inspect_notebook(NOTEBOOKS / "image_to_3d.ipynb")["printer"]["default"] == '"fdm"'
    nb = run("image_to_3d", tmp_path, image=str(disk_png), printer="exact", quality=3, size_mm=60.0, formats=["stl"],
             output_dir=str(out))
    manifest = json.loads((out / "disk-relief.manifest.json").read_text())
    assert manifest["printer"]["name"] == "exact" and manifest["parameters"]["printer"] == "exact"
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "printer: exact (every sample kept)" in printed


@pytest.mark.notebook
@pytest.mark.integration
def test_a_bad_parameter_stops_the_notebook_with_an_orfeas_error(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as info:
        run("image_to_3d", tmp_path, method="sculpt", output_dir=str(tmp_path / "out"))
    assert info.value.ename == "InvalidInput"
    assert "unknown method 'sculpt'; choose one of: relief" in info.value.evalue
    assert not list((tmp_path / "out").glob("*.stl"))


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.integration
def test_batch_notebook_sweeps_and_writes_summary_and_figure(tmp_path):
    out = tmp_path / "out"
    run("batch", tmp_path, notebook=str(NOTEBOOKS / "image_to_3d.ipynb"), qualities=[1, 3], workers=1, output_dir=str(out))
    rows = list(csv.DictReader((out / "summary.csv").read_text().splitlines()))
    assert sorted((r["quality"], r["status"]) for r in rows) == [("1", "ok"), ("3", "ok")]
    for row in rows:
        mesh = trimesh.load(out / row["run"] / "outputs" / "scene-relief.stl")
        assert mesh.is_watertight
    with Image.open(out / "sweep.png") as figure:
        assert figure.format == "PNG" and figure.size[0] > figure.size[1]


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.integration
def test_studio_notebook_generates_from_code_with_other_parameters(tmp_path):
    out = tmp_path / "out"
    nb = run("studio", tmp_path, sample="shapes", method="extrude", quality=3, size_mm=50.0, output_dir=str(out))
    assert sorted(p.name for p in out.iterdir()) == ["shapes-extrude.manifest.json", "shapes-extrude.png", "shapes-extrude.stl"]
    mesh = trimesh.load(out / "shapes-extrude.stl")
    assert mesh.is_watertight and max(mesh.extents) == pytest.approx(50.0, abs=0.01)
    assert json.loads((out / "shapes-extrude.manifest.json").read_text())["method"] == "extrude"
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "upload box holds shapes.png" in printed and "done" in printed


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.integration
def test_text_to_3d_notebook_gets_shap_e_from_the_environment_variable(tmp_path, monkeypatch):
    from tests.tiny_models import build_tiny_shap_e

    monkeypatch.setenv("ORFEAS_SHAP_E_MODEL", str(build_tiny_shap_e(tmp_path / "tiny-shap-e", "text")))
    out = tmp_path / "out"
    run("text_to_3d", tmp_path, prompt="a chess pawn", method="shap-e", seed=3, steps=2, quality=1, size_mm=30.0,
        output_dir=str(out))
    stem = "text-shap-e-seed3"
    assert sorted(p.name for p in out.iterdir()) == [f"{stem}.manifest.json", f"{stem}.png", f"{stem}.stl"]
    manifest = json.loads((out / f"{stem}.manifest.json").read_text())
    made = (manifest["task"], manifest["method"], manifest["seed"], manifest["prompt"])
    assert made == ("text_to_3d", "shap-e", 3, "a chess pawn")
    mesh = trimesh.load(out / f"{stem}.stl")
    assert mesh.is_watertight and max(mesh.extents) == pytest.approx(30.0, abs=0.01)
