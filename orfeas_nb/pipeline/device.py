"""Compute device, dtype and memory: cuda → mps → cpu unless ``ORFEAS_DEVICE`` says otherwise.

Half precision (float16) on CUDA, float32 elsewhere; ``ORFEAS_DTYPE`` overrides (bfloat16 is
selectable). Out-of-memory errors become :class:`~orfeas_nb.errors.OutOfResources` with advice, and
the memory is given back.

    >>> pick_device("cpu")
    'cpu'
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import config
from ..errors import InvalidInput, out_of_memory_mapped

DTYPES = ("auto", "float16", "bfloat16", "float32")
OFFLOAD_MODES = ("auto", "on", "off")


def _torch():
    import torch

    return torch


def pick_device(requested: str | None = None) -> str:
    """The torch device to use: ``requested``, else ``ORFEAS_DEVICE``, else cuda → mps → cpu.

    A requested device that is not present is an :class:`InvalidInput` naming the ones that are.
    """
    torch = _torch()
    wanted = (requested or config.get("device")).strip().lower()
    available = ["cpu"]
    if torch.cuda.is_available():
        available.insert(0, "cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        available.insert(-1, "mps")
    if not wanted:
        return available[0]
    kind, _, index = wanted.partition(":")
    if kind not in available or (index and (kind != "cuda" or not index.isdigit())):
        raise InvalidInput(
            f"device {wanted!r} is not available here; use one of: {', '.join(available)} "
            "(set ORFEAS_DEVICE or leave it empty to pick automatically)"
        )
    if index and int(index) >= torch.cuda.device_count():
        raise InvalidInput(f"device {wanted!r} does not exist: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return wanted


def pick_dtype(device: str, requested: str | None = None) -> Any:
    """The torch dtype for ``device``: float16 on CUDA, float32 elsewhere, unless ``ORFEAS_DTYPE`` says otherwise."""
    torch = _torch()
    name = (requested or config.get("dtype")).strip().lower()
    if name not in DTYPES:
        raise InvalidInput(f"unknown dtype {name!r}; choose one of: {', '.join(DTYPES)} (ORFEAS_DTYPE)")
    if name == "auto":
        name = "float16" if device.startswith("cuda") else "float32"
    if name != "float32" and device == "cpu":
        raise InvalidInput(f"{name} is not supported on the CPU here; use float32 or auto (ORFEAS_DTYPE)")
    return getattr(torch, name)


def generator(device: str, seed: int) -> Any:
    """A seeded ``torch.Generator`` on the device the sampling runs on (the CPU for mps)."""
    torch = _torch()
    return torch.Generator(device="cpu" if device == "mps" else device).manual_seed(int(seed))


@dataclass(frozen=True)
class Memory:
    """Free and total bytes of a device (for the CPU: available and total system memory)."""

    device: str
    free_bytes: int
    total_bytes: int
    name: str


def memory(device: str) -> Memory:
    """Free and total memory of ``device``."""
    torch = _torch()
    if device.startswith("cuda"):
        index = torch.device(device).index or 0
        free, total = torch.cuda.mem_get_info(index)
        return Memory(device, int(free), int(total), torch.cuda.get_device_name(index))
    import psutil

    vm = psutil.virtual_memory()
    return Memory(device, int(vm.available), int(vm.total), "system memory")


def wants_offload(device: str, weight_bytes: int) -> bool:
    """Whether to use accelerate's model CPU offload: ``ORFEAS_CPU_OFFLOAD`` on, or auto and the GPU is short.

    "Short" means less free memory than twice the weights (activations need room too).
    """
    mode = config.get("cpu_offload").strip().lower()
    if mode not in OFFLOAD_MODES:
        raise InvalidInput(f"ORFEAS_CPU_OFFLOAD must be one of {', '.join(OFFLOAD_MODES)}, got {mode!r}")
    if not device.startswith("cuda") or mode == "off":
        return False
    return mode == "on" or memory(device).free_bytes < 2 * weight_bytes


def release(device: str) -> None:
    """Give memory back: collect garbage and, on CUDA, return cached blocks to the driver."""
    gc.collect()
    if device.startswith("cuda"):
        _torch().cuda.empty_cache()


PIPELINE_ADVICE = (
    "Try fewer steps or a smaller width/height, set ORFEAS_CPU_OFFLOAD=on, close other GPU jobs, or use ORFEAS_DEVICE=cpu."
)


def oom_guard(task: str, device: str, on_oom: Callable[[], None] | None = None) -> contextlib.AbstractContextManager[None]:
    """Turn an out-of-memory error inside the block into :class:`OutOfResources`, after freeing memory.

    The rule and the mapping are the api's (:func:`orfeas_nb.errors.out_of_memory_mapped`); here
    ``on_oom`` runs first (e.g. dropping a cached pipeline), then :func:`release` of ``device``.
    """

    def let_go() -> None:
        if on_oom is not None:
            on_oom()
        release(device)

    return out_of_memory_mapped(task, device=device, advice=PIPELINE_ADVICE, on_oom=let_go)


def describe() -> list[tuple[str, object]]:
    """Rows for ``orfeas doctor``: torch build, the device picked, its dtype and memory."""
    torch = _torch()
    rows: list[tuple[str, object]] = [("torch", torch.__version__), ("cuda available", torch.cuda.is_available())]
    try:
        device = pick_device()
        dtype = pick_dtype(device)
    except InvalidInput as exc:
        return [*rows, ("device", f"misconfigured: {exc}")]
    mem = memory(device)
    gib = 1024**3
    rows += [
        ("device", device),
        ("dtype", str(dtype).removeprefix("torch.")),
        ("memory", f"{mem.name}: {mem.free_bytes / gib:.1f} GiB free of {mem.total_bytes / gib:.1f} GiB"),
    ]
    if device.startswith("cuda"):
        rows.append(("gpus", ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))))
    return rows
