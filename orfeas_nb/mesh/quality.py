"""The ``quality`` scale (1–10): height-field resolution and the error bound of the triangulation.

========  ==================  =====================
quality   samples, long side  max error (% of size)
========  ==================  =====================
1         64                  0.40
2         96                  0.30
3         128                 0.20
4         192                 0.15
5         256                 0.10
6         320                 0.075
7         400                 0.05
8         512                 0.035
9         768                 0.02
10        1024                0.01
========  ==================  =====================

The sample count is further capped by the image's own size and by ``ORFEAS_MAX_GRID``. How each
method uses the two numbers:

- ``relief`` and flat ``lithophane``: the picture is resampled to the samples above; with
  ``triangulation=adaptive`` (the default) pydelatin keeps only the triangles needed so that no
  sample is further than the max error from the surface (the achieved error is in the manifest);
  ``triangulation=grid`` keeps every sample (two triangles per cell). A curved lithophane always uses
  the grid, since a large flat triangle would cut the chord of the arc.
- ``extrude`` and ``inflate``: the mask is traced at the samples above and its outline simplified to
  the max error (or ``tolerance_mm``); ``inflate`` meshes the inside with edges of about two samples.

For a 100 mm model at quality 7: 400 samples (0.25 mm pitch) and 0.05 mm error.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import config


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


def level(quality: int, size_mm: float, image_long_side: int | None = None) -> QualityLevel:
    """Resolve a quality step into a grid resolution and an error bound in millimetres.

    >>> level(5, 100.0).resolution, level(5, 100.0).max_error_mm
    (256, 0.1)
    """
    step = STEPS[quality - 1]
    resolution = min(step.resolution, config.get("max_grid"))
    if image_long_side is not None:
        resolution = min(resolution, max(image_long_side, 2))
    return QualityLevel(quality, max(resolution, 2), size_mm * step.max_error_percent / 100.0)
