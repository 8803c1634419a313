"""Panels driven exactly as the front end does (set_state), asserting state and inline messages."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import orfeas_nb
from orfeas_nb.errors import InvalidInput
from orfeas_nb.widgets.panels import ParametersPanel, ProgressPanel, PromptPanel, UploadPanel

from ..conftest import png_bytes
from .conftest import upload_state

pytestmark = pytest.mark.unit

DECLARED = orfeas_nb.catalogue().methods


def test_an_uploaded_picture_is_checked_and_shown_as_a_thumbnail(logo_bytes):
    panel = UploadPanel()
    panel.upload.set_state(upload_state(logo_bytes, name="logo.png"))
    assert panel.error == "" and panel.loaded.format == "PNG" and panel.loaded.size == (256, 256)
    thumb = Image.open(io.BytesIO(panel.thumbnail.value))
    assert max(thumb.size) <= 160 and thumb.format == "PNG"
    assert "logo.png: PNG 256×256" in panel.message.value
    assert panel.values() == {"image": logo_bytes}


def test_content_decides_not_the_name_or_the_mime_type():
    panel = UploadPanel()
    panel.upload.set_state(upload_state(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", name="cat.png"))
    assert panel.loaded is None and panel.thumbnail.value == b""
    assert "not a supported image" in panel.error and "SVG" in panel.error
    assert "⚠" in panel.message.value and "not a supported image" in panel.message.value
    with pytest.raises(InvalidInput, match="not a supported image"):
        panel.values()


def test_a_hostile_file_name_is_escaped_and_never_used_as_a_path():
    panel = UploadPanel()
    data = png_bytes(np.full((8, 8), 128, np.uint8))
    panel.upload.set_state(upload_state(data, name="../../<img src=x onerror=alert(1)>.png"))
    assert "<img" not in panel.message.value and "&lt;img" in panel.message.value
    assert panel.values() == {"image": data}


def test_a_too_large_upload_is_refused_inline(monkeypatch, logo_bytes):
    monkeypatch.setenv("ORFEAS_MAX_UPLOAD_BYTES", "1000")
    panel = UploadPanel()
    panel.upload.set_state(upload_state(logo_bytes))
    assert "ORFEAS_MAX_UPLOAD_BYTES" in panel.error and panel.loaded is None


def test_a_later_bad_upload_replaces_a_good_one(logo_bytes):
    panel = UploadPanel()
    panel.upload.set_state(upload_state(logo_bytes))
    panel.upload.set_state(upload_state(b"\x89PNG\r\n\x1a\n" + b"\0" * 20, name="broken.png"))
    assert panel.loaded is None and "broken.png" in panel.error and "could not be decoded" in panel.error
    with pytest.raises(InvalidInput):
        panel.values()


def test_nothing_uploaded_says_what_to_do():
    with pytest.raises(InvalidInput, match="upload a picture first"):
        UploadPanel().values()


def test_prompt_panel_values_are_checked():
    panel = PromptPanel(("realistic", "cartoon"))
    panel.prompt.set_state({"value": "  a small owl  "})
    panel.style_choice.set_state({"index": 1})
    panel.seed.set_state({"value": "7"})
    assert panel.values() == {"prompt": "a small owl", "style": "cartoon", "seed": 7, "steps": None,
                              "negative_prompt": None}
    panel.steps.set_state({"value": "lots"})
    with pytest.raises(InvalidInput, match="steps must be a whole number"):
        panel.values()
    panel.steps.set_state({"value": "0"})
    with pytest.raises(InvalidInput, match="steps must be between 1 and 200"):
        panel.values()
    panel.steps.set_state({"value": ""})
    panel.prompt.set_state({"value": "   "})
    with pytest.raises(InvalidInput, match="prompt is empty"):
        panel.values()


@pytest.mark.parametrize("method", list(DECLARED))
def test_parameters_show_the_chosen_methods_declared_options(method):
    panel = ParametersPanel(DECLARED)
    index = list(DECLARED).index(method)
    panel.method.set_state({"index": index})
    declared = DECLARED[method].options
    assert list(panel.option_widgets) == [opt.name for opt in declared]
    for opt in declared:
        control = panel.option_widgets[opt.name]
        assert control.value == opt.default
        if opt.low is not None and not isinstance(opt.default, bool):
            assert (control.min, control.max) == (opt.low, opt.high)
        if opt.choices:
            assert tuple(control.options) == opt.choices
    values = panel.values()
    assert values["method"] == method and values["options"] == {opt.name: opt.default for opt in declared}


def test_parameter_controls_are_bounded_like_the_api():
    panel = ParametersPanel()
    panel.quality.set_state({"value": 3})
    panel.size_mm.set_state({"value": 55.5})
    panel.option_widgets["height_mm"].set_state({"value": 9.0})
    panel.option_widgets["invert"].set_state({"value": True})
    values = panel.values()
    assert (values["quality"], values["size_mm"]) == (3, 55.5)
    assert values["options"]["height_mm"] == 9.0 and values["options"]["invert"] is True
    assert (panel.quality.min, panel.quality.max) == (1, 10)
    assert (panel.size_mm.min, panel.size_mm.max) == (1.0, 2000.0)


def test_progress_panel_shows_fraction_and_errors():
    panel = ProgressPanel()
    panel.show(0.42, "meshing")
    assert panel.bar.value == 42 and panel.bar.bar_style == "info" and "meshing" in panel.status.value
    panel.show(0.5, "broke <badly>", error=True)
    assert panel.bar.bar_style == "danger" and "broke &lt;badly&gt;" in panel.status.value
