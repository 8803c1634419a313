"""Tiny model fixtures (built once per session) and an offline hub for every pipeline test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _offline_hub(monkeypatch, tmp_path_factory):
    """Offline hub (hub ids are looked up in the local cache only) with an empty cache of its own, and no
    ORFEAS_* model or device overrides."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path_factory.mktemp("hf_cache")))
    for name in ("ORFEAS_DEVICE", "ORFEAS_DTYPE", "ORFEAS_CPU_OFFLOAD", "ORFEAS_RESIDENT_MODELS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory):
    return tmp_path_factory.mktemp("tiny_models")


@pytest.fixture(scope="session")
def tiny_sd(tiny_root):
    """A tiny Stable Diffusion folder (64×64 images)."""
    from tests.tiny_models import build_tiny_sd

    return build_tiny_sd(tiny_root / "sd")


@pytest.fixture(scope="session")
def tiny_depth(tiny_root):
    """A tiny Depth Anything folder."""
    from tests.tiny_models import build_tiny_depth

    return build_tiny_depth(tiny_root / "depth")


@pytest.fixture(scope="session")
def tiny_shap_e(tiny_root):
    """A tiny Shap-E text→3D folder."""
    from tests.tiny_models import build_tiny_shap_e

    return build_tiny_shap_e(tiny_root / "shap_e", "text")


@pytest.fixture(scope="session")
def tiny_shap_e_img2img(tiny_root):
    """A tiny Shap-E image→3D folder."""
    from tests.tiny_models import build_tiny_shap_e

    return build_tiny_shap_e(tiny_root / "shap_e_img2img", "image")


class StepRecorder:
    """A progress callback that records (step, total) and can set a cancel event at a given step."""

    def __init__(self, cancel_at: int | None = None):
        import threading

        self.calls: list[tuple[int, int]] = []
        self.cancel = threading.Event()
        self.cancel_at = cancel_at

    def __call__(self, step: int, total: int) -> None:
        self.calls.append((step, total))
        if self.cancel_at is not None and step >= self.cancel_at:
            self.cancel.set()


@pytest.fixture
def recorder():
    return StepRecorder
