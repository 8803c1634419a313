"""The Studio's panels: thin widget models that hold UI state and check it; no generation happens here.

Each panel is an ``ipywidgets.VBox`` with its controls as attributes and a ``values()`` method that
returns checked plain data (raising :class:`~orfeas_nb.errors.InvalidInput` with a message to show).
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import traitlets
from PIL import Image

from ..catalogue import IMAGE_TO_3D, MethodSpec, catalogue
from ..errors import InvalidInput, OrfeasError
from ..options import QUALITY, Option, size_option
from ..validation import LoadedImage, load_image, validate_prompt

THUMBNAIL_PX = 160
_WIDE = {"description_width": "110px"}


def message_html(text: str, *, error: bool = False) -> str:
    """Escaped text for an inline message; errors in red."""
    colour = "#b00020" if error else "#444"
    prefix = "⚠ " if error else ""
    return f'<span style="color:{colour}">{prefix}{html.escape(text)}</span>'


class PromptPanel(widgets.VBox):
    """Prompt, style, seed, steps and negative prompt for text → image → 3D.

    ``run_options`` are the seed and steps :class:`Option` values that bound the fields (default: the
    catalogue's text→image ones); :meth:`set_run_options` swaps them when the method changes.
    """

    def __init__(self, styles: Sequence[str], run_options: tuple[Option, ...] | None = None):
        self.prompt = widgets.Textarea(placeholder="a small ceramic owl", description="Prompt", style=_WIDE,
                                       layout=widgets.Layout(width="95%"))
        self.style_choice = widgets.Dropdown(options=styles, value=styles[0], description="Style", style=_WIDE)
        self.seed = widgets.Text(placeholder="random", description="Seed", style=_WIDE)
        self.steps = widgets.Text(placeholder="model default", description="Steps", style=_WIDE)
        self.negative_prompt = widgets.Text(placeholder="style default", description="Avoid", style=_WIDE,
                                            layout=widgets.Layout(width="95%"))
        super().__init__([self.prompt, self.style_choice, self.seed, self.steps, self.negative_prompt])
        self.add_class("orfeas-prompt")
        self.run_options: dict[str, Option] = {}
        self.set_run_options(run_options or catalogue().prompt_run_options())

    def set_run_options(self, run_options: tuple[Option, ...]) -> None:
        """Bound the seed and steps fields by these options (tooltips and placeholders follow)."""
        self.run_options = {opt.name: opt for opt in run_options if opt.name in ("seed", "steps")}
        for name, field in (("seed", self.seed), ("steps", self.steps)):
            opt = self.run_options[name]
            field.tooltip = f"{opt.doc} ({opt.low}–{opt.high})"
            if name == "steps":
                field.placeholder = "model default" if opt.default is None else f"default {opt.default}"

    def _whole(self, name: str, text: str) -> int | None:
        opt = self.run_options[name]
        text = text.strip()
        if not text:
            return None
        try:
            value = int(text)
        except ValueError:
            raise InvalidInput(f"{name} must be a whole number between {opt.low} and {opt.high}, got {text!r}") from None
        return opt.check(value)

    def values(self) -> dict:
        """The checked prompt settings: prompt, style, seed (None = random), steps, negative_prompt."""
        negative = self.negative_prompt.value.strip()
        return {
            "prompt": validate_prompt(self.prompt.value),
            "style": self.style_choice.value,
            "seed": self._whole("seed", self.seed.value),
            "steps": self._whole("steps", self.steps.value),
            "negative_prompt": negative or None,
        }


class UploadPanel(widgets.VBox):
    """An image upload, checked by the core validation, with a thumbnail and inline errors.

    ``loaded`` is the checked image (or None), ``data`` its bytes and ``error`` the last problem.
    The client's file name is shown, never used as a path.
    """

    loaded = traitlets.Instance(LoadedImage, allow_none=True)
    error = traitlets.Unicode("")

    def __init__(self):
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="Upload image")
        self.upload.add_class("orfeas-upload")
        self.thumbnail = widgets.Image(format="png", layout=widgets.Layout(max_width=f"{THUMBNAIL_PX}px"))
        self.thumbnail.add_class("orfeas-thumbnail")
        self.message = widgets.HTML(message_html("PNG, JPEG, WebP, BMP, TIFF or GIF"))
        self.data: bytes | None = None
        super().__init__([self.upload, self.thumbnail, self.message])
        self.add_class("orfeas-upload-panel")
        self.upload.observe(self._on_upload, names="value")

    def _on_upload(self, change: dict) -> None:
        files = change["new"]
        if not files:
            return
        item = files[-1]
        name = str(item.get("name", "image"))
        data = bytes(item["content"])
        try:
            loaded = load_image(data)
        except OrfeasError as exc:
            self.data, self.loaded, self.error = None, None, f"{name}: {exc}"
            self.thumbnail.value = b""
            self.message.value = message_html(self.error, error=True)
            return
        self.data, self.loaded, self.error = data, loaded, ""
        self.thumbnail.value = thumbnail_png(loaded.image)
        width, height = loaded.size
        self.message.value = message_html(f"{name}: {loaded.format} {width}×{height}")

    def values(self) -> dict:
        """The checked upload: ``{"image": bytes}``; raises if nothing valid was uploaded."""
        if self.data is None:
            raise InvalidInput(self.error or "no image yet: upload a picture first (or write a prompt)")
        return {"image": self.data}


def thumbnail_png(image: Image.Image, size: int = THUMBNAIL_PX) -> bytes:
    """A PNG no larger than ``size`` pixels on its longest side."""
    small = image.copy()
    small.thumbnail((size, size))
    buffer = io.BytesIO()
    small.save(buffer, format="PNG")
    return buffer.getvalue()


def option_label(option: Option) -> str:
    """The label a control shows: the option's human label and its unit, e.g. "Relief height (mm)"."""
    return f"{option.label} ({option.unit})" if option.unit else option.label


def option_widget(option: Option) -> widgets.ValueWidget:
    """The control for one declared method option: bounded by its range or choices, labelled, with its help as tooltip."""
    common = {"description": option_label(option), "tooltip": option.doc, "style": _WIDE}
    if isinstance(option.default, bool):
        return widgets.Checkbox(value=option.default, indent=False, **common)
    if option.choices is not None:
        return widgets.Dropdown(options=option.choices, value=option.default, **common)
    if isinstance(option.default, int):
        return widgets.BoundedIntText(value=option.default, min=option.low, max=option.high, **common)
    return widgets.BoundedFloatText(value=option.default, min=option.low, max=option.high, step=0.1, **common)


class ParametersPanel(widgets.VBox):
    """Method, quality, size in mm, and the chosen method's own options (rebuilt when the method changes).

    ``methods`` are the catalogue's method specs (the default: all of them); quality and size are bounded
    by the catalogue's common options.
    """

    def __init__(self, methods: Mapping[str, MethodSpec] | None = None, *, quality: int = 7, size_mm: float = 100.0):
        self._methods = methods or catalogue().methods
        self.method = widgets.Dropdown(options=list(self._methods), value=next(iter(self._methods)),
                                       description="Method", style=_WIDE)
        self.summary = widgets.HTML()
        size = size_option()
        self.quality = widgets.IntSlider(value=quality, min=QUALITY.low, max=QUALITY.high, description=option_label(QUALITY),
                                         tooltip=QUALITY.doc, style=_WIDE)
        self.size_mm = widgets.BoundedFloatText(value=size_mm, min=size.low, max=size.high, description=option_label(size),
                                                tooltip=size.doc, style=_WIDE)
        self.options_box = widgets.VBox()
        self.option_widgets: dict[str, widgets.ValueWidget] = {}
        super().__init__([self.method, self.summary, self.quality, self.size_mm, self.options_box])
        self.add_class("orfeas-parameters")
        self.task = IMAGE_TO_3D
        self.method.observe(lambda change: self._show_options(change["new"]), names="value")
        self._show_options(self.method.value)

    def set_task(self, task: str) -> None:
        """Show the options of ``task`` (``image_to_3d`` or ``text_to_3d``); rebuilt only where they differ."""
        spec = self._methods[self.method.value]
        changed = spec.options_for(task) != spec.options_for(self.task)
        self.task = task
        if changed:
            self._show_options(self.method.value)

    def _show_options(self, method: str) -> None:
        spec = self._methods[method]
        self.summary.value = message_html(spec.summary)
        self.option_widgets = {opt.name: option_widget(opt) for opt in spec.options_for(self.task)}
        self.options_box.children = tuple(self.option_widgets.values())

    def values(self) -> dict:
        """``method``, ``quality``, ``size_mm`` and ``options`` (name → value) as the api takes them."""
        return {
            "method": self.method.value,
            "quality": int(self.quality.value),
            "size_mm": float(self.size_mm.value),
            "options": {name: w.value for name, w in self.option_widgets.items()},
        }


class ProgressPanel(widgets.VBox):
    """A progress bar, a status line (errors inline) and a Cancel button."""

    def __init__(self):
        self.bar = widgets.IntProgress(value=0, min=0, max=100, description="Progress", style=_WIDE)
        self.status = widgets.HTML(message_html("ready"))
        self.status.add_class("orfeas-status")
        self.cancel = widgets.Button(description="Cancel", icon="stop", disabled=True, tooltip="stop the running job")
        self.cancel.add_class("orfeas-cancel")
        super().__init__([widgets.HBox([self.bar, self.cancel]), self.status])
        self.add_class("orfeas-progress")

    def show(self, fraction: float, text: str, *, error: bool = False) -> None:
        """Set the bar (0–1) and the status line."""
        self.bar.value = round(100 * min(1.0, max(0.0, fraction)))
        self.bar.bar_style = "danger" if error else ("success" if fraction >= 1 else "info")
        self.status.value = message_html(text, error=error)
