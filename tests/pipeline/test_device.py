"""Device, dtype, memory and out-of-memory mapping (no model needed)."""

from __future__ import annotations

import pytest
import torch

from orfeas_nb.errors import InvalidInput, OutOfResources
from orfeas_nb.pipeline import device

pytestmark = pytest.mark.unit


def test_cpu_is_picked_without_accelerators(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert device.pick_device() == "cpu"
    assert device.pick_dtype("cpu") == torch.float32


def test_cuda_is_preferred_and_gets_half_precision(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert device.pick_device() == "cuda"
    assert device.pick_device("cuda:0") == "cuda:0"
    assert device.pick_dtype("cuda") == torch.float16
    monkeypatch.setenv("ORFEAS_DTYPE", "bfloat16")
    assert device.pick_dtype("cuda") == torch.bfloat16
    with pytest.raises(InvalidInput, match="1 CUDA device"):
        device.pick_device("cuda:3")


def test_environment_chooses_the_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("ORFEAS_DEVICE", "cpu")
    assert device.pick_device() == "cpu"
    monkeypatch.setenv("ORFEAS_DEVICE", "cuda")
    with pytest.raises(InvalidInput, match=r"'cuda' is not available here; use one of: .*cpu"):
        device.pick_device()


@pytest.mark.parametrize("name", ["tpu", "cpu:1", "cuda:x"])
def test_unknown_devices_are_refused(monkeypatch, name):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(InvalidInput, match="not available"):
        device.pick_device(name)


def test_dtype_checks(monkeypatch):
    with pytest.raises(InvalidInput, match="unknown dtype 'float8'"):
        device.pick_dtype("cpu", "float8")
    with pytest.raises(InvalidInput, match="float16 is not supported on the CPU"):
        device.pick_dtype("cpu", "float16")
    monkeypatch.setenv("ORFEAS_DTYPE", "float32")
    assert device.pick_dtype("cuda") == torch.float32


def test_cpu_memory_figures():
    mem = device.memory("cpu")
    assert 0 < mem.free_bytes <= mem.total_bytes


def test_offload_only_on_a_short_gpu(monkeypatch):
    assert device.wants_offload("cpu", 10**12) is False
    monkeypatch.setattr(device, "memory", lambda d: device.Memory(d, 4 * 2**30, 8 * 2**30, "fake"))
    assert device.wants_offload("cuda", 3 * 2**30) is True  # 4 GiB free < 2 × 3 GiB
    assert device.wants_offload("cuda", 1 * 2**30) is False
    monkeypatch.setenv("ORFEAS_CPU_OFFLOAD", "off")
    assert device.wants_offload("cuda", 3 * 2**30) is False
    monkeypatch.setenv("ORFEAS_CPU_OFFLOAD", "on")
    assert device.wants_offload("cuda", 1) is True
    monkeypatch.setenv("ORFEAS_CPU_OFFLOAD", "sometimes")
    with pytest.raises(InvalidInput, match="ORFEAS_CPU_OFFLOAD must be one of auto, on, off"):
        device.wants_offload("cuda", 1)


def test_seeded_generators_repeat():
    first = torch.randn(4, generator=device.generator("cpu", 5))
    again = torch.randn(4, generator=device.generator("cpu", 5))
    other = torch.randn(4, generator=device.generator("cpu", 6))
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_out_of_memory_is_mapped_and_memory_released(monkeypatch):
    dropped, emptied = [], []
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
    with pytest.raises(OutOfResources, match=r"ran out of memory on cuda .*ORFEAS_CPU_OFFLOAD=on") as info:
        with device.oom_guard("text to image", "cuda", on_oom=lambda: dropped.append(True)):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    assert isinstance(info.value.__cause__, torch.cuda.OutOfMemoryError)
    assert dropped == [True] and emptied == [True]
    assert info.value.exit_code == 4


def test_other_errors_pass_through_the_guard():
    with pytest.raises(KeyError), device.oom_guard("x", "cpu"):
        raise KeyError("not memory")


def test_describe_lists_device_and_memory(monkeypatch):
    rows = dict(device.describe())
    assert rows["device"] == "cpu" and rows["dtype"] == "float32"
    assert "GiB free of" in rows["memory"]
    monkeypatch.setenv("ORFEAS_DEVICE", "tpu")
    assert "misconfigured" in dict(device.describe())["device"]
