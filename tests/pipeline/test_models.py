"""Model resolution (folders, hub cache, offline) and the bounded, locked pipeline cache."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import torch

from orfeas_nb.errors import ModelUnavailable, OutOfResources
from orfeas_nb.pipeline import models

pytestmark = pytest.mark.unit


def _folder(tmp_path, marker="model_index.json", name="m", declared="X"):
    folder = tmp_path / name
    folder.mkdir()
    (folder / marker).write_text(json.dumps({"_class_name": declared}))
    (folder / "weights.bin").write_bytes(b"\0" * 100)
    return folder


def test_a_folder_is_used_as_is_with_a_content_fingerprint(tmp_path):
    folder = _folder(tmp_path)
    source = models.resolve("text_to_image", folder)
    assert source.path == folder and source.revision.startswith("sha256:")
    assert source.describe() == {"id": str(folder), "revision": source.revision, "source": "folder"}
    assert models.resolve("text_to_image", str(folder)).revision == source.revision
    (folder / "weights.bin").write_bytes(b"\1" * 100)
    assert models.resolve("text_to_image", folder).revision != source.revision


def test_a_folder_of_the_wrong_kind_names_the_missing_file(tmp_path):
    folder = _folder(tmp_path, marker="config.json")
    with pytest.raises(ModelUnavailable, match=r"has no model_index.json"):
        models.resolve("shap_e", folder)
    assert models.resolve("depth", folder).path == folder


def test_a_missing_folder_says_how_to_provide_one(tmp_path):
    with pytest.raises(ModelUnavailable) as info:
        models.resolve("depth", tmp_path / "nowhere")
    message = str(info.value)
    assert "nowhere does not exist" in message and "ORFEAS_DEPTH_MODEL" in message
    assert info.value.exit_code == 3


def test_an_uncached_hub_id_offline_names_model_cache_and_remedies(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ModelUnavailable) as info:
        models.resolve("text_to_image", "stabilityai/sd-turbo")
    message = str(info.value)
    for part in ("'stabilityai/sd-turbo'", str(tmp_path / "cache"), "HF_HUB_OFFLINE is set",
                 "ORFEAS_TEXT_TO_IMAGE_MODEL", "local folder", "connected machine"):
        assert part in message


def test_the_default_comes_from_the_environment(monkeypatch, tmp_path):
    folder = _folder(tmp_path, marker="config.json")
    monkeypatch.setenv("ORFEAS_DEPTH_MODEL", str(folder))
    assert models.resolve("depth").path == folder


def test_a_cached_hub_snapshot_is_found_without_network(monkeypatch, tmp_path):
    cache = tmp_path / "hub"
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / "models--acme--tiny"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    source = models.resolve("depth", "acme/tiny")
    assert source.path == snapshot and source.revision == f"hub:{commit}"
    assert source.describe()["source"] == "hub"
    rows = dict(models.inventory())
    assert any(status.startswith("missing") for status in rows.values())


def test_unreachable_hub_is_detected_quickly(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    assert models.hub_reachable(timeout=1.0) is False
    monkeypatch.delenv("HF_HUB_OFFLINE")
    with pytest.raises(ModelUnavailable, match="the hub cannot be reached"):
        models.resolve("depth", "acme/not-cached")


def _source(name="a"):
    return models.ModelSource("depth", name, None, "hub:latest")


def test_cache_loads_once_and_stays_bounded(monkeypatch):
    monkeypatch.setenv("ORFEAS_RESIDENT_MODELS", "1")
    cache = models.PipelineCache()
    loads = []

    def loader(name):
        return lambda: loads.append(name) or f"pipe-{name}"

    with cache.use(_source("a"), "cpu", torch.float32, loader("a")) as pipe:
        assert pipe == "pipe-a"
    with cache.use(_source("a"), "cpu", torch.float32, loader("a")):
        pass
    assert loads == ["a"] and len(cache) == 1
    with cache.use(_source("b"), "cpu", torch.float32, loader("b")):
        pass
    assert [key[1] for key in cache.keys()] == ["b"]
    with cache.use(_source("a"), "cpu", torch.float16, loader("a")):
        pass
    assert loads == ["a", "b", "a"]
    cache.clear()
    assert len(cache) == 0


def test_one_job_at_a_time_per_pipeline():
    cache = models.PipelineCache()
    inside, order = threading.Event(), []

    def first():
        with cache.use(_source(), "cpu", torch.float32, lambda: "pipe"):
            inside.set()
            time.sleep(0.2)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    inside.wait(5)
    with cache.use(_source(), "cpu", torch.float32, lambda: "pipe"):
        order.append("second in")
    thread.join()
    assert order == ["first done", "second in"]


def test_a_broken_folder_becomes_model_unavailable():
    def broken():
        raise OSError("Error no file named diffusion_pytorch_model.safetensors found")

    with pytest.raises(ModelUnavailable, match=r"could not load depth model 'a'.*diffusion_pytorch_model"):
        with models.PipelineCache().use(_source(), "cpu", torch.float32, broken):
            pass


def test_out_of_memory_drops_the_pipeline(monkeypatch):
    cache = models.PipelineCache()
    with pytest.raises(OutOfResources, match="depth with a ran out of memory"):
        with cache.use(_source(), "cpu", torch.float32, lambda: "pipe"):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
    assert len(cache) == 0


def test_doctor_lists_device_and_which_models_are_present(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("ORFEAS_SHAP_E_MODEL", str(_folder(tmp_path, declared="ShapEPipeline")))
    result = cli("doctor")
    assert result.exit_code == 0
    out = result.stdout
    assert "device:\n" in out and "  device: cpu" in out and "GiB free of" in out
    assert "models:\n" in out
    assert f"shap_e {tmp_path / 'm'}: local folder (sha256:" in out
    assert "text_to_image stabilityai/sd-turbo: missing:" in out and "ORFEAS_TEXT_TO_IMAGE_MODEL" in out
