"""``Model3D`` rich display: 3D view + report where widgets render, PNG + text everywhere else."""

from __future__ import annotations

import io

import numpy as np
import pytest
import trimesh
from IPython.core.interactiveshell import InteractiveShell
from PIL import Image

import orfeas_nb
from orfeas_nb import model as model_module
from orfeas_nb.widgets.view import MeshView

pytestmark = pytest.mark.unit
WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def model():
    return orfeas_nb.image_to_3d(orfeas_nb.samples.path("shapes"), quality=2, size_mm=40)


def test_outside_a_kernel_the_display_is_a_png_and_the_report(model):
    bundle = model._repr_mimebundle_()
    assert WIDGET not in bundle
    image = Image.open(io.BytesIO(bundle["image/png"]))
    assert image.size == (640, 480)
    colours = np.unique(np.asarray(image).reshape(-1, 3), axis=0)
    assert len(colours) > 10  # a shaded model, not a blank frame
    assert bundle["text/plain"].startswith("<Model3D relief:") and "watertight: yes" in bundle["text/plain"]


def test_ipython_picks_up_the_bundle(model):
    data, _ = InteractiveShell.instance().display_formatter.format(model)
    assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n" and "watertight" in data["text/plain"]


def test_in_a_kernel_the_display_adds_the_3d_view_with_the_report(model, monkeypatch):
    created = []
    monkeypatch.setattr(model_module, "_in_kernel", lambda: True)
    from ipywidgets import Widget

    monkeypatch.setattr(Widget, "_call_widget_constructed", classmethod(lambda cls, w: created.append(w)))
    bundle = model._repr_mimebundle_()
    assert {WIDGET, "image/png", "text/plain"} <= set(bundle)
    shown = next(w for w in created if getattr(w, "model_id", None) == bundle[WIDGET]["model_id"])
    view, report = shown.children
    assert isinstance(view, MeshView) and "watertight: yes" in report.value
    assert "watertight: yes" in bundle["text/plain"]  # nbval and text front ends still read the report


def test_in_kernel_detection_needs_an_ipython_kernel(monkeypatch):
    assert model_module._in_kernel() is False  # pytest imports IPython, but there is no kernel here

    class FakeShell:
        kernel = object()

    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: FakeShell())
    assert model_module._in_kernel() is True


def test_preview_returns_a_bounded_view():
    big = orfeas_nb.Model3D(trimesh.creation.icosphere(subdivisions=5), {"method": "test"})
    view = big.preview(max_faces=1000, height=300)
    assert isinstance(view, MeshView) and view.arrays.shown_faces <= 1000 and view.renderer.height == 300
    assert len(big.mesh.faces) == 20480


@pytest.fixture
def nothing_registered(monkeypatch):
    """Model3D as in a process where no face registered a display and no entry point offers one."""
    monkeypatch.setattr(model_module, "_DISPLAY", {})
    monkeypatch.setattr(model_module, "_ENTRY_POINTS_LOADED", [])
    monkeypatch.setattr(model_module, "entry_points", lambda group: [])


def test_in_a_kernel_without_a_registered_display_the_fallback_is_the_png_and_the_report(model, monkeypatch, nothing_registered):
    monkeypatch.setattr(model_module, "_in_kernel", lambda: True)
    bundle = model._repr_mimebundle_()
    assert set(bundle) == {"image/png", "text/plain"} and "watertight: yes" in bundle["text/plain"]
    with pytest.raises(orfeas_nb.OrfeasError, match=r"no 3D view is installed: install the notebook extra"):
        model.preview()


def test_the_declared_entry_point_registers_the_widget_display(model, monkeypatch, nothing_registered):
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    from importlib.metadata import EntryPoint
    from pathlib import Path

    pyproject = tomllib.loads(Path(__file__).parents[2].joinpath("pyproject.toml").read_text(encoding="utf-8"))
    declared = pyproject["project"]["entry-points"][model_module.DISPLAY_ENTRY_POINTS]
    found = [EntryPoint(name, value, model_module.DISPLAY_ENTRY_POINTS) for name, value in declared.items()]
    monkeypatch.setattr(model_module, "entry_points", lambda group: found if group == model_module.DISPLAY_ENTRY_POINTS else [])
    assert isinstance(model.preview(max_faces=500), MeshView)


def test_model_module_imports_no_face():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(model_module.__file__).read_text(encoding="utf-8"))
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    assert imported and not [name for name in imported if "widgets" in name or "magics" in name or "cli" in name]


def test_a_fresh_interpreter_that_never_imports_the_widgets_displays_the_png_and_the_report():
    import json
    import subprocess
    import sys

    code = (
        "import json, sys, orfeas_nb\n"
        "model = orfeas_nb.image_to_3d(orfeas_nb.samples.path('shapes'), quality=1, size_mm=30)\n"
        "bundle = model._repr_mimebundle_()\n"
        "print(json.dumps({'keys': sorted(bundle), 'text': bundle['text/plain'], 'png': bundle['image/png'][:4].hex(),\n"
        "    'loaded': sorted(m for m in ('orfeas_nb.widgets', 'ipywidgets', 'pythreejs') if m in sys.modules)}))\n"
    )
    seen = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert seen["keys"] == ["image/png", "text/plain"] and seen["png"] == "89504e47"
    assert seen["text"].startswith("<Model3D relief:") and "watertight: yes" in seen["text"]
    assert seen["loaded"] == []
