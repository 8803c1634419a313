"""Atomic file writes, alone or as one unit: a model and its manifest are published together or not at all.

:func:`publish_together` is the one way orfeas_nb writes files. Each file first goes to a hidden
temporary sibling (``.<name>.<pid>.<random>.part``, shortened with a hash when ``<name>`` is long, so a
legal output name never becomes an illegal temporary name), is fsynced, and only when every file of the
unit is complete are they renamed over their targets, under an exclusive lock on the folder
(``.orfeas-publish.lock``, removed on release). Before the renames the old targets are hard-linked aside and
a journal (``.orfeas-publish.journal``) lists them; after the renames both go away. So:

- a failure while writing (disk full, an error raised by the data) leaves every target as it was;
- a failure during the renames puts the old files back at once, then raises;
- a writer killed during the renames leaves the journal, and the next writer or reader of that folder
  (:func:`recover`) puts the old files back first: old unit intact, or no unit, never one file alone;
- concurrent writers to the same paths are serialised at the renames: the last one's whole unit wins.

Leftover temporaries of dead writers are removed by later writes into the same folder. The lock is
``fcntl.flock`` (POSIX); where it does not exist (Windows) units are still all-or-nothing on failure, but
concurrent writers are not serialised.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ExportError, InvalidInput

try:  # POSIX only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

STALE_PART_SECONDS = 60  # a leftover temporary must be this old (and its writer gone) to be removed
NAME_MAX = 255  # bytes in one file name on ext4, xfs, btrfs, apfs, ntfs (the common limit)
LOCK_NAME = ".orfeas-publish.lock"
JOURNAL_NAME = ".orfeas-publish.journal"
_PART_RESERVE = 32  # bytes kept for ".<pid>.<random>.part"


def _fit(name: str, room: int) -> str:
    """``name`` if it fits in ``room`` UTF-8 bytes, else a prefix of it plus ``~`` and a 16-digit hash."""
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) <= room:
        return name
    digest = hashlib.sha256(encoded).hexdigest()[:16]
    return encoded[: room - 17].decode("utf-8", "ignore") + "~" + digest


def sidecar_name(name: str, suffix: str, *, strip: str = "") -> str:
    """``name`` minus ``strip`` plus ``suffix``, shortened with a hash of ``name`` to fit :data:`NAME_MAX`.

    >>> sidecar_name("model.stl", ".manifest.json", strip=".stl")
    'model.manifest.json'
    """
    stem = name[: -len(strip)] if strip and name.endswith(strip) else name
    room = NAME_MAX - len(suffix.encode())
    if len(stem.encode("utf-8", "surrogateescape")) <= room:
        return stem + suffix
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return stem.encode("utf-8", "surrogateescape")[: room - 17].decode("utf-8", "ignore") + "~" + digest + suffix


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


def _temp_prefix(target: Path) -> str:
    """The start of every temporary name of ``target``: ``.<name>.``, shortened to leave room for the rest."""
    return "." + _fit(target.name, NAME_MAX - 2 - _PART_RESERVE) + "."


def temporary_name(target: Path) -> str:
    """A fresh hidden temporary name for ``target``: ``.<name>.<pid>.<random>.part``, within :data:`NAME_MAX`."""
    return f"{_temp_prefix(target)}{os.getpid()}.{secrets.token_hex(4)}.part"


def remove_stale_temporaries(target: str | os.PathLike) -> list[Path]:
    """Remove the leftover temporaries of ``target`` whose writer died, and return them.

    A temporary counts as stale when the process named in it no longer runs on this machine and it
    has not changed for :data:`STALE_PART_SECONDS` (so a live writer on another host sharing the
    folder is left alone).
    """
    target = Path(target)
    prefix = _temp_prefix(target)
    removed = []
    for part in target.parent.glob(f"{glob.escape(prefix)}*.part"):
        pid = part.name[len(prefix):].split(".")[0]
        with contextlib.suppress(OSError):
            if pid.isdigit() and time.time() - part.lstat().st_mtime > STALE_PART_SECONDS and _writer_is_gone(int(pid)):
                part.unlink()
                removed.append(part)
    return removed


def check_output(path: str | os.PathLike, *, sidecars: Iterable[str | os.PathLike] = (),
                 inputs: Iterable[str | os.PathLike | None] = ()) -> Path:
    """Refuse an output path that cannot be written, before any work: :class:`InvalidInput` naming why.

    Refused: a NUL character; a file name longer than :data:`NAME_MAX` bytes; a path whose nearest
    existing ancestor is a file; a path (or one of its ``sidecars``) that is a folder; a path (or sidecar)
    that is one of the ``inputs``.
    """
    target = Path(path)
    if "\x00" in str(target):
        raise InvalidInput(f"the path {str(target)!r} contains a NUL character; choose another file name")
    size = len(target.name.encode("utf-8", "surrogateescape"))
    if size > NAME_MAX:
        raise InvalidInput(f"the file name {target.name[:40]}… is {size} bytes; the limit is {NAME_MAX}: choose a shorter name")
    for ancestor in (target.parent, *target.parent.parents):
        if os.path.lexists(ancestor):
            if not ancestor.is_dir():
                raise InvalidInput(f"cannot write {target}: {ancestor} is a file, not a folder; choose another output path")
            break
    given = [Path(p) for p in inputs if p is not None]
    for candidate, what in ((target, "the output"), *((Path(s), "the manifest's path") for s in sidecars)):
        if candidate.is_dir():
            raise InvalidInput(f"{what} {candidate} is taken by a folder; remove it or choose another output name")
        for source in given:
            if _same_file(candidate, source):
                raise InvalidInput(
                    f"{what} {candidate} is the input {source}; writing there would destroy it: choose another name"
                )
    return target


def _same_file(a: Path, b: Path) -> bool:
    with contextlib.suppress(OSError):
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    return os.path.abspath(a) == os.path.abspath(b)


@dataclass(frozen=True)
class FileRecord:
    """A file written by a :class:`Publication`: where it will be, and its sha256 and size."""

    path: Path
    sha256: str
    bytes: int

    def describe(self) -> dict[str, Any]:
        """The manifest entry of this file: ``{"name", "sha256", "bytes"}``."""
        return {"name": self.path.name, "sha256": self.sha256, "bytes": self.bytes}


def sha256_file(path: str | os.PathLike) -> str:
    """The sha256 of a file's content, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's exclusive publish lock; the lock file is removed on release (re-checked on entry)."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    path = folder / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                break  # still the lock file in the folder: ours
        except FileNotFoundError:
            pass  # its holder removed it as we waited: take the new one
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def _roll_back(entries: list[dict[str, str | None]]) -> None:
    """Put the targets of a half-done publication back as they were (see :func:`recover`)."""
    for entry in entries:
        target, temp, backup = entry["target"], entry["temp"], entry["backup"]
        with contextlib.suppress(OSError):
            if backup is not None and os.path.lexists(backup):
                if os.path.lexists(target) and os.path.samestat(os.lstat(backup), os.lstat(target)):
                    os.unlink(backup)  # not replaced yet (rename() of two links to one file does nothing)
                else:
                    os.replace(backup, target)
            elif temp is None or not os.path.lexists(temp):  # renamed (or removed) already, and nothing was there
                if entry.get("created"):
                    os.unlink(target)
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)


