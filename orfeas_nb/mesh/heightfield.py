"""Height fields to watertight solids: a top surface, side walls down to z=0 and a flat base.

A height field is a (rows, columns) array of heights in millimetres sampled on a square grid of
``pitch`` millimetres. Row 0 is the image's top edge and lands at the largest y, so a model seen from
above reads like the picture.
"""

from __future__ import annotations

import numpy as np
import trimesh


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
    undirected = np.sort(directed, axis=1)
    _, inverse, counts = np.unique(undirected, axis=0, return_inverse=True, return_counts=True)
    return directed[counts[inverse.ravel()] == 1]


def close_surface(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Close an upward-facing surface over a convex outline into a solid standing on z=0.

    Each boundary edge of the surface gets a wall quad down to z=0 and the floor is a fan around the
    outline's centre, so the result is watertight with outward normals as long as the surface's
    outline is convex (true of every height field) and its heights are above zero.
    """
    edges = boundary_edges(faces)
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


def grid_solid(heights: np.ndarray, pitch: float) -> trimesh.Trimesh:
    """A watertight solid whose top samples every height on a regular grid.

    >>> grid_solid(np.full((3, 3), 2.0), 1.0).volume
    8.0
    """
    vertices = grid_vertices(heights, pitch)
    faces = grid_faces(*heights.shape)
    vertices, faces = close_surface(vertices, faces)
    return trimesh.Trimesh(vertices, faces, process=False, validate=False)
