"""The pythreejs mesh view: the arrays sent (dtypes, shapes, the LOD bound) and its controls."""

from __future__ import annotations

import numpy as np
import pytest
import pythreejs as three
import trimesh

from orfeas_nb.errors import InvalidInput
from orfeas_nb.widgets.view import MeshView, mesh_view, preview_arrays

pytestmark = pytest.mark.unit


def test_small_meshes_are_sent_whole_with_the_documented_dtypes():
    sphere = trimesh.creation.icosphere(subdivisions=3)
    arrays = preview_arrays(sphere)
    assert arrays.positions.dtype == np.float32 and arrays.positions.shape == (len(sphere.vertices), 3)
    assert arrays.index.dtype == np.uint32 and arrays.index.shape == (3 * len(sphere.faces),)
    assert arrays.normals.dtype == np.int8 and arrays.normals.shape == arrays.positions.shape
    assert arrays.colours.dtype == np.uint8 and arrays.colours.shape == arrays.positions.shape
    np.testing.assert_array_equal(arrays.index.reshape(-1, 3), sphere.faces)
    # normals from numpy match trimesh's to the int8 quantisation, and point outwards on a sphere
    np.testing.assert_allclose(arrays.normals / 127.0, sphere.vertex_normals, atol=0.03)
    assert arrays.caption == "1,280 triangles" and arrays.shown_faces == arrays.total_faces == 1280


def test_height_colours_run_from_blue_at_the_bottom_to_warm_at_the_top():
    arrays = preview_arrays(trimesh.creation.box((10, 10, 10)))
    low = arrays.colours[arrays.positions[:, 2] < 0]
    high = arrays.colours[arrays.positions[:, 2] > 0]
    assert np.all(low[:, 2] > low[:, 0]) and np.all(high[:, 0] > high[:, 2])


def test_big_meshes_are_decimated_to_the_bound_and_say_so(monkeypatch):
    sphere = trimesh.creation.icosphere(subdivisions=5)  # 20,480 triangles
    monkeypatch.setenv("ORFEAS_PREVIEW_MAX_FACES", "3000")
    arrays = preview_arrays(sphere)
    assert 2000 < arrays.shown_faces <= 3000
    assert arrays.caption == f"showing {arrays.shown_faces:,} of 20,480 triangles"
    assert int(arrays.index.max()) < len(arrays.positions)
    assert len(sphere.faces) == 20480  # the model itself is untouched: exports stay full
    radii = np.linalg.norm(arrays.positions, axis=1)
    assert np.all(np.abs(radii - 1.0) < 0.05)  # still the same sphere


def test_an_explicit_bound_wins_and_a_bad_one_is_refused():
    sphere = trimesh.creation.icosphere(subdivisions=4)
    assert preview_arrays(sphere, max_faces=500).shown_faces <= 500
    with pytest.raises(InvalidInput, match="max_faces"):
        preview_arrays(sphere, max_faces=0)
    with pytest.raises(InvalidInput, match="no triangles"):
        preview_arrays(trimesh.Trimesh(np.zeros((0, 3)), np.zeros((0, 3), int)))


def test_the_view_holds_the_arrays_in_a_buffer_geometry_with_camera_fitted_to_the_bounds(sent):
    box = trimesh.creation.box((40, 20, 10))
    view = mesh_view(box, width=320, height=200)
    assert isinstance(view, MeshView) and "orfeas-view" in view._dom_classes
    attributes = view.geometry.attributes
    np.testing.assert_array_equal(attributes["position"].array, view.arrays.positions)
    np.testing.assert_array_equal(view.geometry.index.array, view.arrays.index)
    assert attributes["normal"].normalized and attributes["color"].normalized
    assert view.material.vertexColors == "VertexColors"
    assert isinstance(view.controls, three.OrbitControls) and list(view.renderer.controls) == [view.controls]
    assert tuple(view.controls.target) == pytest.approx((0, 0, 0), abs=1e-6)
    distance = np.linalg.norm(np.subtract(view.camera.position, view.center))
    radius = np.linalg.norm([40, 20, 10]) / 2
    assert 1.5 * radius < distance < 4 * radius  # the whole box is in view, not lost in the distance
    assert (view.renderer.width, view.renderer.height) == (320, 200)
    assert view.caption.value == "12 triangles"
    # what travels: the comm_open of each BufferAttribute carries the raw array bytes
    buffers = [b for kind, _, bs in sent.messages if kind == "comm_open" for b in bs]
    assert sum(memoryview(b).nbytes for b in buffers) >= view.arrays.nbytes


def test_wireframe_toggle_and_reset_view_work_from_the_front_end(sent):
    view = mesh_view(trimesh.creation.box((10, 10, 10)))
    view.wireframe.set_state({"value": True})
    assert view.material.wireframe is True
    view.camera.set_state({"position": [50.0, 0.0, 0.0]})  # the user orbited in the browser
    view.controls.set_state({"target": [3.0, 3.0, 3.0]})
    sent.messages.clear()
    view.reset_button.click()
    assert tuple(view.camera.position) == pytest.approx(view.home)
    assert sent.updates("position")[-1] == pytest.approx(list(view.home))
    assert sent.updates("target")[-1] == pytest.approx(list(view.center))


def test_grid_clustering_reduces_about_to_the_target_and_keeps_the_shape():
    from orfeas_nb.widgets.view import cluster_vertices

    sphere = trimesh.creation.icosphere(subdivisions=5)
    vertices, faces = cluster_vertices(np.asarray(sphere.vertices, np.float32), np.asarray(sphere.faces), 4000)
    assert 2000 < len(faces) < 8000 and vertices.dtype == np.float32
    assert int(faces.max()) < len(vertices)
    assert np.all(faces[:, 0] != faces[:, 1]) and np.all(faces[:, 1] != faces[:, 2]) and np.all(faces[:, 0] != faces[:, 2])
    assert np.all(np.abs(np.linalg.norm(vertices, axis=1) - 1.0) < 0.06)