def recover(folder: str | os.PathLike) -> bool:
    """Undo a publication in ``folder`` whose writer was killed during its renames; True if there was one.

    Called by every publication before its own renames; readers of a unit (``orfeas reproduce``) call it
    too. The old unit comes back (or, where there was none, the new files go): never one file alone.
    """
    folder = Path(folder)
    if not (folder / JOURNAL_NAME).exists():
        return False
    try:
        with _folder_lock(folder):
            return _recover_locked(folder)
    except OSError as exc:
        raise ExportError(f"cannot undo the interrupted write in {folder}: {exc.strerror or exc}") from exc


def _recover_locked(folder: Path) -> bool:
    journal = folder / JOURNAL_NAME
    try:
        entries = json.loads(journal.read_text(encoding="utf-8"))["entries"]
    except FileNotFoundError:
        return False
    except (OSError, ValueError, KeyError, TypeError):
        entries = []  # unreadable: written atomically, so this is not ours; drop it
    _roll_back(entries)
    journal.unlink(missing_ok=True)
    _fsync_folder(folder)
    return True


def _rename(temp: str, target: str) -> None:
    """One rename of a publication (a seam for fault-injection tests)."""
    os.replace(temp, target)


class Publication:
    """Files written as one unit by :func:`publish_together`: add them, and they appear together on exit."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self._entries: list[tuple[Path, str | None]] = []  # (target, temporary) — None: remove the target

    def _claim(self, path: str | os.PathLike) -> Path:
        target = Path(path)
        if "\x00" in str(target):
            raise InvalidInput(f"the path {str(target)!r} contains a NUL character; choose another file name")
        folder = target.parent
        if self.folder is None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ExportError(f"cannot write {target}: {exc.strerror or exc}; nothing was written") from exc
            self.folder = folder
        elif os.path.abspath(folder) != os.path.abspath(self.folder):
            raise ValueError(f"a publication writes into one folder ({self.folder}), not also {folder}")
        if any(os.path.abspath(t) == os.path.abspath(target) for t, _ in self._entries):
            raise ValueError(f"{target} is already part of this publication")
        return target

    def add(self, path: str | os.PathLike, data: bytes | str | Iterable[Any]) -> FileRecord:
        """Write ``data`` (bytes, text as UTF-8, or pieces with the buffer protocol) to a temporary for ``path``.

        Returns the file's sha256 and size, so that a later file of the unit (a manifest) can name it.
        Nothing is visible at ``path`` until the unit is published.
        """
        target = self._claim(path)
        whole = isinstance(data, (bytes, bytearray, memoryview, str))
        chunks = [data.encode("utf-8") if isinstance(data, str) else data] if whole else data
        temp = str(target.parent / temporary_name(target))
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except OSError as exc:
            raise ExportError(f"cannot write {target}: {exc.strerror or exc}; nothing was written") from exc
        self._entries.append((target, temp))  # from here on, discard() removes it
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                view = memoryview(chunk).cast("B")
                digest.update(view)
                size += len(view)
                handle.write(view)
            handle.flush()
            os.fsync(handle.fileno())
        return FileRecord(target, digest.hexdigest(), size)

    def remove(self, path: str | os.PathLike) -> None:
        """Make ``path`` absent when the unit is published (e.g. a sidecar that would describe another file)."""
        self._entries.append((self._claim(path), None))

    def discard(self) -> None:
        """Remove every temporary written so far; no target is touched."""
        for _target, temp in self._entries:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
        self._entries.clear()

    def commit(self) -> list[Path]:
        """Rename every temporary over its target under the folder lock; all or none (see the module docstring)."""
        if self.folder is None:
            return []
        folder = self.folder
        with _folder_lock(folder):
            _recover_locked(folder)
            for target, _temp in self._entries:
                if target.is_dir() and not target.is_symlink():
                    raise ExportError(f"cannot write {target}: a folder has that name; nothing was written")
            if len(self._entries) == 1 and self._entries[0][1] is not None:  # one file: one rename is atomic
                _rename(self._entries[0][1], str(self._entries[0][0]))
            else:
                self._publish_all(folder)
        for target in [folder / JOURNAL_NAME, *(t for t, _ in self._entries)]:
            remove_stale_temporaries(target)
        return [target for target, temp in self._entries if temp is not None]

    def _publish_all(self, folder: Path) -> None:
        journal = [self._plan(target, temp) for target, temp in self._entries]
        try:
            _write_journal(folder, journal)  # first: a kill from here on is undone by recover()
            for entry in journal:
                if entry["backup"]:
                    _set_aside(entry["target"], entry["backup"])
            for entry in journal:
                if entry["temp"] is None:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry["target"])
                else:
                    _rename(entry["temp"], entry["target"])
        except BaseException:
            _roll_back(journal)
            (folder / JOURNAL_NAME).unlink(missing_ok=True)
            raise
        _fsync_folder(folder)
        (folder / JOURNAL_NAME).unlink(missing_ok=True)
        for entry in journal:
            if entry["backup"]:
                with contextlib.suppress(OSError):
                    os.unlink(entry["backup"])

    @staticmethod
    def _plan(target: Path, temp: str | None) -> dict[str, Any]:
        """The journal entry of one target: its temporary, and where the old file is kept meanwhile."""
        created = not os.path.lexists(target)
        backup = None if created else str(target.parent / temporary_name(target))
        return {"target": str(target), "temp": temp, "backup": backup, "created": created}


def _set_aside(target: str, backup: str) -> None:
    """Keep the old ``target`` as ``backup`` until the unit is published: a hard link, else a move."""
    try:
        os.link(target, backup, follow_symlinks=False)
    except OSError:  # no hard links here: move it aside instead (the target is briefly absent)
        os.rename(target, backup)


def _write_journal(folder: Path, entries: list[dict[str, Any]]) -> None:
    temp = folder / temporary_name(folder / JOURNAL_NAME)
    try:
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump({"pid": os.getpid(), "entries": entries}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, folder / JOURNAL_NAME)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def publish_together() -> Iterator[Publication]:
    """Write several files in one folder as one unit: all of them appear, or none changes.

    Use it for a result made of more than one file (a model and its manifest, a picture and its
    manifest, a demo's models and its summary, a job's files)::

        with publish_together() as unit:
            model = unit.add("out/owl.stl", stl_bytes)
            unit.add("out/owl.manifest.json", json.dumps({"file": model.describe()}))

    The files are published when the block ends without an exception; on an exception nothing is
    published and every temporary is removed. A write failure (disk full, permissions, a folder where a
    file should go) raises :class:`ExportError` saying that nothing was written, which is then true of
    every file in the unit.
    """
    unit = Publication()
    try:
        yield unit
        unit.commit()
    except BaseException as exc:
        names = ", ".join(t.name for t, _ in unit._entries) or "the files"
        unit.discard()
        if isinstance(exc, OSError):
            raise ExportError(f"cannot write {names}: {exc.strerror or exc}; nothing was written") from exc
        raise


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
    with publish_together() as unit:
        unit.add(path, chunks)
    return Path(path)


def write_json(path: str | os.PathLike, document: Any) -> Path:
    """Write ``document`` as indented UTF-8 JSON, atomically."""
    return write_bytes(path, json_text(document))


def json_text(document: Any) -> str:
    """``document`` as the indented UTF-8 JSON text orfeas_nb writes (manifests, summaries)."""
    return json.dumps(document, indent=2, sort_keys=False, default=str) + "\n"
