"""The 3D mesh view: pythreejs geometry from numpy arrays, orbit controls, wireframe toggle, reset.

Meshes above ``ORFEAS_PREVIEW_MAX_FACES`` are decimated for display only (fast-simplification) and
the view says "showing N of M triangles"; exports always use the full mesh.

    >>> import trimesh
    >>> view = mesh_view(trimesh.creation.icosphere(), height=300)
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import pythreejs as three
import trimesh

from .. import config
from ..errors import InvalidInput
from ..model import register_display

LOW_COLOUR = np.array([0.23, 0.42, 0.78], dtype=np.float32)  # colour of the lowest point
HIGH_COLOUR = np.array([0.97, 0.80, 0.45], dtype=np.float32)  # colour of the highest point


@dataclass(frozen=True)
class PreviewArrays:
    """What the browser receives: float32 positions, a flat uint32 index, and per vertex normals
    (int8, normalised: ×127) and colours (uint8, normalised: ×255) to keep the transfer small."""

    positions: np.ndarray
    normals: np.ndarray
    colours: np.ndarray
    index: np.ndarray
    total_faces: int

    @property
    def shown_faces(self) -> int:
        """Triangles in the preview (at most the LOD bound)."""
        return len(self.index) // 3

    @property
    def nbytes(self) -> int:
        """Bytes of array data sent to the front end."""
        return sum(a.nbytes for a in (self.positions, self.normals, self.colours, self.index))

    @property
    def caption(self) -> str:
        """"showing N of M triangles" when decimated, else "M triangles"."""
        if self.shown_faces < self.total_faces:
            return f"showing {self.shown_faces:,} of {self.total_faces:,} triangles"
        return f"{self.total_faces:,} triangles"


def cluster_vertices(vertices: np.ndarray, faces: np.ndarray, target_faces: int) -> tuple[np.ndarray, np.ndarray]:
    """Fast coarse reduction: merge the vertices in each cell of a grid sized for ~``target_faces`` triangles.

    The cell edge is chosen from the surface area (about two triangles per cell); faces that collapse
    are dropped. Used before quadric decimation on very large meshes, where it is several times faster.
    """
    sample = faces[:: max(1, len(faces) // 100_000)]  # the area from a strided sample is plenty for a cell size
    corners = vertices[sample]
    doubled_area = np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1)
    total = doubled_area.sum(dtype=np.float64) * len(faces) / len(sample)
    cell = max(float(np.sqrt(total / target_faces)), 1e-12)
    keys = np.floor((vertices - vertices.min(axis=0)) / cell).astype(np.int64)
    dims = keys.max(axis=0) + 1
    cells, inverse = np.unique((keys[:, 0] * dims[1] + keys[:, 1]) * dims[2] + keys[:, 2], return_inverse=True)
    counts = np.bincount(inverse, minlength=len(cells))
    merged = np.stack([np.bincount(inverse, weights=vertices[:, a], minlength=len(cells)) for a in range(3)], axis=1)
    remapped = inverse[faces]
    kept = (remapped[:, 0] != remapped[:, 1]) & (remapped[:, 1] != remapped[:, 2]) & (remapped[:, 0] != remapped[:, 2])
    return (merged / counts[:, None]).astype(np.float32), remapped[kept]


def _decimate(vertices: np.ndarray, faces: np.ndarray, max_faces: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_faces`` triangles: grid clustering first when the mesh is far larger, then quadric
    decimation (fast-simplification), tightening the target if it overshoots."""
    import fast_simplification

    if len(faces) > 2 * max_faces:
        vertices, faces = cluster_vertices(vertices, faces, int(1.5 * max_faces))
    reduction = 1.0 - max_faces / len(faces)
    while reduction > 0:
        points, triangles = fast_simplification.simplify(vertices, faces, target_reduction=reduction, agg=8)
        if len(triangles) <= max_faces or reduction >= 0.999:
            return points, triangles[:max_faces]
        reduction = min(0.999, reduction + (1.0 - reduction) * 0.05)
    return vertices, faces


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals, computed in numpy (float32)."""
    corners = vertices[faces]
    face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals = np.stack(
        [sum(np.bincount(faces[:, k], weights=face_normals[:, axis], minlength=len(vertices)) for k in range(3))
         for axis in range(3)],
        axis=1,
    )
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return (normals / np.where(length > 0, length, 1.0)).astype(np.float32)


def _to_int8(unit: np.ndarray) -> np.ndarray:
    return np.round(np.clip(unit, -1.0, 1.0) * 127.0).astype(np.int8)


def _to_uint8(fraction: np.ndarray) -> np.ndarray:
    return np.round(np.clip(fraction, 0.0, 1.0) * 255.0).astype(np.uint8)


def height_colours(vertices: np.ndarray) -> np.ndarray:
    """Vertex colours from a blue (low) to warm (high) ramp along z, float32 in [0, 1]."""
    z = vertices[:, 2]
    span = float(z.max() - z.min()) if len(z) else 0.0
    t = ((z - z.min()) / span if span > 0 else np.zeros_like(z))[:, None].astype(np.float32)
    return LOW_COLOUR + (HIGH_COLOUR - LOW_COLOUR) * t


def preview_arrays(mesh: trimesh.Trimesh, max_faces: int | None = None) -> PreviewArrays:
    """The arrays a view sends: decimated to ``max_faces`` (default ``ORFEAS_PREVIEW_MAX_FACES``) if needed.

    Vertex colours come from the mesh when it has them, else from height.
    """
    limit = config.get("preview_max_faces") if max_faces is None else int(max_faces)
    if limit < 1:
        raise InvalidInput(f"max_faces must be at least 1, got {max_faces!r}")
    vertices = np.asarray(mesh.vertices, dtype=np.float32)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    if len(faces) == 0:
        raise InvalidInput("the mesh has no triangles to show; generate or load a model first")
    total = len(faces)
    own_colours = getattr(mesh.visual, "kind", None) == "vertex"
    if total > limit:
        vertices, faces = _decimate(vertices, faces, limit)
        vertices = np.asarray(vertices, dtype=np.float32)
        own_colours = False  # decimation moves vertices; their colours no longer apply
    colours = np.asarray(mesh.visual.vertex_colors[:, :3]) if own_colours else _to_uint8(height_colours(vertices))
    return PreviewArrays(
        positions=np.ascontiguousarray(vertices, dtype=np.float32),
        normals=_to_int8(vertex_normals(vertices, faces)),
        colours=np.ascontiguousarray(colours, dtype=np.uint8),
        index=np.ascontiguousarray(faces, dtype=np.uint32).ravel(),
        total_faces=total,
    )


class MeshView(widgets.VBox):
    """A pythreejs renderer of one mesh with a toolbar: wireframe toggle, reset view, triangle count.

    Build it with :func:`mesh_view`. ``arrays`` holds what was sent; ``renderer``, ``camera``,
    ``controls`` and ``material`` are the pythreejs objects.
    """

    def __init__(self, arrays: PreviewArrays, *, width: int = 640, height: int = 420):
        self.arrays = arrays
        self.geometry = three.BufferGeometry(
            attributes={
                "position": three.BufferAttribute(arrays.positions, normalized=False),
                "normal": three.BufferAttribute(arrays.normals, normalized=True),
                "color": three.BufferAttribute(arrays.colours, normalized=True),
            },
            index=three.BufferAttribute(arrays.index, normalized=False),
        )
        self.material = three.MeshStandardMaterial(
            vertexColors="VertexColors", roughness=0.65, metalness=0.05, side="DoubleSide"
        )
        self.mesh = three.Mesh(self.geometry, self.material)
        low, high = arrays.positions.min(axis=0), arrays.positions.max(axis=0)
        self.center = tuple(float(c) for c in (low + high) / 2)
        radius = max(float(np.linalg.norm(high - low)) / 2, 1e-6)
        self.home = (self.center[0] + radius * 1.2, self.center[1] - radius * 1.6, self.center[2] + radius * 1.3)
        self.camera = three.PerspectiveCamera(
            position=self.home, up=(0, 0, 1), fov=40, aspect=width / height, near=radius / 100, far=radius * 100,
        )
        self.controls = three.OrbitControls(controlling=self.camera, target=self.center)
        self.camera.lookAt(self.center)
        # Lights without shadows: pythreejs 2.4's Directional/PointLight log "Error setting state: t.on is
        # not a function" in JupyterLab 4. A hemisphere light from above-front still shades by orientation.
        scene = three.Scene(
            children=[self.mesh, self.camera, three.AmbientLight(intensity=0.3),
                      three.HemisphereLight(color="#ffffff", groundColor="#303040", intensity=0.9,
                                            position=(0.4, -0.6, 1.0))],
            background="#f4f4f4",
        )
        self.renderer = three.Renderer(
            camera=self.camera, scene=scene, controls=[self.controls], width=width, height=height, antialias=True
        )
        self.renderer.add_class("orfeas-canvas")
        self.wireframe = widgets.ToggleButton(value=False, description="Wireframe", icon="cube",
                                              tooltip="show the triangle edges")
        widgets.link((self.wireframe, "value"), (self.material, "wireframe"))
        self.reset_button = widgets.Button(description="Reset view", icon="refresh", tooltip="back to the first view")
        self.reset_button.on_click(lambda _: self.reset_view())
        self.caption = widgets.HTML(arrays.caption)
        self.caption.add_class("orfeas-triangles")
        toolbar = widgets.HBox([self.wireframe, self.reset_button, self.caption])
        super().__init__([self.renderer, toolbar])
        self.add_class("orfeas-view")

    def reset_view(self) -> None:
        """Put the camera back where it started, looking at the centre of the mesh."""
        self.camera.position = self.home
        self.controls.target = self.center
        self.camera.send_state("position")  # the browser may have moved it without telling us
        self.controls.send_state("target")


def mesh_view(mesh: trimesh.Trimesh, *, max_faces: int | None = None, width: int = 640, height: int = 420) -> MeshView:
    """An interactive view of ``mesh`` for JupyterLab (decimated above ``max_faces`` for display only)."""
    return MeshView(preview_arrays(mesh, max_faces), width=width, height=height)


def model_widget(model, **opts) -> widgets.VBox:
    """A model's mesh view with its printability report underneath (the rich display in JupyterLab)."""
    report = widgets.HTML(f"<pre>{html.escape(str(model.report()))}</pre>")
    report.add_class("orfeas-report")
    return widgets.VBox([mesh_view(model.mesh, **opts), report])


def register() -> None:
    """Make these views ``Model3D``'s rich display and preview (done on import; the ``orfeas_nb.display`` entry point)."""
    register_display(widget=model_widget, preview=mesh_view)


register()
