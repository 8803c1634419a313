"""A GPU out-of-memory inside a (tiny, real) diffusers model: OutOfResources with advice, and the memory let go.

"Let go" is checked with weak references while the error is still held, as a notebook holds the last
exception (``sys.last_value``): neither the pipeline nor its UNet may survive a garbage collection.
"""

from __future__ import annotations

import gc
import weakref

import pytest

import orfeas_nb
from orfeas_nb.errors import OutOfResources

pytestmark = [pytest.mark.security, pytest.mark.slow]

torch = pytest.importorskip("torch", reason="the ml extra is not installed")  # CI installs it (.ci/run)


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory):
    from tests.tiny_models import build_tiny_sd

    return build_tiny_sd(tmp_path_factory.mktemp("tiny") / "sd")


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _generate(folder):
    return orfeas_nb.text_to_image("a small owl", model=folder, steps=1, seed=3, progress=False)


def _exhaust_cached_unet(folder):
    """Make the resident pipeline's UNet raise CUDA OOM; return weak references to the pipeline and UNet."""
    from orfeas_nb.pipeline import models

    (key,) = [k for k in models.CACHE.keys() if k[0] == "text_to_image" and k[1] == str(folder)]
    pipe = models.CACHE._entries[key].pipeline

    def exhausted(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    pipe.unet.forward = exhausted  # on the instance: no test helper keeps a reference to it
    return key, weakref.ref(pipe), weakref.ref(pipe.unet)


def test_oom_becomes_out_of_resources_with_advice_and_frees_the_pipeline(tiny_sd):
    from orfeas_nb.pipeline import models

    _generate(tiny_sd)
    key, pipe, unet = _exhaust_cached_unet(tiny_sd)
    with pytest.raises(OutOfResources) as info:
        _generate(tiny_sd)
    message = str(info.value)
    assert "ran out of memory" in message
    assert "ORFEAS_CPU_OFFLOAD=on" in message and "ORFEAS_DEVICE=cpu" in message  # what to do next
    assert isinstance(info.value.__cause__, torch.cuda.OutOfMemoryError)
    assert key not in models.CACHE.keys()
    gc.collect()
    assert pipe() is None and unet() is None, "the error still holds the pipeline: its memory is not freed"
    assert _generate(tiny_sd).size == (64, 64)  # the next generation loads a fresh pipeline


def test_oom_in_the_cli_is_exit_4_and_one_line(tiny_sd, cli, tmp_path):
    _generate(tiny_sd)
    _exhaust_cached_unet(tiny_sd)
    out = tmp_path / "owl.png"
    result = cli("text-to-image", "a small owl", "-o", out, "--model", tiny_sd, "--steps", 1, "--seed", 3)
    assert result.exit_code == 4
    last = result.stderr.split("\r")[-1]  # what the terminal shows once the progress bar has been cleared
    assert last.count("\n") == 1 and last.startswith("error: ") and "out of memory" in last
    assert "Traceback" not in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []
