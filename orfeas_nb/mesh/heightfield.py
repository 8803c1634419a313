"""Height fields to watertight solids: a top surface, side walls down to z=0 and a flat base.

A height field is a (rows, columns) array of heights in millimetres sampled on a square grid of
``pitch`` millimetres. Row 0 is the image's top edge and lands at the largest y, so a model seen from
above reads like the picture.
"""

from __future__ import annotations

import numpy as np
import trimesh
from pydelatin import Delatin


def grid_vertices(heights: np.ndarray, pitch: float) -> np.ndarray:
    """Vertices of every sample, float64 (rows·columns, 3), in row-major order."""
    rows, columns = heights.shape
    x = np.arange(columns, dtype=np.float64) * pitch
    y = (rows - 1 - np.arange(rows, dtype=np.float64)) * pitch
    xx, yy = np.meshgrid(x, y)
    return np.column_stack([xx.ravel(), yy.ravel(), heights.astype(np.float64).ravel()])


def grid_faces(rows: int, columns: int) -> np.ndarray:
    """Two counter-clockwise (seen from +z) triangles per grid cell, int64 (2·cells, 3)."""
    idx = np.arange(rows * columns, dtype=np.int64).reshape(rows, columns)
    v00, v01 = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel()
    v10, v11 = idx[1:, :-1].ravel(), idx[1:, 1:].ravel()
    first = np.column_stack([v10, v11, v01])
    second = np.column_stack([v10, v01, v00])
    return np.stack([first, second], axis=1).reshape(-1, 3)


def boundary_edges(faces: np.ndarray) -> np.ndarray:
    """Directed edges (a, b) used by exactly one face, in the direction that face uses them."""
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    keys = directed.min(axis=1) * (int(faces.max()) + 1) + directed.max(axis=1)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    lone = np.ones(len(keys), bool)
    same = ordered[1:] == ordered[:-1]
    lone[1:] &= ~same
    lone[:-1] &= ~same
    return directed[np.sort(order[lone])]


def grid_boundary_edges(rows: int, columns: int) -> np.ndarray:
    """The outline of :func:`grid_faces` as directed edges, as :func:`boundary_edges` finds them (in
    another order), without sorting every edge of the grid."""
    idx = np.arange(rows * columns, dtype=np.int64).reshape(rows, columns)
    bottom, right, top, left = idx[-1], idx[::-1, -1], idx[0, ::-1], idx[:, 0]
    ring = np.concatenate([bottom[:-1], right[:-1], top[:-1], left[:-1]])
    return np.column_stack([ring, np.roll(ring, -1)])


def rectangle_outline(vertices: np.ndarray, pitch: float, rows: int, columns: int) -> np.ndarray:
    """The outline of a surface that covers a height field's rectangle (the grid, or an adaptive one),
    as the directed edges :func:`boundary_edges` finds, from the vertices on the rectangle's sides alone:
    counter-clockwise seen from +z, without sorting every edge of the surface."""
    col = np.rint(vertices[:, 0] / pitch).astype(np.int64)
    row = np.rint(vertices[:, 1] / pitch).astype(np.int64)  # counted up from y = 0
    width, height = columns - 1, rows - 1
    sides = [
        (row == 0, col),  # along y = 0, x growing
        ((col == width) & (row > 0), row),  # up the right side
        ((row == height) & (col < width), -col),  # back along the top
        ((col == 0) & (row > 0) & (row < height), -row),  # down the left side
    ]
    ring = np.concatenate([np.flatnonzero(on)[np.argsort(key[on], kind="stable")] for on, key in sides])
    return np.column_stack([ring, np.roll(ring, -1)])


