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
import gc
import sys
import traceback
from collections.abc import Iterator


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


def _is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    name = type(exc).__name__
    return name == "OutOfMemoryError" or "out of memory" in str(exc).lower()


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


@contextlib.contextmanager
def mapped_errors(task: str) -> Iterator[None]:
    """Map foreign exceptions raised inside the block onto the orfeas_nb tree.

    ``OrfeasError`` passes through unchanged; memory exhaustion (``MemoryError``,
    ``torch.cuda.OutOfMemoryError``) becomes :class:`OutOfResources` with advice. Anything else
    propagates as it is (exit code 1 in the CLI); write failures become :class:`ExportError` where files
    are written (:mod:`orfeas_nb.files`).
    Either way an out-of-memory error leaves nothing of the failed work in memory
    (:func:`free_memory_held_by`).
    """
    try:
        yield
    except OutOfResources as exc:
        free_memory_held_by(exc)
        raise
    except OrfeasError:
        raise
    except Exception as exc:
        if _is_out_of_memory(exc):
            free_memory_held_by(exc)
            raise OutOfResources(
                f"{task} ran out of memory ({type(exc).__name__}). Try a lower quality, a smaller "
                "image or size, or set ORFEAS_DEVICE=cpu / enable CPU offload."
            ) from exc
        raise
