"""Host readings (psutil, NVML, torch) apart from their exposure, the sampler thread, and the collector."""

from __future__ import annotations

import sys
import threading
import types

import pytest
from prometheus_client import CollectorRegistry

from orfeas_nb.monitoring import readers
from orfeas_nb.monitoring.collector import HostCollector
from orfeas_nb.monitoring.readers import GpuMemory, HostSnapshot, read_host
from orfeas_nb.monitoring.sampler import Sampler

pytestmark = pytest.mark.unit


def fake_nvml(used: list[int], total: int, fail: bool = False) -> types.ModuleType:
    """A stand-in for nvidia-ml-py with the four calls the reader uses."""
    module = types.ModuleType("pynvml")

    class NVMLError(Exception):
        pass

    def init():
        if fail:
            raise NVMLError("Driver Not Loaded")

    module.NVMLError = NVMLError
    module.nvmlInit = init
    module.nvmlShutdown = lambda: None
    module.nvmlDeviceGetCount = lambda: len(used)
    module.nvmlDeviceGetHandleByIndex = lambda index: index
    module.nvmlDeviceGetMemoryInfo = lambda handle: types.SimpleNamespace(used=used[handle], total=total)
    return module


def fake_torch(initialized: bool) -> types.ModuleType:
    torch = types.ModuleType("torch")
    torch.cuda = types.SimpleNamespace(
        is_available=lambda: True,
        is_initialized=lambda: initialized,
        device_count=lambda: 2,
        memory_reserved=lambda index: (index + 1) * 2**30,
        get_device_properties=lambda index: types.SimpleNamespace(total_memory=16 * 2**30),
    )
    return torch


def test_host_reading_on_this_machine():
    snapshot = read_host()
    assert 0 <= snapshot.cpu_percent <= 100
    assert 0 < snapshot.memory_used_bytes < snapshot.memory_total_bytes
    assert all(g.used_bytes <= g.total_bytes for g in snapshot.gpus)


def test_gpu_memory_from_nvml_when_it_works(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml([3 * 2**30, 5 * 2**30], 80 * 2**30))
    assert readers.gpu_memory() == [GpuMemory("0", 3 * 2**30, 80 * 2**30, "nvml"), GpuMemory("1", 5 * 2**30, 80 * 2**30, "nvml")]


def test_gpu_memory_falls_back_to_torch_of_this_process(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml([], 0, fail=True))
    monkeypatch.setitem(sys.modules, "torch", fake_torch(initialized=True))
    found = [(g.gpu_id, g.used_bytes, g.source) for g in readers.gpu_memory()]
    assert found == [("0", 2**30, "torch"), ("1", 2 * 2**30, "torch")]


def test_gpu_memory_never_creates_a_cuda_context_or_imports_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)
    monkeypatch.setitem(sys.modules, "torch", fake_torch(initialized=False))
    assert readers.gpu_memory() == []
    monkeypatch.delitem(sys.modules, "torch")
    assert readers.gpu_memory() == []
    assert "torch" not in sys.modules


def test_readers_without_psutil(monkeypatch):
    monkeypatch.setitem(sys.modules, "psutil", None)
    monkeypatch.setitem(sys.modules, "pynvml", None)
    assert read_host().cpu_percent is None
    assert read_host().memory_used_bytes is None


def test_collector_exposes_a_snapshot_and_leaves_out_unknowns():
    registry = CollectorRegistry()
    snapshot = HostSnapshot(cpu_percent=37.5, memory_used_bytes=2**30, memory_total_bytes=None,
                            gpus=(GpuMemory("0", 10, 100, "nvml"), GpuMemory("1", 20, 100, "nvml")))
    registry.register(HostCollector(lambda: snapshot))
    assert registry.get_sample_value("orfeas_cpu_usage_percent") == 37.5
    assert registry.get_sample_value("orfeas_memory_usage_bytes") == 2**30
    assert registry.get_sample_value("orfeas_memory_total_bytes") is None
    assert registry.get_sample_value("orfeas_gpu_memory_bytes", {"gpu_id": "1"}) == 20
    assert registry.get_sample_value("orfeas_gpu_memory_total_bytes", {"gpu_id": "0"}) == 100
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        registry.register(HostCollector(lambda: None))  # describe() names the metrics it owns


def test_collector_before_the_first_sample():
    registry = CollectorRegistry()
    registry.register(HostCollector(lambda: None))
    assert registry.get_sample_value("orfeas_cpu_usage_percent") is None


def test_sampler_reads_off_the_calling_thread_and_survives_a_failing_reader(caplog):
    seen = threading.Event()
    values = iter([1, 2])
    threads = []

    def read():
        threads.append(threading.current_thread().name)
        try:
            return next(values)
        except StopIteration:
            seen.set()
            raise RuntimeError("sensor gone") from None

    sampler = Sampler(read, interval=0.01, name="test-sampler").start()
    assert sampler.running
    assert seen.wait(5)
    sampler.stop()
    assert not sampler.running
    assert sampler.latest() == 2  # the failure kept the last good value
    assert threads[0] == threading.current_thread().name and "test-sampler" in threads[1:]
    assert "reading failed" in caplog.text


def test_sampler_rejects_a_bad_interval():
    with pytest.raises(ValueError, match="interval"):
        Sampler(lambda: 0, interval=0)
