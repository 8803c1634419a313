"""The ``quality`` scale (1–10): how much of what the printer can do.

Each step names a height-field resolution and an error bound. With ``printer="exact"`` they apply as
they stand (samples on the long side, error as a % of the size). With a printer the samples are
capped at one per feature (nozzle or pixel) across the model, and the error bound is half a layer at
every quality (lower qualities differ by their samples). For a 100 mm model:

========  ==================  ===========================  =========================  =========================
quality   table: samples,     ``exact``: samples,          ``fdm`` (0.4 mm nozzle,    ``resin`` (0.05 mm,
          max error % size    pitch, error                 0.1 mm layers)             0.025 mm layers)
========  ==================  ===========================  =========================  =========================
1         64, 0.40 %          64, 1.59 mm, 0.40 mm         64, 1.59 mm, 0.05 mm       64, 1.59 mm, 0.0125 mm
2         96, 0.30 %          96, 1.05 mm, 0.30 mm         96, 1.05 mm, 0.05 mm       96, 1.05 mm, 0.0125 mm
3         128, 0.20 %         128, 0.79 mm, 0.20 mm        128, 0.79 mm, 0.05 mm      128, 0.79 mm, 0.0125 mm
4         192, 0.15 %         192, 0.52 mm, 0.15 mm        192, 0.52 mm, 0.05 mm      192, 0.52 mm, 0.0125 mm
5         256, 0.10 %         256, 0.39 mm, 0.10 mm        251, 0.40 mm, 0.05 mm      256, 0.39 mm, 0.0125 mm
6         320, 0.075 %        320, 0.31 mm, 0.075 mm       251, 0.40 mm, 0.05 mm      320, 0.31 mm, 0.0125 mm
7         400, 0.05 %         400, 0.25 mm, 0.05 mm        251, 0.40 mm, 0.05 mm      400, 0.25 mm, 0.0125 mm
8         512, 0.035 %        512, 0.20 mm, 0.035 mm       251, 0.40 mm, 0.05 mm      512, 0.20 mm, 0.0125 mm
9         768, 0.02 %         768, 0.13 mm, 0.02 mm        251, 0.40 mm, 0.05 mm      768, 0.13 mm, 0.0125 mm
10        1024, 0.01 %        1024, 0.10 mm, 0.01 mm       251, 0.40 mm, 0.05 mm      1024, 0.10 mm, 0.0125 mm
========  ==================  ===========================  =========================  =========================

An FDM printer draws nothing finer than its 0.4 mm nozzle, so on a 100 mm model qualities 7–10 are
one model (bigger models use more samples: 501 at 200 mm); a resin printer's 0.05 mm pixel would
allow 2001 samples, more than the table's. The sample count is further capped by the image's own
size and by ``ORFEAS_MAX_GRID``. How each method uses the two numbers:

- ``relief`` and flat ``lithophane``: the picture is low-passed at the printer's feature
  (:mod:`orfeas_nb.mesh.printer`) and resampled to the samples above; with ``triangulation=adaptive``
  (the default) pydelatin keeps only the triangles needed so that no sample is further than the max
  error from the surface, where that is predicted to be no slower than the dense grid (else the
  grid); ``triangulation=grid`` keeps every sample (two triangles per cell). The manifest has the
  achieved error against the filtered surface and against the picture. A curved lithophane always
  uses the grid, since a large flat triangle would cut the chord of the arc.
- ``extrude`` and ``inflate``: the mask is traced at the samples above and its outline simplified to
  the max error (with a printer: half a feature; or ``tolerance_mm``); ``inflate`` meshes the
  inside with edges of about two samples.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import config
from .printer import EXACT, Printer


@dataclass(frozen=True)
class QualityStep:
    """One step of the scale: samples along the long side and the error bound as a % of the size."""

    quality: int
    resolution: int
    max_error_percent: float


STEPS: tuple[QualityStep, ...] = tuple(
    QualityStep(quality, resolution, error)
    for quality, (resolution, error) in enumerate(
        zip((64, 96, 128, 192, 256, 320, 400, 512, 768, 1024), (0.40, 0.30, 0.20, 0.15, 0.10, 0.075, 0.05, 0.035, 0.02, 0.01),
            strict=True),
        start=1,
    )
)


@dataclass(frozen=True)
class QualityLevel:
    """What one quality step means for a model whose longest side is ``size_mm``."""

    quality: int
    resolution: int
    max_error_mm: float
    printer: Printer = EXACT
    #: the samples ``exact`` would use at this quality (the dense grid the printer's choice is weighed against)
    dense_resolution: int = 0

    @property
    def outline_tolerance_mm(self) -> float:
        """How far a simplified outline may stray: the quality's error, or for a printer half its feature."""
        return self.max_error_mm if self.printer.exact else self.printer.outline_tolerance_mm


def level(quality: int, size_mm: float, image_long_side: int | None = None, printer: Printer = EXACT) -> QualityLevel:
    """Resolve a quality step into a grid resolution and an error bound in millimetres, for ``printer``
    (default ``exact``: the table as it stands).

    A printer caps the resolution at one sample per feature across ``size_mm``; its error bound is half
    a layer at every quality.

    >>> level(5, 100.0).resolution, level(5, 100.0).max_error_mm
    (256, 0.1)
    >>> from orfeas_nb.mesh.printer import PRINTERS
    >>> fdm = level(10, 100.0, printer=PRINTERS["fdm"])
    >>> fdm.resolution, fdm.max_error_mm, fdm.dense_resolution
    (251, 0.05, 1024)
    """
    step = STEPS[quality - 1]
    resolution = min(step.resolution, config.get("max_grid"))
    if image_long_side is not None:
        resolution = min(resolution, max(image_long_side, 2))
    dense = max(resolution, 2)
    if printer.exact:
        return QualityLevel(quality, dense, size_mm * step.max_error_percent / 100.0, printer, dense)
    per_feature = int(size_mm / printer.feature_mm + 1e-9) + 1
    return QualityLevel(quality, max(min(dense, per_feature), 2), printer.max_error_mm, printer, dense)
