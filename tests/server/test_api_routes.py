"""Every route of the HTTP API through real HTTP on one Jupyter server; every answer checked against openapi.json."""

from __future__ import annotations

import hashlib
import io
import struct
import uuid
import zlib

import httpx
import pytest
import trimesh
from openapi_spec_validator import validate as validate_spec
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from .conftest import ApiServer, png, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]
UNKNOWN = str(uuid.uuid4())


@pytest.fixture(scope="module")
def api(tmp_path_factory, tiny_sd_folder):
    server = ApiServer(tmp_path_factory.mktemp("api"), env={
        "ORFEAS_TEXT_TO_IMAGE_MODEL": str(tiny_sd_folder), "HF_HUB_OFFLINE": "1", "ORFEAS_MAX_PIXELS": "4000000",
    })
    try:
        yield server.start()
    finally:
        server.stop()


def bomb() -> bytes:
    """A valid 1×1 PNG whose header claims 100000×100000 pixels (CRC fixed): a decompression bomb."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    ihdr = struct.pack(">II", 100_000, 100_000) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def metric(api: ApiServer, name: str, **labels: str) -> float:
    text = api.call("GET", "metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_the_description_is_valid_openapi_3_1(api):
    spec = api.call("GET", "openapi.json").json()
    validate_spec(spec)
    assert spec["openapi"] == "3.1.0"
    assert {"/orfeas/health", "/orfeas/jobs/{job_id}/model", "/orfeas/generate-3d"} <= set(spec["paths"])


def test_health_is_open_and_says_only_its_status(api):
    response = api.call("GET", "health", token=False)
    assert response.status_code == 200 and response.json() == {"status": "ready"}


def test_every_other_route_needs_the_token(api):
    for template, item in api.spec.spec["paths"].items():
        path = template.removeprefix("/orfeas/").replace("{job_id}", UNKNOWN)
        for method in ("get", "post", "delete"):
            if method not in item or path == "health":
                continue
            for headers in ({}, {"Authorization": "token wrong"}):
                response = api.call(method.upper(), path, token=False, headers=headers)
                assert response.status_code == 403, (method, path)
                assert response.json()["error"]["type"] == "Forbidden"
                assert "token" in response.json()["error"]["message"]
    assert api.call("GET", "no/such/route", token=False).status_code == 403


def test_a_cookie_post_needs_the_xsrf_header(api):
    browser = httpx.Client(base_url=api.url)
    browser.get("/login")
    xsrf = browser.cookies["_xsrf"]
    login = browser.post("/login", data={"password": api.token, "_xsrf": xsrf})
    assert login.status_code in (200, 302)
    assert browser.get("/orfeas/jobs").status_code == 200  # the login cookie is enough to read
    refused = browser.post("/orfeas/text-to-image", json={})
    api.spec.check("POST", "/orfeas/text-to-image", refused)
    assert refused.status_code == 403 and "_xsrf" in refused.json()["error"]["message"]
    accepted = browser.post("/orfeas/text-to-image", json={}, headers={"X-XSRFToken": xsrf})
    assert accepted.status_code == 400  # past auth: the empty body is what is wrong now
    assert "prompt" in accepted.json()["error"]["message"]
    browser.close()


def test_health_detailed(api):
    body = api.call("GET", "health-detailed").json()
    assert body["status"] == "healthy" and body["reason"] is None
    assert 0 <= body["memory_percent"] <= 100 and body["gpu_count"] == len(body["gpus"]) == 0
    assert body["gpu_available"] is False and body["kernels"] == 0
    assert body["engine"]["scheduler"] == "local"


def test_upload_answers(api):
    ok = api.upload(png(96, 64))
    assert ok.status_code == 200
    body = ok.json()
    assert (body["width"], body["height"]) == (96, 64) and len(body["sha256"]) == 64
    job = api.job(body["job_id"])
    assert job["type"] == "upload" and job["status"] == "done"
    preview = api.call("GET", f"jobs/{body['job_id']}/preview")
    assert Image.open(io.BytesIO(preview.content)).size == (96, 64)
    assert api.call("GET", f"jobs/{body['job_id']}/image").content == png(96, 64)

    missing = api.call("POST", "upload-image", files={"other": ("x.png", png(), "image/png")})
    assert missing.status_code == 400 and "'file'" in missing.json()["error"]["message"]
    svg = api.upload(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.svg")
    assert svg.status_code == 415 and svg.json()["error"]["type"] == "UnsupportedFormat"
    corrupt = api.upload(png()[:60])
    assert corrupt.status_code == 400 and "corrupt" in corrupt.json()["error"]["message"]
    bombed = api.upload(bomb())
    assert bombed.status_code == 400 and "ORFEAS_MAX_PIXELS" in bombed.json()["error"]["message"]


def test_the_life_cycle_gives_a_watertight_stl_of_size_mm(api):
    upload = api.upload(png()).json()
    accepted = api.call("POST", "generate-3d", json={"job_id": upload["job_id"], "quality": 2, "size_mm": 40})
    assert accepted.status_code == 202
    job_id = accepted.json()["job_id"]
    assert str(uuid.UUID(job_id, version=4)) == job_id and accepted.json()["status_url"] == f"/orfeas/jobs/{job_id}"
    job = api.wait_job(job_id)
    assert job["status"] == "done" and job["progress"] == 1.0 and job["error"] is None, job
    assert job["report"]["watertight"] and job["format"] == "stl"
    model = api.call("GET", f"jobs/{job_id}/model")
    assert model.headers["content-type"] == "model/stl"
    assert model.headers["content-disposition"] == f'attachment; filename="orfeas-{job_id[:8]}-model.stl"'
    mesh = trimesh.load(io.BytesIO(model.content), file_type="stl")
    assert mesh.is_watertight and max(mesh.extents) == pytest.approx(40.0, rel=1e-4)
    manifest = api.call("GET", f"jobs/{job_id}/manifest").json()
    assert manifest["method"] == "relief" and manifest["parameters"]["size_mm"] == 40.0
    assert manifest["input"]["sha256"] == upload["sha256"]
    assert manifest["output"] == {"name": "model.stl", "sha256": hashlib.sha256(model.content).hexdigest(),
                                  "bytes": len(model.content), "format": "stl"}  # as a local export's sidecar
    assert api.call("GET", f"jobs/{job_id}/preview").headers["content-type"] == "image/png"
    # a finished job is not changed by DELETE
    assert api.call("DELETE", f"jobs/{job_id}").json()["status"] == "done"


@pytest.mark.parametrize(("fmt", "media"), [("3mf", "model/3mf"), ("glb", "model/gltf-binary")])
def test_other_formats(api, fmt, media):
    upload = api.upload(png()).json()
    job_id = api.call("POST", "generate-3d", json={"job_id": upload["job_id"], "quality": 1, "format": fmt}).json()["job_id"]
    assert api.wait_job(job_id)["status"] == "done"
    model = api.call("GET", f"jobs/{job_id}/model")
    assert model.headers["content-type"] == media
    mesh = trimesh.load(io.BytesIO(model.content), file_type=fmt, force="mesh")
    assert max(mesh.extents) == pytest.approx(100.0, rel=1e-3)


def test_method_options_from_the_catalogue_pass_through(api):
    upload = api.upload(png()).json()["job_id"]
    body = {"job_id": upload, "quality": 1, "printer": "resin", "height_mm": 3}
    job = api.wait_job(api.call("POST", "generate-3d", json=body).json()["job_id"])
    assert job["status"] == "done", job
    manifest = api.call("GET", f"jobs/{job['job_id']}/manifest").json()
    assert manifest["parameters"]["printer"] == "resin" and manifest["parameters"]["height_mm"] == 3.0
    refused = api.call("POST", "generate-3d", json={**body, "printer": "laser"})
    assert refused.status_code == 400 and "fdm, resin, exact" in refused.json()["error"]["message"]


def test_generate_refuses_bad_values_and_unknown_jobs(api):
    upload = api.upload(png()).json()["job_id"]
    for body, words in [
        ({"job_id": upload, "quality": 11}, "quality"),
        ({"job_id": upload, "format": "dwg"}, "dwg"),
        ({"job_id": upload, "method": "magic"}, "unknown method"),
        ({"job_id": upload, "height_mm": -3}, "height_mm"),
        ({"job_id": upload, "colour": "red"}, "no option colour"),
        ({"job_id": upload, "prompt": "an owl"}, "either job_id"),
        ({}, "either job_id"),
        ({"prompt": ""}, "prompt"),
    ]:
        response = api.call("POST", "generate-3d", json=body)
        assert response.status_code == 400, body
        assert words in response.json()["error"]["message"], response.json()
    assert api.call("POST", "generate-3d", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    for unknown in (UNKNOWN, "../../etc/passwd"):
        response = api.call("POST", "generate-3d", json={"job_id": unknown})
        assert response.status_code == 404 and response.json()["error"]["type"] == "NotFound"


def test_text_to_image_then_a_model_from_it(api):
    for body in ({}, {"prompt": "  "}, {"prompt": "owl", "steps": 0}, {"prompt": "owl", "width": 100},
                 {"prompt": "owl", "art_style": "baroque"}, {"prompt": "owl", "colour": "red"}):
        assert api.call("POST", "text-to-image", json=body).status_code == 400, body
    accepted = api.call("POST", "text-to-image", json={"prompt": "a small owl", "art_style": "cartoon", "seed": 3,
                                                        "steps": 2, "width": 64, "height": 64})
    assert accepted.status_code == 202
    job = api.wait_job(accepted.json()["job_id"], timeout=300)
    assert job["status"] == "done", job
    assert (job["width"], job["height"], job["seed"]) == (64, 64, 3)
    image = api.call("GET", f"jobs/{job['job_id']}/image")
    assert Image.open(io.BytesIO(image.content)).size == (64, 64) and image.headers["content-type"] == "image/png"
    manifest = api.call("GET", f"jobs/{job['job_id']}/manifest").json()
    assert manifest["seed"] == 3 and manifest["output"]["sha256"] == hashlib.sha256(image.content).hexdigest()
    assert Image.open(io.BytesIO(image.content)).text["orfeas"]  # the picture carries its record, as a local PNG does
    model = api.call("POST", "generate-3d", json={"job_id": job["job_id"], "quality": 1, "size_mm": 30}).json()
    done = api.wait_job(model["job_id"])
    assert done["status"] == "done" and done["report"]["watertight"]
    assert max(done["report"]["bounds_mm"]) == pytest.approx(30.0, rel=1e-4)


def test_a_prompt_only_model(api):
    accepted = api.call("POST", "generate-3d", json={"prompt": "a chess pawn", "method": "relief", "steps": 2,
                                                     "seed": 5, "quality": 1, "size_mm": 25})
    job = api.wait_job(accepted.json()["job_id"], timeout=300)
    assert job["status"] == "done", job
    manifest = api.call("GET", f"jobs/{job['job_id']}/manifest").json()
    assert manifest["task"] == "text_to_3d" and manifest["prompt"] == "a chess pawn" and manifest["seed"] == 5
    mesh = trimesh.load(io.BytesIO(api.call("GET", f"jobs/{job['job_id']}/model").content), file_type="stl")
    assert mesh.is_watertight and max(mesh.extents) == pytest.approx(25.0, rel=1e-4)


def test_cancel_while_running(api):
    body = {"prompt": "a slow owl", "steps": 200, "width": 64, "height": 64}
    job_id = api.call("POST", "text-to-image", json=body).json()["job_id"]
    running = wait_for(lambda: (j := api.job(job_id))["progress"] > 0.02 and j, 300, "the job to take steps")
    cancelled = api.call("DELETE", f"jobs/{job_id}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] in ("running", "cancelled")
    job = api.wait_job(job_id, timeout=120)
    assert job["status"] == "cancelled" and job["error"]["type"] == "JobCancelled", job
    assert running["progress"] <= job["progress"] < 0.9
    assert api.call("GET", f"jobs/{job_id}/image").status_code == 404


def test_jobs_are_listed_newest_first_in_pages(api):
    ids = [api.upload(png(32 + i, 32)).json()["job_id"] for i in range(3)]
    first = api.call("GET", "jobs?limit=2").json()
    assert [j["job_id"] for j in first["jobs"]] == ids[::-1][:2] and first["limit"] == 2 and first["offset"] == 0
    second = api.call("GET", "jobs?limit=2&offset=2").json()
    assert second["jobs"][0]["job_id"] == ids[0] and first["total"] == second["total"] >= 3
    assert api.call("GET", "jobs?limit=lots").status_code == 400


def test_missing_jobs_files_and_methods(api):
    upload = api.upload(png()).json()["job_id"]
    for path in (f"jobs/{UNKNOWN}", f"jobs/{UNKNOWN}/model", "jobs/not-a-uuid", f"jobs/{upload}/model",
                 f"jobs/{upload}/manifest", "no/such/route"):
        response = api.call("GET", path)
        assert response.status_code == 404 and response.json()["error"]["type"] == "NotFound", path
    assert api.call("DELETE", f"jobs/{UNKNOWN}").status_code == 404
    for method, path in (("PUT", "jobs"), ("POST", "health-detailed"), ("DELETE", "openapi.json")):
        response = api.call(method, path)
        assert response.status_code == 405 and response.json()["error"]["type"] == "MethodNotAllowed"


def test_request_metrics_count_every_request_by_route_template(api):
    job_id = api.upload(png()).json()["job_id"]
    labels = {"method": "GET", "endpoint": "jobs/{id}", "status": "200"}
    before = metric(api, "orfeas_requests_total", **labels)
    missing_before = metric(api, "orfeas_requests_total", method="GET", endpoint="jobs/{id}", status="404")
    count_before = metric(api, "orfeas_request_duration_seconds_count", method="GET", endpoint="jobs/{id}")
    for _ in range(3):
        api.job(job_id)
    api.call("GET", f"jobs/{UNKNOWN}")
    assert metric(api, "orfeas_requests_total", **labels) == before + 3
    assert metric(api, "orfeas_requests_total", method="GET", endpoint="jobs/{id}", status="404") == missing_before + 1
    assert metric(api, "orfeas_request_duration_seconds_count", method="GET", endpoint="jobs/{id}") == count_before + 4
    assert metric(api, "orfeas_requests_total", method="GET", endpoint="health", status="200") >= 1
    unknown_before = metric(api, "orfeas_requests_total", method="GET", endpoint="unknown", status="404")
    api.call("GET", f"no/such/{UNKNOWN}")
    assert metric(api, "orfeas_requests_total", method="GET", endpoint="unknown", status="404") == unknown_before + 1
    text = api.call("GET", "metrics").text
    assert UNKNOWN not in text  # never the raw path
    # jobs run by the engine's workers count as generations
    made = metric(api, "orfeas_generations_total", type="image_to_3d", provider="relief", status="success")
    accepted = api.call("POST", "generate-3d", json={"job_id": job_id, "quality": 1})
    assert api.wait_job(accepted.json()["job_id"])["status"] == "done"
    assert metric(api, "orfeas_generations_total", type="image_to_3d", provider="relief", status="success") == made + 1


def test_a_server_fault_is_a_json_500_without_details_and_is_counted(api):
    job_id = api.upload(png()).json()["job_id"]
    (api.jobs_dir / "files" / job_id / "preview.png").unlink()  # the disk lost a file the record names
    before = metric(api, "orfeas_requests_total", method="GET", endpoint="jobs/{id}/preview", status="500")
    response = api.call("GET", f"jobs/{job_id}/preview")
    assert response.status_code == 500
    assert response.json()["error"] == {"type": "InternalError",
                                        "message": "the server failed to answer; its log has the details"}
    assert "Traceback" not in response.text and str(api.jobs_dir) not in response.text
    assert metric(api, "orfeas_requests_total", method="GET", endpoint="jobs/{id}/preview", status="500") == before + 1
