"""``orfeas_nb.connect`` against a real server (``orfeas serve``): the same objects and errors as local calls."""

from __future__ import annotations

import json
import re
import threading
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import orfeas_nb
from orfeas_nb import errors
from orfeas_nb.model import Model3D

from .conftest import Served

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DISK = ((np.add.outer((np.arange(96) - 47.5) ** 2, (np.arange(96) - 47.5) ** 2) < 40**2) * 200).astype(np.uint8)


@pytest.fixture(scope="module")
def served(tmp_path_factory, tiny_sd):
    """The server of this module, whose default text→image model is the tiny one."""
    server = Served(tmp_path_factory.mktemp("served"), env={"ORFEAS_TEXT_TO_IMAGE_MODEL": str(tiny_sd)})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(served):
    with orfeas_nb.connect(served.token_url) as client:
        yield client


@pytest.fixture(scope="module")
def disk(tmp_path_factory):
    path = tmp_path_factory.mktemp("images") / "disk.png"
    Image.fromarray(DISK).save(path)
    return path


@pytest.mark.parametrize("format", ["stl", "3mf"])
def test_image_to_3d_returns_the_model_a_local_call_makes(client, disk, format):
    remote = client.image_to_3d(disk, quality=3, size_mm=40, format=format, progress=False)
    local = orfeas_nb.image_to_3d(disk, quality=3, size_mm=40)
    assert isinstance(remote, Model3D)
    report = remote.report()
    assert report.watertight and report.triangles == len(local.mesh.faces)
    assert max(remote.mesh.extents) == pytest.approx(40, abs=1e-3)
    assert remote.manifest["parameters"] == local.manifest["parameters"]
    assert remote.manifest["input"] == local.manifest["input"]
    assert {key for key in remote.manifest if key not in ("timings_s", "created")} >= set(local.manifest) - {
        "timings_s", "created"}


def test_a_method_option_and_an_array_go_along(client):
    remote = client.image_to_3d(DISK, method="extrude", quality=2, size_mm=30, height_mm=4.0, progress=False)
    local = orfeas_nb.image_to_3d(DISK, method="extrude", quality=2, size_mm=30, height_mm=4.0)
    assert remote.manifest["parameters"]["height_mm"] == 4.0
    assert len(remote.mesh.faces) == len(local.mesh.faces) and remote.report().watertight


def test_a_model_exports_the_same_files_as_a_local_one(client, disk, tmp_path):
    remote = client.image_to_3d(disk, quality=2, size_mm=25, progress=False)
    path = remote.export(tmp_path / "disk.stl")
    assert path.stat().st_size == orfeas_nb.image_to_3d(disk, quality=2, size_mm=25).export(tmp_path / "l.stl").stat().st_size
    assert (tmp_path / "disk.manifest.json").is_file()


def raised(call) -> errors.OrfeasError:
    with pytest.raises(errors.OrfeasError) as caught:
        call()
    return caught.value


def same_error(local_call, remote_call) -> None:
    local, remote = raised(local_call), raised(remote_call)
    assert (type(remote), str(remote)) == (type(local), str(local))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(quality=st.one_of(st.integers(max_value=0), st.integers(min_value=11)))
def test_bad_quality_is_the_same_invalid_input_as_locally(client, disk, quality):
    same_error(lambda: orfeas_nb.image_to_3d(disk, quality=quality),
               lambda: client.image_to_3d(disk, quality=quality, progress=False))
    assert isinstance(raised(lambda: client.image_to_3d(disk, quality=quality, progress=False)), errors.InvalidInput)


@pytest.mark.parametrize("kwargs", [{"size_mm": 0}, {"method": "no-such-method"}, {"height_mm": -3.0},
                                    {"no_such_option": 1}])
def test_bad_values_are_the_same_errors_as_locally(client, disk, kwargs):
    same_error(lambda: orfeas_nb.image_to_3d(disk, **kwargs), lambda: client.image_to_3d(disk, progress=False, **kwargs))


@pytest.mark.parametrize("data", [b"not an image at all", b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                                  b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
def test_bad_images_are_the_same_errors_as_locally(client, data):
    same_error(lambda: orfeas_nb.image_to_3d(data), lambda: client.image_to_3d(data, progress=False))


def test_a_missing_file_is_the_same_error_as_locally(client, tmp_path):
    same_error(lambda: orfeas_nb.image_to_3d(tmp_path / "nope.png"),
               lambda: client.image_to_3d(tmp_path / "nope.png", progress=False))


def test_text_to_image_returns_a_picture_with_its_record(client):
    image = client.text_to_image("a small ceramic owl", seed=7, steps=2, progress=False)
    assert isinstance(image, Image.Image) and image.size == (64, 64)
    record = image.info["orfeas"]
    assert record["seed"] == 7 and record["task"] == "text_to_image" and record["prompt"] == "a small ceramic owl"
    again = client.text_to_image("a small ceramic owl", seed=7, steps=2, progress=False)
    assert np.array_equal(np.asarray(image), np.asarray(again))


def test_a_bad_prompt_is_the_same_error_as_locally(client):
    same_error(lambda: orfeas_nb.text_to_image("   "), lambda: client.text_to_image("   ", progress=False))


def test_text_to_3d_through_a_picture(client):
    model = client.text_to_3d("a chess pawn", method="relief", quality=2, size_mm=30, seed=3, steps=2, progress=False)
    assert model.report().watertight and max(model.mesh.extents) == pytest.approx(30, abs=1e-3)
    assert model.manifest["seed"] == 3 and model.manifest["prompt"] == "a chess pawn"


def test_text_to_3d_with_an_image_model(client, tiny_sd):
    model = client.text_to_3d("a rook", method="relief", quality=1, size_mm=20, image_model=str(tiny_sd), steps=1,
                              progress=False)
    assert model.report().watertight and str(tiny_sd) in json.dumps(model.manifest["image"])


def test_cancel_stops_the_job_on_the_server(client):
    cancel = threading.Event()
    with pytest.raises(errors.JobCancelled, match=r"text_to_image was cancelled \(job (\S+)\)") as caught:
        client.text_to_image("a slow owl", seed=1, steps=50, progress=False, cancel=cancel,
                             callback=lambda step, total: cancel.set())
    job_id = re.search(r"job (\S+)\)", str(caught.value)).group(1)
    deadline = time.monotonic() + 60
    while (status := client.status(job_id))["status"] not in ("done", "failed", "cancelled") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status["type"] == "text-to-image" and status["status"] == "cancelled"


def test_a_bad_token_is_a_clear_error(served):
    with orfeas_nb.connect(served.url, token="not-the-token") as client, pytest.raises(
            errors.InvalidInput, match="the token was not accepted; pass the server's token with token="):
        client.image_to_3d(DISK, progress=False)
    with orfeas_nb.connect(served.url, token="not-the-token") as client:
        assert client.health()["status"] in ("ready", "online")  # the one open route
