"""The one catalogue: what it lists, that its ranges hold, and that every face reads it instead of its own copy."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import orfeas_nb
from orfeas_nb.catalogue import IMAGE_TO_3D, TEXT_TO_3D, MethodSpec
from orfeas_nb.errors import InvalidInput
from orfeas_nb.options import KINDS, QUALITY

pytestmark = pytest.mark.unit

CAT = orfeas_nb.catalogue()
PACKAGE = Path(orfeas_nb.__file__).parent
FACES = [PACKAGE / "cli.py", PACKAGE / "magics.py", *sorted((PACKAGE / "widgets").glob("*.py"))]
ALL_OPTIONS = [(spec.name, opt) for spec in CAT.methods.values()
               for opt in (*spec.options, *spec.options_for(TEXT_TO_3D), *spec.run_options)]


def test_every_method_style_format_and_quality_step_is_listed():
    assert list(CAT.methods) == ["relief", "lithophane", "extrude", "inflate", "depth", "shap-e"]
    assert {name for name, spec in CAT.methods.items() if spec.needs_weights} == {"depth", "shap-e"}
    assert all(spec.tasks == (IMAGE_TO_3D, TEXT_TO_3D) for spec in CAT.methods.values())
    assert [name for name, spec in CAT.methods.items() if spec.reads_prompt] == ["shap-e"]
    assert list(CAT.styles) == ["realistic", "cartoon", "sculpture", "low-poly", "high-contrast"]
    assert all(style.summary for style in CAT.styles.values())
    assert {name: (f.suffix, f.media_type) for name, f in CAT.formats.items()} == {
        "stl": (".stl", "model/stl"), "obj": (".obj", "model/obj"), "glb": (".glb", "model/gltf-binary"),
        "ply": (".ply", "application/octet-stream"), "3mf": (".3mf", "model/3mf")}
    assert [step.quality for step in CAT.quality] == list(range(QUALITY.low, QUALITY.high + 1))
    assert [opt.name for opt in CAT.generation] == ["seed", "steps", "width", "height"]
    assert orfeas_nb.methods() == {name: spec.summary for name, spec in CAT.methods.items()}


def test_the_catalogue_is_built_once_and_cannot_be_changed():
    assert orfeas_nb.catalogue() is CAT
    with pytest.raises(TypeError):
        CAT.methods["magic"] = CAT.methods["relief"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        CAT.methods["relief"].summary = "changed"  # type: ignore[misc]


def test_quality_steps_grow_finer():
    resolutions = [step.resolution for step in CAT.quality]
    errors = [step.max_error_percent for step in CAT.quality]
    assert resolutions == sorted(resolutions) and errors == sorted(errors, reverse=True)


@pytest.mark.parametrize(("method", "option"), ALL_OPTIONS, ids=[f"{m}-{o.name}" for m, o in ALL_OPTIONS])
def test_every_option_is_labelled_and_its_default_is_within_its_range(method, option):
    assert option.kind in KINDS and option.label and option.doc
    assert "_" not in option.label, "a label is for people, not an identifier"
    if option.default is not None:
        assert option.check(option.default) == option.default
    if option.kind in ("int", "float"):
        assert option.low is not None and option.high is not None and option.low < option.high
    if option.kind == "choice":
        assert option.default in option.choices
    if option.name.endswith("_mm"):
        assert option.unit == "mm"


def test_the_shap_e_prompt_default_differs_from_the_picture_default_and_both_are_checked():
    shap_e = CAT.method("shap-e")
    assert shap_e.resolve({}) == {"guidance_scale": 3.0}
    assert shap_e.resolve({}, TEXT_TO_3D) == {"guidance_scale": 15.0}
    assert shap_e.option("steps").high == 500 and CAT.generation_option("steps").high == 200
    assert CAT.prompt_run_options("shap-e") == shap_e.run_options
    assert CAT.prompt_run_options("relief") == (CAT.generation_option("seed"), CAT.generation_option("steps"))
    with pytest.raises(InvalidInput, match="guidance_scale must be between 0.0 and 100.0"):
        shap_e.resolve({"guidance_scale": 101})


def test_unknown_names_list_the_known_ones():
    with pytest.raises(InvalidInput, match="unknown method 'magic'; choose one of: relief, lithophane, .*shap-e"):
        CAT.method("magic")
    with pytest.raises(InvalidInput, match="unknown style 'baroque'; choose one of: realistic, cartoon"):
        CAT.style("baroque")
    with pytest.raises(InvalidInput, match="method 'relief' has no option colour; its options are: height_mm"):
        CAT.method("relief").resolve({"colour": "red"})


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([(m, o) for m, o in ALL_OPTIONS if o.kind in ("int", "float")]), st.floats(-1e6, 1e6))
def test_resolve_accepts_exactly_the_declared_range(pair, value):
    _method, option = pair
    value = round(value) if option.kind == "int" else value
    inside = option.low <= value <= option.high and not (option.multiple_of and value % option.multiple_of)
    if inside:
        assert option.check(value) == value
    else:
        with pytest.raises(InvalidInput, match=option.name):
            option.check(value)


def test_to_dict_is_json_and_round_trips():
    data = CAT.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert list(data["methods"]) == list(CAT.methods)
    relief = data["methods"]["relief"]["options"][0]
    assert relief == {"name": "height_mm", "label": "Relief height", "kind": "float", "default": 5.0, "low": 0.1,
                      "high": 500.0, "choices": None, "multiple_of": None, "unit": "mm",
                      "doc": "relief depth above the base, in mm"}
    assert data["formats"]["glb"]["media_type"] == "model/gltf-binary"
    assert data["quality"][6] == {"quality": 7, "resolution": 400, "max_error_percent": 0.05}
    assert {o["name"]: (o["low"], o["high"]) for o in data["common"]} == {"quality": (1, 10), "size_mm": (1.0, 2000.0)}
    width = next(o for o in data["generation"] if o["name"] == "width")
    assert (width["low"], width["high"], width["multiple_of"], width["unit"]) == (64, 2048, 8, "px")


def test_common_options_follow_the_limits_in_force(monkeypatch):
    monkeypatch.setenv("ORFEAS_MAX_SIZE_MM", "300")
    assert orfeas_nb.catalogue().common[1].high == 300.0


def test_catalogue_is_callable_even_after_its_module_is_imported():
    code = ("import orfeas_nb.catalogue, orfeas_nb, sys; cat = orfeas_nb.catalogue(); "
            "print(type(cat).__name__, 'torch' in sys.modules, 'ipywidgets' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["Catalogue", "False", "False"]


# -- the faces read the catalogue -----------------------------------------------------------------


def _param(command: str, name: str) -> click.Parameter:
    from orfeas_nb.cli import cli

    return next(p for p in cli.commands[command].params if p.name == name)


@pytest.mark.parametrize("command", ["image-to-3d", "text-to-3d"])
def test_cli_method_choices_are_the_catalogues(command, cli):
    assert _param(command, "method").type.choices == tuple(CAT.methods)
    help_text = cli(command, "--help").stdout
    assert "[relief|lithophane|extrude|inflate|depth|shap-e]" in help_text
    assert "(stl, obj, glb, ply, 3mf)" in " ".join(help_text.split())


@pytest.mark.parametrize("command", ["text-to-image", "text-to-3d"])
def test_cli_style_choices_are_the_catalogues(command, cli):
    assert _param(command, "style").type.choices == tuple(CAT.styles)
    result = cli(command, "an owl", "-o", "x.png", "--style", "baroque")
    assert result.exit_code == 2
    assert result.stderr == "error: unknown style 'baroque'; choose one of: realistic, cartoon, sculpture, low-poly, " \
                            "high-contrast\n"


def test_cli_help_shows_the_catalogues_ranges(cli):
    text_to_image = " ".join(cli("text-to-image", "--help").stdout.split())
    assert "1–200" in text_to_image and "64–2048 px" in text_to_image
    text_to_3d = " ".join(cli("text-to-3d", "--help").stdout.split())
    assert "shap-e 1–500" in text_to_3d and "text→image 1–200" in text_to_3d
    assert "detail, 1–10" in " ".join(cli("image-to-3d", "--help").stdout.split())


def test_orfeas_methods_lists_every_method_and_option_with_its_range(cli):
    result = cli("methods")
    assert result.exit_code == 0
    headers = [line.split(":")[0] for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert headers == list(CAT.methods)
    for spec in CAT.methods.values():
        for opt in (*spec.options, *spec.run_options):
            assert re.search(rf"^    {re.escape(opt.name)}=", result.stdout, re.M)
    assert "    steps=64 [1–500]" in result.stdout


def test_studio_controls_are_bounded_and_labelled_by_the_catalogue():
    from orfeas_nb.widgets import Studio

    studio = Studio(method="lithophane")
    try:
        panel = studio.parameters
        assert list(panel.method.options) == list(CAT.methods)
        quality, size = CAT.common
        assert (panel.quality.min, panel.quality.max) == (quality.low, quality.high)
        assert (panel.size_mm.min, panel.size_mm.max) == (size.low, size.high)
        for opt in CAT.method("lithophane").options:
            control = panel.option_widgets[opt.name]
            assert control.description == (f"{opt.label} ({opt.unit})" if opt.unit else opt.label)
            assert control.tooltip == opt.doc
            if opt.kind in ("int", "float"):
                assert (control.min, control.max) == (opt.low, opt.high)
        assert panel.option_widgets["angle_deg"].description == "Arc (°)"
        assert list(studio.prompt.style_choice.options) == list(CAT.styles)
    finally:
        studio.close()


def test_studio_steps_follow_the_chosen_method():
    from orfeas_nb.widgets import Studio

    studio = Studio(method="relief")
    try:
        studio.prompt.prompt.set_state({"value": "an owl"})
        studio.prompt.steps.set_state({"value": "300"})
        with pytest.raises(InvalidInput, match="steps must be between 1 and 200"):
            studio.prompt.values()
        studio.parameters.method.set_state({"index": list(CAT.methods).index("shap-e")})
        assert studio.prompt.values()["steps"] == 300, "Shap-E takes up to 500 steps"
        studio.prompt.steps.set_state({"value": "501"})
        with pytest.raises(InvalidInput, match="steps must be between 1 and 500"):
            studio.prompt.values()
    finally:
        studio.close()


def test_studio_shows_the_prompt_defaults_on_the_prompt_tab():
    from orfeas_nb.widgets import Studio
    from orfeas_nb.widgets.studio import IMAGE_TAB, PROMPT_TAB

    studio = Studio(method="shap-e")
    try:
        guidance = studio.parameters.option_widgets["guidance_scale"]
        assert guidance.value == 3.0 and guidance.description == "Guidance"
        studio.source.set_state({"selected_index": PROMPT_TAB})
        assert studio.parameters.option_widgets["guidance_scale"].value == 15.0
        studio.source.set_state({"selected_index": IMAGE_TAB})
        assert studio.parameters.option_widgets["guidance_scale"].value == 3.0
        studio.parameters.method.set_state({"index": 0})
        kept = studio.parameters.option_widgets["height_mm"]
        studio.source.set_state({"selected_index": PROMPT_TAB})
        assert studio.parameters.option_widgets["height_mm"] is kept, "same options: the controls stay as set"
    finally:
        studio.close()


def test_no_face_keeps_its_own_list_or_range():
    joined = [", ".join(CAT.methods), ", ".join(CAT.styles), ", ".join(CAT.formats), "|".join(CAT.formats)]
    for path in FACES:
        source = path.read_text()
        for text in joined:
            assert text not in source, f"{path.name} lists {text!r} itself"
        for name in ("METHODS", "LEARNED", "STYLES", "EXPORTERS", "MIME_TYPES", "2**63", "MAX_STEPS"):
            assert not re.search(rf"\b{re.escape(name)}", source), f"{path.name} uses {name} instead of the catalogue"


def test_quality_tables_match_the_quality_range():
    from orfeas_nb.pipeline import shap_e

    assert len(shap_e.GRID) == len(CAT.quality) == QUALITY.high - QUALITY.low + 1
    assert math.isclose(CAT.quality[-1].max_error_percent, 0.01)


def test_method_spec_is_the_public_type():
    assert all(isinstance(spec, MethodSpec) for spec in CAT.methods.values())
