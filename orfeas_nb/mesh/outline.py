"""Silhouettes: the foreground mask of a picture and its outline as shapely polygons with holes.

Used by ``extrude`` and ``inflate``. The mask comes from the alpha channel, or from a plain
background: Otsu's threshold on luminance (the side the border falls on is background) or the
distance from the border's median colour. Specks and pin holes are removed before tracing.
"""

from __future__ import annotations

import numpy as np
import shapely
from PIL import Image
from scipy import ndimage
from shapely import STRtree
from shapely.geometry import MultiPolygon, Polygon
from skimage import filters, measure, morphology

from ..errors import InvalidInput
from . import images
from .options import Option
from .quality import QualityLevel

OPTIONS = (
    Option(
        "mask",
        "auto",
        "foreground from: alpha, otsu (luminance threshold), border (distance from the border colour), "
        "or auto (alpha when the image has transparency, else otsu)",
        choices=("auto", "alpha", "otsu", "border"),
        label="Foreground",
    ),
    Option("speck_percent", 0.05, "islands and holes smaller than this % of the picture are removed", low=0.0, high=10.0,
           unit="%", label="Speck size"),
    Option("tolerance_mm", 0.0, "outline simplification tolerance in mm (0 = the quality's error bound)", low=0.0, high=10.0,
           unit="mm", label="Outline tolerance"),
)


def _border(values: np.ndarray) -> np.ndarray:
    return np.concatenate([values[0], values[-1], values[1:-1, 0], values[1:-1, -1]])


def _threshold(values: np.ndarray, what: str) -> float:
    if float(values.max() - values.min()) < 1e-3:
        raise InvalidInput(f"the picture is one flat {what}: there is no foreground to trace; use a picture with a subject")
    return float(filters.threshold_otsu(values))


def foreground(image: Image.Image, mode: str = "auto", speck_percent: float = 0.05) -> np.ndarray:
    """Boolean mask (rows, columns) of the subject, cleaned of specks and pin holes.

    >>> import numpy as np; from PIL import Image
    >>> disk = np.zeros((40, 40), np.uint8); disk[10:30, 10:30] = 255
    >>> int(foreground(Image.fromarray(disk)).sum())
    400
    """
    alpha = images.alpha(image)
    has_transparency = alpha is not None and bool((alpha < 0.5).any())
    if mode == "alpha" and alpha is None:
        raise InvalidInput("mask=alpha needs an image with an alpha channel (a PNG with transparency); try mask=otsu")
    if mode == "alpha" or (mode == "auto" and has_transparency):
        mask = alpha > 0.5
    elif mode == "border":
        rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
        background = np.median(_border(rgb), axis=0)
        distance = np.linalg.norm(rgb - background, axis=2)
        mask = distance > max(_threshold(distance, "colour"), 0.05)
    else:
        lum = images.luminance(image)
        mask = lum > _threshold(lum, "grey")
        if _border(mask).mean() > 0.5:
            mask = ~mask
    speck = int(mask.size * speck_percent / 100.0)
    if speck > 0:
        mask = morphology.remove_small_objects(mask, max_size=speck)
        mask = morphology.remove_small_holes(mask, max_size=speck)
    if not mask.any():
        raise InvalidInput(
            "found no foreground: the subject is empty or smaller than speck_percent; "
            "try mask=alpha, mask=border or a picture with a plain background"
        )
    return mask


def polygons(mask: np.ndarray) -> MultiPolygon:
    """The mask's outline as polygons with holes, in pixel units with y up (x = column, y = −row).
    ``mask`` is boolean, or a coverage in [0, 1] per pixel (traced half way, between pixels).

    Contours are traced at the half-way level between pixel centres (scikit-image marching squares);
    nesting decides which ring is a shell and which a hole (even depth = shell).
    """
    padded = np.pad(mask.astype(np.float32), 1)
    rings = [Polygon(np.column_stack([c[:, 1] - 1, -(c[:, 0] - 1)])) for c in measure.find_contours(padded, 0.5)]
    rings = sorted((r for r in rings if r.is_valid and r.area > 0), key=lambda r: r.area, reverse=True)
    probes = shapely.point_on_surface(rings)
    inside, container = STRtree(rings).query(probes, predicate="within")
    # only larger rings can hold a ring (contours never cross), and the probe may sit in a smaller one
    larger = container < inside
    inside, container = inside[larger], container[larger]
    depth = np.bincount(inside, minlength=len(rings))
    # rings are sorted by area, largest first: the innermost container has the largest index
    parent = np.full(len(rings), -1)
    np.maximum.at(parent, inside, container)
    shells: dict[int, list] = {i: [] for i in range(len(rings)) if depth[i] % 2 == 0}
    for i in np.flatnonzero(depth % 2 == 1):
        shells[int(parent[i])].append(rings[i].exterior.coords)
    parts = [Polygon(rings[i].exterior.coords, holes) for i, holes in shells.items()]
    return MultiPolygon([p for p in parts if not p.is_empty])


