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
