"""The export panel: pick a format, write the full mesh to the output folder, offer a browser download.

A file inside the Jupyter workspace (under the kernel's working folder) is offered as a relative link
with a ``download`` attribute, which JupyterLab turns into a ``/files/…`` download; only small files
outside the workspace are inlined as a data URI.
"""

from __future__ import annotations

import base64
import html
import os
import re
import urllib.parse
from pathlib import Path

import ipywidgets as widgets

from .. import config
from ..catalogue import catalogue
from ..errors import InvalidInput, OrfeasError
from .panels import message_html

DATA_URI_MAX_BYTES = 2 * 1024 * 1024
_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def safe_stem(name: str) -> str:
    """A file stem of letters, digits, ``.``, ``_`` and ``-`` (never a path), or :class:`InvalidInput`.

    >>> safe_stem("owl_v2")
    'owl_v2'
    """
    stem = name.strip()
    if not _STEM.match(stem) or ".." in stem:
        raise InvalidInput(
            f"file name {name!r} is not allowed: use up to 100 letters, digits, '.', '_' or '-', no folders"
        )
    return stem


def download_html(path: Path) -> str:
    """An HTML link that makes the browser download ``path`` (see the module docstring for how)."""
    path = Path(path).resolve()
    size = path.stat().st_size
    amount = f"{size / 1e6:.2f} MB" if size >= 10**5 else f"{size:,} bytes"
    label = html.escape(f"Download {path.name} ({amount})")
    name = html.escape(path.name, quote=True)
    try:
        relative = path.relative_to(Path.cwd().resolve())
    except ValueError:
        relative = None
    if relative is not None:
        href = urllib.parse.quote(relative.as_posix())
        return f'<a href="{href}" download="{name}" class="orfeas-download">{label}</a>'
    if size <= DATA_URI_MAX_BYTES:
        spec = catalogue().formats.get(path.suffix.lstrip(".").lower())
        mime = spec.media_type if spec is not None else "application/octet-stream"
        payload = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'<a href="data:{mime};base64,{payload}" download="{name}" class="orfeas-download">{label}</a>'
    return message_html(
        f"saved to {path}: it is outside the Jupyter workspace and too large to send inline; open it from "
        "a terminal, or set ORFEAS_OUTPUT_DIR to a folder under this notebook's folder"
    )


class ExportPanel(widgets.VBox):
    """Format choice, file name, Save button, and the download link of the last file written.

    ``model`` is set by the Studio when a model is ready; ``last_path`` is the last file written.
    """

    def __init__(self):
        self.model = None
        self.last_path: Path | None = None
        self.format = widgets.Dropdown(options=list(catalogue().formats), value="stl", description="Format")
        self.name = widgets.Text(value="model", description="File name")
        self.save_button = widgets.Button(description="Save", icon="download", disabled=True,
                                          tooltip="write the full-resolution mesh and offer a download")
        self.save_button.add_class("orfeas-save")
        self.save_button.on_click(lambda _: self.save())
        self.link = widgets.Output()
        self.link.add_class("orfeas-download-area")
        super().__init__([widgets.HBox([self.format, self.name, self.save_button]), self.link])
        self.add_class("orfeas-export")

    def set_model(self, model, stem: str) -> None:
        """Offer ``model`` for export under the suggested file ``stem``."""
        self.model = model
        self.name.value = stem
        self.save_button.disabled = False
        self._show(message_html(f"ready to save as {stem}.{self.format.value}"))

    def _show(self, markup: str) -> None:
        self.link.outputs = ({"output_type": "display_data", "data": {"text/html": markup, "text/plain": markup},
                              "metadata": {}},)

    def save(self) -> Path | None:
        """Write the model in the chosen format to ``$ORFEAS_OUTPUT_DIR/studio`` and show a download link.

        Errors are shown in the panel; returns the path written, or None.
        """
        try:
            if self.model is None:
                raise InvalidInput("nothing to save yet: generate a model first")
            target = config.output_dir() / "studio" / f"{safe_stem(self.name.value)}.{self.format.value}"
            if os.path.lexists(target) and target.is_dir():
                raise InvalidInput(f"{target} is a folder; choose another file name")
            path = self.model.export(target)
        except OrfeasError as exc:
            self._show(message_html(str(exc), error=True))
            return None
        self.last_path = path
        self._show(download_html(path))
        return path