def without_specks(shape: MultiPolygon, speck: float) -> MultiPolygon:
    """``shape`` without parts or holes smaller than ``speck`` (pixels²): the slivers that tracing a
    coverage half way can leave where the averaging grazed an edge."""
    if speck <= 0:
        return shape
    parts = [Polygon(p.exterior, [h for h in p.interiors if Polygon(h).area >= speck]) for p in shape.geoms if p.area >= speck]
    if not parts:
        raise InvalidInput("found no foreground larger than speck_percent at this quality and printer; "
                           "try a higher quality, a smaller speck_percent or printer=exact")
    return MultiPolygon(parts)


def outline_mm(
    image: Image.Image, *, size_mm: float, resolution: int, options: dict, tolerance_mm: float
) -> tuple[MultiPolygon, np.ndarray, float]:
    """The subject's outline scaled so its longest side is ``size_mm``, lower-left corner at the origin.

    The foreground is found at up to four times ``resolution`` (the picture's own pixels when fewer),
    then averaged down to ``resolution`` samples on its longest side and traced half way, so the
    outline lies within a fraction of a sample of the picture's. Returns the polygons (simplified to
    ``tolerance_mm``), the mask used and the millimetres per mask pixel.
    """
    columns, rows = images.grid_shape(*image.size, resolution)
    fine = images.grid_shape(*image.size, min(max(image.size), 4 * resolution))
    found = foreground(images.resample(image, *fine), options["mask"], options["speck_percent"])
    coverage = np.asarray(images.resample(Image.fromarray(found.astype(np.float32), "F"), columns, rows), dtype=np.float32)
    mask = coverage > 0.5
    if not mask.any():
        raise InvalidInput("the subject is thinner than one sample at this quality and printer; "
                           "try a higher quality, a larger size_mm or printer=exact")
    shape = without_specks(polygons(coverage), coverage.size * options["speck_percent"] / 100.0)
    minx, miny, maxx, maxy = shape.bounds
    scale = size_mm / max(maxx - minx, maxy - miny)
    if tolerance_mm > 0:
        simplified = shape.simplify(tolerance_mm / scale, preserve_topology=True)
        parts = getattr(simplified, "geoms", [simplified])
        shape = MultiPolygon([p for p in parts if isinstance(p, Polygon) and p.area > 0])
        if shape.is_empty:
            raise InvalidInput(f"tolerance_mm={tolerance_mm:g} simplifies the whole outline away; use a smaller one")
        minx, miny, maxx, maxy = shape.bounds  # simplifying may move the extremes: fit the size again
    fit = size_mm / max(maxx - minx, maxy - miny)
    return shapely.transform(shape, lambda xy: (xy - [minx, miny]) * fit), mask, scale


def thinnest_width_mm(mask: np.ndarray, mm_per_pixel: float) -> float:
    """Narrowest stroke of the mask: twice the smallest distance-to-edge along its skeleton, in mm."""
    skeleton = morphology.skeletonize(mask)
    if not skeleton.any():
        return mm_per_pixel
    distance = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    return float(2 * distance[skeleton].min() * mm_per_pixel)


def gap_to_picture(shape: MultiPolygon, image: Image.Image, *, size_mm: float, resolution: int, options: dict) -> float:
    """Hausdorff distance in mm between ``shape`` (an :func:`outline_mm` result) and the outline traced
    at ``resolution`` without simplification: how far the kept outline strays from the picture's."""
    picture, _, _ = outline_mm(image, size_mm=size_mm, resolution=resolution, options=options, tolerance_mm=0.0)
    return float(shape.hausdorff_distance(picture))


def printer_info(level: QualityLevel, gap_mm: float, tolerance_mm: float) -> dict:
    """The manifest's printer facts for a silhouette: the printer, the kept feature size, the outline's
    tolerance and its distance from the outline traced at ``exact``'s resolution."""
    return {
        "printer": level.printer.to_dict(),
        "feature_mm": level.printer.feature_mm,
        "max_error_mm_target": tolerance_mm,
        "error_vs_picture_mm": round(gap_mm, 6),
    }
