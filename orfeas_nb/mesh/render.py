"""A software render of a mesh to a shaded PNG: orthographic 3/4 view, z-buffer, Lambert shading.

Pure numpy (plus Pillow to encode the PNG), so it works wherever the mesh engine does: papermill,
nbconvert, CI, a headless server. Used for the static display of a model and for notebook previews.

    >>> import trimesh
    >>> png = render_png(trimesh.creation.box((10, 20, 5)), width=64, height=48)
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
"""

from __future__ import annotations

import io

import numpy as np
import trimesh
from PIL import Image

from ..errors import InvalidInput
from ..validation import check_number

BACKGROUND = (246, 246, 246)
MATERIAL = np.array([0.42, 0.62, 0.86])
AMBIENT, DIFFUSE = 0.28, 0.72
_CHUNK = 1 << 22  # candidate pixels per numpy batch: bounds memory to a few hundred MB


def view_basis(azimuth_deg: float = 35.0, elevation_deg: float = 30.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Right, up and towards-camera unit vectors of an orthographic camera looking at the origin, z up."""
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    towards = np.array([np.sin(az) * np.cos(el), -np.cos(az) * np.cos(el), np.sin(el)])
    right = np.cross(-towards, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, -towards)
    return right, up, towards


def _screen(vertices: np.ndarray, width: int, height: int, basis) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (x right, y down) fitted to the image with a margin, and depth (larger is nearer)."""
    right, up, towards = basis
    planar = np.stack([vertices @ right, vertices @ up], axis=1)
    low, high = planar.min(axis=0), planar.max(axis=0)
    span = np.maximum(high - low, 1e-9)
    margin = 0.06 * min(width, height)
    scale = min((width - 2 * margin) / span[0], (height - 2 * margin) / span[1])
    centre = (low + high) / 2
    xy = np.empty_like(planar)
    xy[:, 0] = (planar[:, 0] - centre[0]) * scale + width / 2
    xy[:, 1] = height / 2 - (planar[:, 1] - centre[1]) * scale
    return xy, vertices @ towards


def _face_colours(mesh: trimesh.Trimesh) -> np.ndarray:
    """Per-face base colour in [0, 1]: the mesh's own colours when it has them, else the material."""
    kind = getattr(mesh.visual, "kind", None)
    if kind == "face":
        return mesh.visual.face_colors[:, :3] / 255.0
    if kind == "vertex":
        return mesh.visual.vertex_colors[:, :3][mesh.faces].mean(axis=1) / 255.0
    return np.broadcast_to(MATERIAL, (len(mesh.faces), 3))


def _ramp(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts [2, 3] return owners [0, 0, 1, 1, 1] and positions [0, 1, 0, 1, 2]."""
    owners = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owners, np.arange(int(counts.sum())) - starts[owners]


def _spans(tri: np.ndarray, rows: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left and right x where the horizontal line through pixel-centre row ``y`` crosses each triangle."""
    centre = y + 0.5
    left = np.full(len(rows), np.inf)
    right = np.full(len(rows), -np.inf)
    for a, b in ((0, 1), (1, 2), (2, 0)):
        xa, ya = tri[rows, a, 0], tri[rows, a, 1]
        xb, yb = tri[rows, b, 0], tri[rows, b, 1]
        crosses = (np.minimum(ya, yb) <= centre) & (centre <= np.maximum(ya, yb)) & (ya != yb)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(crosses, xa + (centre - ya) * (xb - xa) / (yb - ya), np.nan)
        left = np.fmin(left, x)
        right = np.fmax(right, x)
    return left, right


def _rasterise(tri: np.ndarray, depth: np.ndarray, width: int, height: int) -> np.ndarray:
    """Index of the nearest face at each pixel centre (−1 for background), via a numpy z-buffer.

    Each triangle is cut into one span per pixel row it covers, so the work is proportional to the
    pixels covered (long thin slivers cost no more than their area), in batches of bounded size.
    """
    zbuffer = np.full(width * height, -np.inf)
    winner = np.full(width * height, -1, dtype=np.int64)
    (x0, y0), (x1, y1), (x2, y2) = (tri[:, i, :].T for i in range(3))
    area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
    flat = np.abs(area) < 1e-12
    area = np.where(flat, 1.0, area)
    d0, d1, d2 = depth.T
    slope_x = ((d1 - d0) * (y2 - y0) - (d2 - d0) * (y1 - y0)) / area
    slope_y = ((x1 - x0) * (d2 - d0) - (x2 - x0) * (d1 - d0)) / area
    offset = d0 - slope_x * x0 - slope_y * y0
    y_lo = np.clip(np.ceil(tri[:, :, 1].min(axis=1) - 0.5), 0, height).astype(np.int64)
    y_hi = np.clip(np.floor(tri[:, :, 1].max(axis=1) - 0.5), -1, height - 1).astype(np.int64)
    row_counts = np.where(flat, 0, np.maximum(y_hi - y_lo + 1, 0))
    face_ids = np.flatnonzero(row_counts)
    columns = np.ptp(tri[face_ids, :, 0], axis=1) + 2
    budget = np.cumsum(row_counts[face_ids] * columns)  # pixels a batch may touch, at most
    start = 0
    while start < len(face_ids):
        before = budget[start - 1] if start else 0.0
        stop = max(start + 1, int(np.searchsorted(budget, before + _CHUNK, side="right")))
        faces = face_ids[start:stop]
        start = stop
        owner, position = _ramp(row_counts[faces])
        rows = faces[owner]
        y = y_lo[rows] + position
        left, right = _spans(tri, rows, y)
        x_start = np.clip(np.ceil(left - 0.5), 0, width).astype(np.int64)
        x_stop = np.clip(np.floor(right - 0.5), -1, width - 1).astype(np.int64)
        counts = np.maximum(x_stop - x_start + 1, 0)
        owner, position = _ramp(counts)
        face = rows[owner]
        x = x_start[owner] + position
        pixel = y[owner] * width + x
        z = slope_x[face] * (x + 0.5) + slope_y[face] * (y[owner] + 0.5) + offset[face]
        order = np.lexsort((-z, pixel))
        pixel, first = np.unique(pixel[order], return_index=True)
        nearest_z, nearest_face = z[order][first], face[order][first]
        closer = nearest_z > zbuffer[pixel]
        zbuffer[pixel[closer]] = nearest_z[closer]
        winner[pixel[closer]] = nearest_face[closer]
    return winner.reshape(height, width)


def render_array(
    mesh: trimesh.Trimesh, width: int = 640, height: int = 480, *, azimuth_deg: float = 35.0, elevation_deg: float = 30.0
) -> np.ndarray:
    """Render ``mesh`` to an RGB uint8 array of shape (height, width, 3); see :func:`render_png`."""
    width = check_number("width", width, 16, 8192, integer=True)
    height = check_number("height", height, 16, 8192, integer=True)
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    if len(faces) == 0:
        raise InvalidInput("the mesh has no triangles to render; generate or load a model first")
    if not np.all(np.isfinite(vertices)):
        raise InvalidInput("the mesh has NaN or infinite vertex coordinates; repair it before rendering")
    basis = view_basis(azimuth_deg, elevation_deg)
    xy, depth = _screen(vertices, width, height, basis)
    winner = _rasterise(xy[faces], depth[faces], width, height)

    normals = np.cross(vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-30)
    right, up, towards = basis
    light = towards + 0.6 * up - 0.4 * right
    light /= np.linalg.norm(light)
    facing = np.where((normals @ towards)[:, None] < 0, -normals, normals)  # light both sides of open meshes
    lambert = np.clip(facing @ light, 0.0, 1.0)
    shade = _face_colours(mesh) * (AMBIENT + DIFFUSE * lambert)[:, None]

    image = np.empty((height, width, 3), dtype=np.uint8)
    image[:] = BACKGROUND
    hit = winner >= 0
    image[hit] = np.clip(shade[winner[hit]] * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return image


def render_png(mesh: trimesh.Trimesh, width: int = 640, height: int = 480, **view: float) -> bytes:
    """PNG bytes of ``mesh`` seen from the front right, above (orthographic, flat Lambert shading).

    The mesh fills the frame with a small margin. ``view`` may set ``azimuth_deg`` and ``elevation_deg``.
    Raises :class:`InvalidInput` for an empty mesh, non-finite vertices or a size outside 16–8192 px.
    """
    buffer = io.BytesIO()
    Image.fromarray(render_array(mesh, width, height, **view), "RGB").save(buffer, format="PNG")
    return buffer.getvalue()
