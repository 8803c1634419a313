"""The exceptions orfeas_nb raises, and a helper that maps foreign ones onto them.

The whole tree::

    OrfeasError                 base class: catch this to catch everything orfeas_nb raises on purpose
    ├── InvalidInput            (also a ValueError) a value, file or prompt the user gave is not acceptable
    │   └── UnsupportedFormat   a file type or export format that orfeas_nb does not read or write
    ├── ModelUnavailable        learned-model weights are missing, offline, or fail to load
    ├── OutOfResources          GPU or CPU memory ran out, or a configured limit (queue, size) was hit
    ├── JobCancelled            a running job was cancelled by its user
    └── ExportError             writing a file failed (disk full, permissions); no partial file is left

The CLI turns these into exit codes (see :data:`EXIT_CODES`): 2 for bad input or usage, 3 for a missing
model, 4 for exhausted resources, 1 for anything else.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import sys
import traceback
from collections.abc import Callable, Iterator


class OrfeasError(Exception):
    """Base class of every error orfeas_nb raises on purpose."""

    exit_code = 1


class InvalidInput(OrfeasError, ValueError):
    """An image, prompt, parameter or path given by the user is not acceptable."""

    exit_code = 2


class UnsupportedFormat(InvalidInput):
    """A file type (sniffed from content) or export suffix that orfeas_nb does not handle."""


class ModelUnavailable(OrfeasError):
    """Model weights are not present locally and cannot be fetched, or fail to load."""

    exit_code = 3


class OutOfResources(OrfeasError):
    """GPU/CPU memory ran out, or a configured limit such as the job queue length was reached."""

    exit_code = 4


class JobCancelled(OrfeasError):
    """The job was cancelled before it finished."""

    exit_code = 1


class ExportError(OrfeasError):
    """A file could not be written; the target is left untouched."""

    exit_code = 1


EXIT_CODES = {
    "ok": 0,
    "unexpected": 1,
    "invalid_input": InvalidInput.exit_code,
    "model_unavailable": ModelUnavailable.exit_code,
    "out_of_resources": OutOfResources.exit_code,
}


# RuntimeErrors that mean memory ran out: torch's CUDA/MPS/CPU allocators and cuBLAS/cuDNN workspaces
_OUT_OF_MEMORY_WORDS = ("out of memory", "cannot allocate memory", "alloc_failed", "failed to allocate")


def is_out_of_memory(exc: BaseException) -> bool:
    """True when ``exc`` means memory ran out; the one rule the api and the pipeline share.

    That is a ``MemoryError`` (numpy's ``ArrayMemoryError`` included), any ``OutOfMemoryError``
    (``torch.OutOfMemoryError`` = ``torch.cuda.OutOfMemoryError``), an ``OSError`` with ``ENOMEM``, or a
    ``RuntimeError`` whose message says so ("CUDA error: out of memory", "MPS backend out of memory",
    "CUBLAS_STATUS_ALLOC_FAILED", "[enforce fail at alloc_cpu.cpp] … failed to allocate"). Other errors
    that merely mention memory (a ``ValueError`` about a size, say) are not.

    >>> is_out_of_memory(MemoryError()), is_out_of_memory(RuntimeError("CUDA error: out of memory"))
    (True, True)
    >>> is_out_of_memory(ValueError("out of memory"))
    False
    """
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    if isinstance(exc, OSError):
        return exc.errno == errno.ENOMEM
    message = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(words in message for words in _OUT_OF_MEMORY_WORDS)


def free_memory_held_by(exc: BaseException) -> None:
    """Let go of what the finished frames of ``exc`` (and its causes) hold, then collect and empty caches.

    After running out of memory those frames' locals hold the model and its activations, and a notebook
    keeps the last exception (``sys.last_value``), so without this the memory the error asks the user to
    free would stay taken. Post-mortem debugging of such an error loses those locals.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)  # frames still executing are skipped
        current = current.__cause__ or current.__context__
    gc.collect()
    torch = sys.modules.get("torch")  # never imported here: only if a pipeline already did
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


API_ADVICE = "Try a lower quality, a smaller image or size, or set ORFEAS_DEVICE=cpu / enable CPU offload."


@contextlib.contextmanager
def out_of_memory_mapped(
    task: str, *, device: str | None = None, advice: str = API_ADVICE, on_oom: Callable[[], None] | None = None
) -> Iterator[None]:
    """Turn running out of memory inside the block (:func:`is_out_of_memory`) into :class:`OutOfResources`.

    The new error names ``task``, ``device`` when given, the original exception's type and ``advice``,
    and is raised ``from`` the original. ``on_oom`` runs first (e.g. dropping a cached model), then
    :func:`free_memory_held_by`; an :class:`OutOfResources` raised inside frees memory the same way.
    Every other exception passes through unchanged.
    """
    try:
        yield
    except OutOfResources as exc:
        free_memory_held_by(exc)
        raise
    except Exception as exc:
        if not is_out_of_memory(exc):
            raise
        if on_oom is not None:
            on_oom()
        free_memory_held_by(exc)
        where = f" on {device}" if device else ""
        raise OutOfResources(f"{task} ran out of memory{where} ({type(exc).__name__}). {advice}") from exc


@contextlib.contextmanager
def mapped_errors(task: str) -> Iterator[None]:
    """Map foreign exceptions raised inside the block onto the orfeas_nb tree (the api's boundary).

    ``OrfeasError`` passes through unchanged; running out of memory becomes :class:`OutOfResources` with
    advice (:func:`out_of_memory_mapped`, the same rule the pipeline uses), leaving nothing of the failed
    work in memory (:func:`free_memory_held_by`). Anything else propagates as it is (exit code 1 in the
    CLI); write failures become :class:`ExportError` where files are written (:mod:`orfeas_nb.files`).
    """
    with out_of_memory_mapped(task):
        yield
