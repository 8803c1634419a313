"""Read host values (CPU, memory, GPU memory) without exposing them: plain functions, plain data.

Each reader degrades to "unknown" instead of failing: psutil may be missing, NVML may have no
driver, torch may not be loaded. GPU memory comes from NVML (``nvidia-ml-py``, whole device, every
process) when it works, else from torch for the devices this process has already initialised —
this module never imports torch nor creates a CUDA context.

    >>> snapshot = read_host()
    >>> snapshot.memory_total_bytes is None or snapshot.memory_total_bytes > 0
    True
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


@dataclass(frozen=True)
class GpuMemory:
    """Memory of one GPU: bytes in use and the device's total, and where the numbers came from."""

    gpu_id: str
    used_bytes: int
    total_bytes: int
    source: str


@dataclass(frozen=True)
class HostSnapshot:
    """One reading of the host. ``None`` means the value could not be read here."""

    cpu_percent: float | None = None
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    gpus: tuple[GpuMemory, ...] = field(default_factory=tuple)


_primed = False


def cpu_percent() -> float | None:
    """System-wide CPU use in percent since the previous call (the first call measures over 0.1 s)."""
    global _primed
    try:
        import psutil
    except ImportError:
        return None
    value = psutil.cpu_percent(interval=None if _primed else 0.1)
    _primed = True
    return float(value)


def memory() -> tuple[int | None, int | None]:
    """System memory (used bytes, total bytes); (None, None) without psutil."""
    try:
        import psutil
    except ImportError:
        return None, None
    vm = psutil.virtual_memory()
    return int(vm.total - vm.available), int(vm.total)


def _nvml_gpus() -> list[GpuMemory] | None:
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        try:
            gpus = []
            for index in range(pynvml.nvmlDeviceGetCount()):
                info = pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(index))
                gpus.append(GpuMemory(str(index), int(info.used), int(info.total), "nvml"))
            return gpus
        finally:
            pynvml.nvmlShutdown()
    except pynvml.NVMLError:
        return None


def _torch_gpus() -> list[GpuMemory]:
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    if cuda is None or not cuda.is_available() or not cuda.is_initialized():
        return []
    return [
        GpuMemory(str(index), int(cuda.memory_reserved(index)), int(cuda.get_device_properties(index).total_memory), "torch")
        for index in range(cuda.device_count())
    ]


def gpu_memory() -> list[GpuMemory]:
    """Memory of every visible GPU: NVML when it works, else torch's view of this process; [] without a GPU."""
    gpus = _nvml_gpus()
    return _torch_gpus() if gpus is None else gpus


def read_host() -> HostSnapshot:
    """Read CPU, memory and GPU memory now."""
    used, total = memory()
    return HostSnapshot(cpu_percent(), used, total, tuple(gpu_memory()))
