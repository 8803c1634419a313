"""One out-of-memory rule: the api's boundary and the pipeline's guard answer alike for the same exception."""

from __future__ import annotations

import errno
import gc

import numpy as np
import pytest

from orfeas_nb.errors import InvalidInput, OutOfResources, is_out_of_memory, mapped_errors
from orfeas_nb.pipeline.device import oom_guard

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _no_full_collections(monkeypatch):
    """What is mapped is the subject here; a full gc per mapping (memory let go: test_device, test_oom) only costs time."""
    monkeypatch.setattr(gc, "collect", lambda *args: 0)


def numpy_allocation_error() -> MemoryError:
    """numpy's own ArrayMemoryError, made the way a user meets it (an impossible allocation)."""
    try:
        np.empty(2**52, dtype=np.uint8)
    except MemoryError as exc:
        return exc
    raise AssertionError("numpy allocated 4 PiB")


OUT_OF_MEMORY = [
    pytest.param(MemoryError(), id="MemoryError"),
    pytest.param(numpy_allocation_error(), id="numpy-ArrayMemoryError"),
    pytest.param(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), id="torch-cuda-OOM"),
    pytest.param(RuntimeError("CUDA error: out of memory"), id="cuda-runtime"),
    pytest.param(RuntimeError("MPS backend out of memory (MPS allocated: 8 GB)"), id="mps"),
    pytest.param(RuntimeError("CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling cublasCreate"), id="cublas"),
    pytest.param(RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: "
                              "you tried to allocate 1 bytes. failed to allocate"), id="torch-cpu-allocator"),
    pytest.param(OSError(errno.ENOMEM, "Cannot allocate memory"), id="ENOMEM"),
]
OTHER = [
    pytest.param(RuntimeError("shape mismatch: 3 vs 4"), id="runtime"),
    pytest.param(ValueError("the image is out of memory range"), id="ValueError-mentioning-memory"),
    pytest.param(KeyError("weights"), id="KeyError"),
    pytest.param(OSError(errno.ENOSPC, "No space left on device"), id="ENOSPC"),
    pytest.param(InvalidInput("quality must be 1–10"), id="InvalidInput"),
]


def outcome(guard, exc: BaseException) -> type[BaseException]:
    """The type of exception that leaves ``guard`` when ``exc`` is raised inside it."""
    try:
        with guard:
            raise exc
    except BaseException as leaving:  # noqa: BLE001 - the point is to see what comes out
        return type(leaving)
    raise AssertionError("the guard swallowed the exception")


@pytest.mark.parametrize("exc", OUT_OF_MEMORY)
def test_out_of_memory_becomes_out_of_resources_in_both_places(exc):
    assert is_out_of_memory(exc)
    assert outcome(mapped_errors("image_to_3d(relief)"), exc) is OutOfResources
    assert outcome(oom_guard("text to image", "cpu"), exc) is OutOfResources


@pytest.mark.parametrize("exc", OTHER)
def test_other_errors_pass_through_both_places_unchanged(exc):
    assert not is_out_of_memory(exc)
    assert outcome(mapped_errors("image_to_3d(relief)"), exc) is type(exc)
    assert outcome(oom_guard("text to image", "cpu"), exc) is type(exc)


def test_the_message_names_the_task_the_device_the_cause_and_what_to_do():
    with pytest.raises(OutOfResources) as api:
        with mapped_errors("image_to_3d(depth)"):
            raise RuntimeError("CUDA error: out of memory")
    assert str(api.value).startswith("image_to_3d(depth) ran out of memory (RuntimeError). Try a lower quality")
    assert isinstance(api.value.__cause__, RuntimeError) and api.value.exit_code == 4
    with pytest.raises(OutOfResources, match=r"^depth ran out of memory on cuda:1 \(MemoryError\)\. Try fewer steps"):
        with oom_guard("depth", "cuda:1"):
            raise MemoryError
