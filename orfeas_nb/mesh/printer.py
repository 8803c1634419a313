"""Printers: the detail a model keeps is what its printer can reproduce.

A printer has a smallest feature across the surface (an FDM nozzle's width, a resin printer's pixel)
and a layer height. A model made for it keeps no finer detail than that:

- the height field is low-passed at the feature size (a Gaussian of sigma half a feature: detail
  narrower than the nozzle is flattened, detail a few nozzles wide is kept) and resampled no finer
  than one sample per feature;
- its vertical error bound is half a layer, so every step of one layer or more survives;
- outlines (``extrude``, ``inflate``) are simplified to half a feature and sampled no finer than one.

``exact`` is no printer: every sample of the picture is kept, as far as ``quality`` asks.

>>> PRINTERS["fdm"].feature_mm, PRINTERS["fdm"].max_error_mm
(0.4, 0.05)
>>> printer_from({"printer": "fdm", "nozzle_mm": 0.6, "layer_mm": 0.0}).describe()
'fdm (0.6 mm nozzle, 0.1 mm layers)'
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

from ..errors import InvalidInput
from .options import Option


@dataclass(frozen=True)
class Printer:
    """A printer's smallest feature across the surface and its layer height, in mm (None: ``exact``)."""

    name: str
    summary: str
    nozzle_mm: float | None = None
    layer_mm: float | None = None

    @property
    def exact(self) -> bool:
        """True for ``exact``: no low-pass, no resolution cap, the quality's own error bound."""
        return self.nozzle_mm is None

    @property
    def feature_mm(self) -> float | None:
        """The smallest feature kept across the surface: the nozzle's (or pixel's) width."""
        return self.nozzle_mm

    @property
    def max_error_mm(self) -> float | None:
        """The vertical error bound: half a layer."""
        return None if self.layer_mm is None else self.layer_mm / 2

    @property
    def outline_tolerance_mm(self) -> float | None:
        """How far a simplified outline may stray: half a feature."""
        return None if self.nozzle_mm is None else self.nozzle_mm / 2

    def describe(self) -> str:
        """One phrase: ``fdm (0.4 mm nozzle, 0.1 mm layers)``."""
        if self.exact:
            return f"{self.name} (every sample kept)"
        what = "pixels" if self.name == "resin" else "nozzle"
        return f"{self.name} ({self.nozzle_mm:g} mm {what}, {self.layer_mm:g} mm layers)"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the manifest (the catalogue adds the summary)."""
        return {"name": self.name, "nozzle_mm": self.nozzle_mm, "layer_mm": self.layer_mm}


PRINTERS: dict[str, Printer] = {
    p.name: p
    for p in (
        Printer("fdm", "filament printer: 0.4 mm nozzle, 0.1 mm layers", 0.4, 0.1),
        Printer("resin", "resin (MSLA) printer: 0.05 mm pixels, 0.025 mm layers", 0.05, 0.025),
        Printer("exact", "no printer: keep every sample of the picture (largest files, slowest slicing)"),
    )
}

EXACT = PRINTERS["exact"]

OPTIONS = (
    Option("printer", "fdm", "the printer the model is made for: fdm (0.4 mm nozzle, 0.1 mm layers), resin "
           "(0.05 mm pixels, 0.025 mm layers) or exact (keep every sample); detail it cannot print is dropped",
           choices=tuple(PRINTERS), label="Printer"),
    Option("nozzle_mm", 0.0, "the printer's smallest feature (nozzle or pixel width), in mm (0 = the printer's own)",
           low=0.0, high=5.0, unit="mm", label="Nozzle"),
    Option("layer_mm", 0.0, "the printer's layer height, in mm (0 = the printer's own)", low=0.0, high=2.0, unit="mm",
           label="Layer"),
)


def printer_from(options: dict[str, Any]) -> Printer:
    """The printer named by resolved options, with ``nozzle_mm`` / ``layer_mm`` overriding its numbers."""
    printer = PRINTERS[options.get("printer", "fdm")]
    nozzle, layer = options.get("nozzle_mm") or 0.0, options.get("layer_mm") or 0.0
    if not nozzle and not layer:
        return printer
    if printer.exact:
        raise InvalidInput("printer=exact keeps every sample and takes no nozzle_mm or layer_mm; "
                           "use printer=fdm or printer=resin with them")
    return replace(printer, nozzle_mm=nozzle or printer.nozzle_mm, layer_mm=layer or printer.layer_mm)


def low_pass(field: np.ndarray, feature_mm: float | None, pixel_mm: float) -> np.ndarray:
    """``field`` (one value per picture pixel of ``pixel_mm``) smoothed by a Gaussian of sigma half a
    feature: a grating of period one feature keeps under 1 % of its amplitude, one of four features
    about three quarters. Unchanged for ``exact`` or when the pixels are already coarser than that.

    Pictures much finer than the feature are first averaged down to four pixels per feature (the
    result then has fewer pixels over the same extent), so the cost stays that of a small blur.

    >>> bumps = np.tile([0.0, 1.0], (4, 32))  # ridges 0.1 mm wide, a quarter of a 0.4 mm nozzle
    >>> float(np.ptp(low_pass(bumps, 0.4, 0.1)[:, 16:-16])) < 0.01
    True
    """
    if feature_mm is None:
        return field
    field = np.asarray(field, dtype=np.float32)
    shrink = feature_mm / 4 / pixel_mm
    if shrink >= 2:
        rows, columns = field.shape
        size = (max(2, round((columns - 1) / shrink) + 1), max(2, round((rows - 1) / shrink) + 1))
        field = np.asarray(Image.fromarray(field, "F").resize(size, Image.Resampling.BOX), dtype=np.float32)
        pixel_mm *= (max(rows, columns) - 1) / (max(size) - 1)
    sigma = feature_mm / 2 / pixel_mm
    if sigma < 0.25:  # a fraction of a pixel: nothing finer than the feature is there to remove
        return field
    return ndimage.gaussian_filter(field, sigma, mode="nearest")


def summary_line(info: dict[str, Any]) -> str | None:
    """The one line ``report()`` prints about the printer, from a manifest (None where there is none).

    >>> summary_line({"printer": {"name": "fdm", "nozzle_mm": 0.4, "layer_mm": 0.1}, "feature_mm": 0.4,
    ...               "achieved_max_error_mm": 0.048, "error_vs_picture_mm": 1.912})
    'printer: fdm (0.4 mm nozzle, 0.1 mm layers): features ≥ 0.4 mm kept; off by ≤ 0.048 mm from the filtered...'
    """
    record = info.get("printer")
    if not isinstance(record, dict) or record.get("name") not in PRINTERS:
        return None
    printer = replace(PRINTERS[record["name"]], nozzle_mm=record.get("nozzle_mm"), layer_mm=record.get("layer_mm"))
    achieved, picture = info.get("achieved_max_error_mm"), info.get("error_vs_picture_mm")
    if printer.exact:
        line = f"printer: {printer.describe()}"
        return line if picture is None else f"{line}; off by ≤ {picture:.3g} mm from the picture"
    line = f"printer: {printer.describe()}: features ≥ {printer.feature_mm:g} mm kept"
    if achieved is not None:
        line += f"; off by ≤ {achieved:.3g} mm from the filtered shape"
        if picture is not None:
            line += f", {picture:.3g} mm from the picture"
    return line
