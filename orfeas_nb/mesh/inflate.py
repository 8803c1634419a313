"""``inflate``: the silhouette blown up like a balloon — a closed, smooth, mirrored solid.

Each part of the outline is triangulated (Shewchuk's Triangle, quality mesh with a size bound);
every vertex at distance ``d`` from the outline gets the height ``h = sqrt(2·D·d − d²)``, where ``D``
is the part's largest distance: a disk becomes a sphere. The top (+h) and its mirror (−h) share the
outline, so the solid is watertight with a sharp rim, and stands on z=0. ``flat_bottom`` keeps the
top half on a flat floor instead: a disk becomes a hemisphere that prints without supports.
"""

from __future__ import annotations

import numpy as np
import shapely
import triangle
import trimesh
from PIL import Image
from scipy.spatial import cKDTree
from shapely.geometry import Polygon

from ..timing import Stages
from . import outline
from .options import Option
from .quality import QualityLevel
from .result import MeshResult

OPTIONS = (
    Option("roundness", 1.0, "height scale of the balloon: 1 turns a disk into a sphere, 0.5 a lentil", low=0.05, high=5.0,
           label="Roundness"),
    Option("flat_bottom", False, "keep only the top half on a flat floor (prints without supports)",
           label="Flat bottom"),
    *outline.OPTIONS,
)


def _triangulate(part: Polygon, edge_mm: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rings = [np.asarray(part.exterior.coords)[:-1], *(np.asarray(r.coords)[:-1] for r in part.interiors)]
    points, segments, start = [], [], 0
    for ring in rings:
        n = len(ring)
        points.append(ring)
        segments.append(start + np.column_stack([np.arange(n), (np.arange(n) + 1) % n]))
        start += n
    # rings may touch at a vertex (a hole at the rim): Triangle needs each point once
    unique, index = np.unique(np.concatenate(points), axis=0, return_inverse=True)
    spec = {"vertices": unique, "segments": index.reshape(-1)[np.concatenate(segments)]}
    if part.interiors:
        spec["holes"] = np.array([Polygon(r).representative_point().coords[0] for r in part.interiors])
    max_area = edge_mm**2 * np.sqrt(3) / 4
    result = triangle.triangulate(spec, f"pq28a{max_area:.8f}Q")
    return result["vertices"], result["triangles"].astype(np.int64), result["vertex_markers"].ravel() == 1


def _edge_keys(faces: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    low, high = directed.min(axis=1), directed.max(axis=1)
    return low * count + high, np.column_stack([low, high])


def split_rim_chords(points: np.ndarray, faces: np.ndarray, on_rim: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split every inner edge whose two ends lie on the outline, so top and mirror meet only there.

    Such an edge would get zero height at both ends and be shared by four faces once mirrored.
    Returns the new points, faces and rim flags (midpoints are inside, not on the rim).
    """
    while True:
        keys, edges = _edge_keys(faces, len(points) + 1)
        rim_edge = on_rim[edges[:, 0]] & on_rim[edges[:, 1]]
        candidates = keys[rim_edge]
        unique, counts = np.unique(candidates, return_counts=True)
        inner = unique[counts == 2]
        if len(inner) == 0:
            return points, faces, on_rim
        owners = np.tile(np.arange(len(faces)), 3)
        used: set[int] = set()
        new_points, new_faces = [], []
        for key in inner:
            rows = np.flatnonzero(keys == key)
            pair = owners[rows].tolist()
            if used.intersection(pair):
                continue
            used.update(pair)
            a, b = edges[rows[0]]
            m = len(points) + len(new_points)
            new_points.append((points[a] + points[b]) / 2)
            for f in pair:
                v = faces[f].tolist()
                i = next(k for k in range(3) if {v[k], v[(k + 1) % 3]} == {a, b})
                p, q, r = v[i], v[(i + 1) % 3], v[(i + 2) % 3]
                new_faces += [[p, m, r], [m, q, r]]
        keep = np.ones(len(faces), bool)
        keep[list(used)] = False
        faces = np.concatenate([faces[keep], np.asarray(new_faces, dtype=np.int64)])
        points = np.vstack([points, new_points])
        on_rim = np.concatenate([on_rim, np.zeros(len(new_points), bool)])


def distance_to_outline(points: np.ndarray, part: Polygon, spacing: float) -> np.ndarray:
    """Distance from each point to the part's outline, via a k-d tree of the outline sampled every
    ``spacing`` (over-estimates by at most spacing²/(8·d) at distance d)."""
    boundary = shapely.segmentize(part.boundary, spacing)
    samples = np.concatenate([np.asarray(line.coords) for line in getattr(boundary, "geoms", [boundary])])
    distance, _ = cKDTree(samples).query(points)
    return distance


def balloon(part: Polygon, edge_mm: float, roundness: float, flat_bottom: bool = False) -> trimesh.Trimesh:
    """One part's closed balloon, centred on z=0, or its top half on z=0 with ``flat_bottom``
    (small parts get finer edges, so they have an inside)."""
    points, faces, on_rim = _triangulate(part, min(edge_mm, np.sqrt(part.area) / 4))
    points, faces, on_rim = split_rim_chords(points, faces, on_rim)
    d = np.where(on_rim, 0.0, distance_to_outline(points, part, edge_mm / 4))
    deepest = max(float(d.max()), 1e-9)
    h = roundness * np.sqrt(np.clip(2 * deepest * d - d**2, 0.0, None))
    inner = np.flatnonzero(~on_rim)
    mirror = np.arange(len(points))
    mirror[inner] = len(points) + np.arange(len(inner))
    top = np.column_stack([points, h])
    bottom = np.column_stack([points[inner], np.zeros(len(inner)) if flat_bottom else -h[inner]])
    a, b, c = (points[faces[:, i]] for i in range(3))
    ccw = ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])) > 0
    faces = np.where(ccw[:, None], faces, faces[:, ::-1])
    all_faces = np.concatenate([faces, mirror[faces][:, ::-1]])
    return trimesh.Trimesh(np.concatenate([top, bottom]), all_faces, process=False, validate=False)


def build(image: Image.Image, *, size_mm: float, level: QualityLevel, options: dict, stages: Stages) -> MeshResult:
    """Inflated silhouette whose outline's longest side is ``size_mm``."""
    tolerance = options["tolerance_mm"] or level.outline_tolerance_mm
    with stages("outline"):
        shape, mask, mm_per_pixel = outline.outline_mm(
            image, size_mm=size_mm, resolution=level.resolution, options=options, tolerance_mm=tolerance
        )
    with stages("fidelity"):
        gap = outline.gap_to_picture(shape, image, size_mm=size_mm, resolution=level.dense_resolution, options=options)
    edge = max(2.0 * size_mm / level.resolution, tolerance)
    with stages("inflate"):
        parts = [balloon(p, edge, options["roundness"], options["flat_bottom"]) for p in shape.geoms]
        mesh = trimesh.util.concatenate(parts)
        mesh.apply_translation([0.0, 0.0, -mesh.bounds[0, 2]])
    info = {
        "grid": [int(mask.shape[1]), int(mask.shape[0])],
        "pitch_mm": mm_per_pixel,
        "edge_mm": round(edge, 6),
        "parts": len(shape.geoms),
        "holes": int(sum(len(p.interiors) for p in shape.geoms)),
        "achieved_max_error_mm": round(float(tolerance), 6),
        **outline.printer_info(level, gap, tolerance),
    }
    return MeshResult(mesh, info)