def close_surface(vertices: np.ndarray, faces: np.ndarray, edges: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Close an upward-facing surface over a convex outline into a solid standing on z=0.

    Each boundary edge of the surface gets a wall quad down to z=0 and the floor is a fan around the
    outline's centre, so the result is watertight with outward normals as long as the surface's
    outline is convex (true of every height field) and its heights are above zero. ``edges`` is the
    outline when known (:func:`grid_boundary_edges`), else it is found.
    """
    edges = boundary_edges(faces) if edges is None else edges
    outline = np.unique(edges)
    n = len(vertices)
    floor_index = np.full(n, -1, dtype=np.int64)
    floor_index[outline] = n + np.arange(len(outline))
    floor = vertices[outline].copy()
    floor[:, 2] = 0.0
    centre = np.array([[*floor[:, :2].mean(axis=0), 0.0]])
    centre_index = n + len(outline)
    a, b = edges[:, 0], edges[:, 1]
    fa, fb = floor_index[a], floor_index[b]
    walls = np.concatenate([np.column_stack([a, fa, b]), np.column_stack([b, fa, fb])])
    base = np.column_stack([np.full(len(edges), centre_index), fb, fa])
    all_vertices = np.concatenate([vertices, floor, centre])
    all_faces = np.concatenate([faces, walls, base])
    return all_vertices, all_faces


def adaptive_surface(heights: np.ndarray, pitch: float, max_error_mm: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Error-bounded triangulation of a height field with pydelatin (Garland–Heckbert refinement).

    Returns vertices (mm), counter-clockwise faces and the achieved maximum vertical error in mm: no
    sample of ``heights`` is further than that from the surface. The outline keeps the rectangle, so
    :func:`close_surface` closes it.
    """
    rows, columns = heights.shape
    field = np.ascontiguousarray(heights, dtype=np.float32)
    tin = Delatin(field, width=columns, height=rows, max_error=float(max_error_mm))
    # pydelatin counts y up from the last row, which is also where our y axis starts
    cols, ups = tin.vertices[:, 0].astype(np.int64), tin.vertices[:, 1].astype(np.int64)
    vertices = np.column_stack([cols * pitch, ups * pitch, heights[rows - 1 - ups, cols].astype(np.float64)])
    faces = counter_clockwise(vertices, tin.triangles.astype(np.int64))
    return vertices, faces, float(tin.error)


def counter_clockwise(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """``faces`` reordered where needed so each is counter-clockwise seen from +z; zero-area faces dropped."""
    a, b, c = (vertices[faces[:, i], :2] for i in range(3))
    cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    faces = faces[cross != 0].copy()
    flip = cross[cross != 0] < 0
    faces[flip] = faces[flip][:, ::-1]
    return faces


#: Seconds per unit of work on the 2-core machine the benchmarks run on (``benchmarks/mesh.py``'s photos and
#: ``scene.png``), to predict which triangulation is cheaper: pydelatin scans every sample and then pays
#: for each point it keeps (insertion, closing the surface); the grid pays for every sample; writing the
#: file (encoding, write, fsync) pays per triangle, about two per point or sample. Only ratios matter.
ADAPTIVE_S_PER_SAMPLE = 0.05e-6
ADAPTIVE_S_PER_POINT = 2.5e-6
GRID_S_PER_SAMPLE = 0.3e-6
WRITE_S_PER_TRIANGLE = 0.075e-6
#: Where adaptive keeps at most this share of the dense grid's triangles it may cost up to
#: :data:`SIZE_SLACK` times the dense grid's predicted time: the benchmark's tolerance, bought back many
#: times over downstream (a slicer's time grows faster than the triangle count; see FACTS).
SMALL_SHARE = 0.25
SIZE_SLACK = 1.2


def rough_share(heights: np.ndarray, max_error_mm: float) -> float:
    """Share of samples further than ``max_error_mm`` from the midpoint of their two neighbours (the
    larger of the row and column directions): about the share an adaptive surface must keep.

    >>> rough_share(np.add.outer(np.arange(5.0), np.arange(5.0)), 0.1)
    0.0
    """
    if min(heights.shape) < 3:
        return 1.0
    across = np.abs(heights[:, 1:-1] - (heights[:, :-2] + heights[:, 2:]) / 2) > max_error_mm
    down = np.abs(heights[1:-1, :] - (heights[:-2, :] + heights[2:, :]) / 2) > max_error_mm
    return float(max(across.mean(), down.mean()))


def predicted_seconds(heights: np.ndarray, max_error_mm: float, dense_samples: int | None = None) -> tuple[float, float]:
    """Predicted seconds to triangulate and write ``heights`` adaptively, and as the dense grid of
    ``dense_samples`` (default: this grid's own samples).

    The points pydelatin keeps are predicted from :func:`rough_share` (on photos it kept 1.1–2 times
    that share, most at the smallest shares), so the prediction errs towards the grid.
    """
    samples = heights.size
    points = samples * min(1.0, 1.3 * rough_share(heights, max_error_mm) + 0.02)
    adaptive = samples * ADAPTIVE_S_PER_SAMPLE + points * (ADAPTIVE_S_PER_POINT + 2 * WRITE_S_PER_TRIANGLE)
    grid = (dense_samples or samples) * (GRID_S_PER_SAMPLE + 2 * WRITE_S_PER_TRIANGLE)
    return adaptive, grid


def adaptive_pays(heights: np.ndarray, max_error_mm: float, dense_samples: int | None = None) -> bool:
    """Whether to triangulate adaptively, by predicted cost and size: when that is predicted no slower
    than the dense grid of ``dense_samples`` (default: this grid), or at most :data:`SIZE_SLACK` times
    slower while keeping at most :data:`SMALL_SHARE` of its triangles.

    >>> adaptive_pays(np.add.outer(np.arange(50.0), np.arange(40.0)), 0.01)
    True
    >>> adaptive_pays(np.random.default_rng(0).random((50, 40)), 0.01)
    False
    """
    adaptive, grid = predicted_seconds(heights, max_error_mm, dense_samples)
    points = heights.size * min(1.0, 1.3 * rough_share(heights, max_error_mm) + 0.02)
    small = points <= SMALL_SHARE * (dense_samples or heights.size)
    return adaptive <= grid * (SIZE_SLACK if small else 1.0)


def surface(
    heights: np.ndarray, pitch: float, max_error_mm: float | None, dense_samples: int | None = None
) -> tuple[np.ndarray, np.ndarray, float, str]:
    """The top surface: the full grid when ``max_error_mm`` is None, else an adaptive one where that
    pays against the dense grid of ``dense_samples`` (:func:`adaptive_pays`), else the grid.

    Returns (vertices, faces, achieved maximum error in mm, "grid" or "adaptive").
    """
    if max_error_mm is None or min(heights.shape) < 3 or not adaptive_pays(heights, max_error_mm, dense_samples):
        return grid_vertices(heights, pitch), grid_faces(*heights.shape), 0.0, "grid"
    return (*adaptive_surface(heights, pitch, max_error_mm), "adaptive")


def closed_surface(
    heights: np.ndarray, pitch: float, max_error_mm: float | None, dense_samples: int | None = None
) -> tuple[np.ndarray, np.ndarray, float, str]:
    """:func:`surface` closed into a solid standing on z=0 (:func:`close_surface`)."""
    vertices, faces, error, kind = surface(heights, pitch, max_error_mm, dense_samples)
    rows, columns = heights.shape
    edges = grid_boundary_edges(rows, columns) if kind == "grid" else rectangle_outline(vertices, pitch, rows, columns)
    return (*close_surface(vertices, faces, edges), error, kind)


def slab(vertices: np.ndarray, faces: np.ndarray, bottom_z: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Close a surface with a full copy of itself at ``bottom_z`` (reversed) and walls between them.

    Unlike :func:`close_surface` the floor keeps every vertex, so the solid can be bent (a curved
    lithophane) without its floor cutting through the top.
    """
    n = len(vertices)
    floor = vertices.copy()
    floor[:, 2] = bottom_z
    edges = boundary_edges(faces)
    a, b = edges[:, 0], edges[:, 1]
    walls = np.concatenate([np.column_stack([a, a + n, b]), np.column_stack([b, a + n, b + n])])
    all_faces = np.concatenate([faces, faces[:, ::-1] + n, walls])
    return np.concatenate([vertices, floor]), all_faces


def strip_floor(rows: int, columns: int) -> np.ndarray:
    """Counter-clockwise (from +z) triangles covering a grid's rectangle using only its outline samples:
    one quad per column between the first and last rows, and a fan at each end column.

    Every triangle spans whole rows, so a grid bent round an axis along its columns keeps a floor that
    follows the arc. Needs ``columns >= 3``; indices are row-major grid indices.
    """
    idx = np.arange(rows * columns, dtype=np.int64).reshape(rows, columns)
    top, bottom, left, right = idx[0], idx[-1], idx[:, 0], idx[:, -1]
    c = np.arange(1, columns - 2)
    middle = np.concatenate([
        np.column_stack([bottom[c], bottom[c + 1], top[c + 1]]),
        np.column_stack([bottom[c], top[c + 1], top[c]]),
    ])
    r = np.arange(rows - 1)
    left_fan = np.column_stack([np.full(rows - 1, top[1]), left[r], left[r + 1]])
    right_fan = np.column_stack([np.full(rows - 1, bottom[-2]), right[r + 1], right[r]])
    corners = np.array([[top[1], bottom[0], bottom[1]], [bottom[-2], top[-1], top[-2]]])
    return np.concatenate([middle, left_fan, right_fan, corners])


def strip_slab(heights: np.ndarray, pitch: float) -> tuple[np.ndarray, np.ndarray]:
    """A grid top over ``heights`` closed by a :func:`strip_floor` at z=0 and walls: half the
    triangles of :func:`slab` for a plate that will be bent round a vertical axis."""
    rows, columns = heights.shape
    if columns < 3:
        return slab(grid_vertices(heights, pitch), grid_faces(rows, columns))
    vertices, faces = grid_vertices(heights, pitch), grid_faces(rows, columns)
    n = len(vertices)
    floor_faces = strip_floor(rows, columns)
    outline = np.unique(floor_faces)
    back = np.full(n, -1, dtype=np.int64)
    back[outline] = n + np.arange(len(outline))
    floor = vertices[outline].copy()
    floor[:, 2] = 0.0
    edges = grid_boundary_edges(rows, columns)
    a, b = edges[:, 0], edges[:, 1]
    walls = np.concatenate([np.column_stack([a, back[a], b]), np.column_stack([b, back[a], back[b]])])
    all_faces = np.concatenate([faces, back[floor_faces][:, ::-1], walls])
    return np.concatenate([vertices, floor]), all_faces


def grid_solid(heights: np.ndarray, pitch: float) -> trimesh.Trimesh:
    """A watertight solid whose top samples every height on a regular grid.

    >>> float(grid_solid(np.full((3, 3), 2.0), 1.0).volume)
    8.0
    """
    vertices = grid_vertices(heights, pitch)
    faces = grid_faces(*heights.shape)
    vertices, faces = close_surface(vertices, faces, grid_boundary_edges(*heights.shape))
    return trimesh.Trimesh(vertices, faces, process=False, validate=False)


def height_solid(
    heights: np.ndarray, pitch: float, max_error_mm: float | None, dense_samples: int | None = None
) -> tuple[trimesh.Trimesh, float, str]:
    """A watertight solid over ``heights`` (all above zero) standing on z=0, the achieved error in mm
    and the triangulation used.

    ``max_error_mm=None`` keeps every sample (a regular grid); a number triangulates adaptively where
    that is predicted to be no slower than the dense grid of ``dense_samples`` (:func:`surface`).

    >>> mesh, error, kind = height_solid(np.full((50, 80), 2.0), 0.5, 0.01)
    >>> round(float(mesh.volume), 6), len(mesh.faces) < 20, round(error, 3), kind
    (1935.5, True, 0.0, 'adaptive')
    """
    vertices, faces, error, kind = closed_surface(heights, pitch, max_error_mm, dense_samples)
    return trimesh.Trimesh(vertices, faces, process=False, validate=False), error, kind
