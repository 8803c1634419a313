"""Atomic file writes: a temporary file in the target's folder, fsynced, then renamed over the target.

The temporary is the hidden sibling ``.<name>.<pid>.<random>.part``. A writer killed mid-write
(SIGKILL, power loss) leaves the target as it was plus that hidden file; the next successful write of
the same target removes such leftovers whose process is gone.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import ExportError, InvalidInput

STALE_PART_SECONDS = 60  # a leftover temporary must be this old (and its writer gone) to be removed


def _create_temporary(target: Path) -> tuple[int, str]:
    """Create the hidden temporary sibling of ``target``; the process umask applies to its mode.

    ``O_EXCL`` never follows or reuses an existing name (a planted symlink makes it fail instead).
    """
    tmp = str(target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp


def _writer_is_gone(pid: int) -> bool:
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: alive, someone else's
        return False
    return False


def remove_stale_temporaries(target: str | os.PathLike) -> list[Path]:
    """Remove the leftover temporaries of ``target`` whose writer died, and return them.

    A temporary counts as stale when the process named in it no longer runs on this machine and it
    has not changed for :data:`STALE_PART_SECONDS` (so a live writer on another host sharing the
    folder is left alone).
    """
    target = Path(target)
    prefix = f".{target.name}."
    removed = []
    for part in target.parent.glob(f"{glob.escape(prefix)}*.part"):
        pid = part.name[len(prefix):].split(".")[0]
        with contextlib.suppress(OSError):
            if pid.isdigit() and time.time() - part.stat().st_mtime > STALE_PART_SECONDS and _writer_is_gone(int(pid)):
                part.unlink()
                removed.append(part)
    return removed


def write_bytes(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one, never a part.

    Missing parent folders are created. On any failure the temporary file is removed, the target is
    left as it was, and :class:`ExportError` says why.
    """
    return write_chunks(path, [data.encode("utf-8") if isinstance(data, str) else data])


def write_chunks(path: str | os.PathLike, chunks: Iterable[bytes | memoryview | Any]) -> Path:
    """:func:`write_bytes` for content that arrives in pieces (anything with the buffer protocol).

    Each piece is written as it comes, so a large file never has to sit whole in memory; an error
    raised while producing the pieces leaves the target as it was, like a failed write.
    """
    target = Path(path)
    if "\x00" in str(target):
        raise InvalidInput(f"the path {str(target)!r} contains a NUL character; choose another file name")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_temporary(target)
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ExportError(f"cannot write {target}: {exc.strerror or exc}; nothing was written") from exc
        raise
    remove_stale_temporaries(target)
    return target


def write_json(path: str | os.PathLike, document: Any) -> Path:
    """Write ``document`` as indented UTF-8 JSON, atomically."""
    return write_bytes(path, json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")

