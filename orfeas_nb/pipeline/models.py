"""Where a model's weights are, and a bounded cache of loaded pipelines with one lock per pipeline.

A model is a ``save_pretrained`` folder or a hub id. A hub id is only read from the local Hugging
Face cache when ``HF_HUB_OFFLINE`` is set or the hub cannot be reached, so nothing ever waits on the
network; missing weights raise :class:`~orfeas_nb.errors.ModelUnavailable` naming the model, where
it looked and how to provide it.

Example::

    source = resolve("depth", "/models/my-depth")
    with CACHE.use(source, "cpu", torch.float32, loader) as pipe:
        pipe(image)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlparse

from .. import config
from ..errors import InvalidInput, ModelUnavailable
from .device import oom_guard

_OTHER_TASKS = re.compile(r"ShapE|Img2Img|Inpaint|Upscale|Depth2Img|ForDepthEstimation")


class Kind(NamedTuple):
    """A kind of model: the config setting of its default, the file its ``save_pretrained`` folder contains,
    its name in messages, what it must hold (in words) and a test of the class a folder declares."""

    setting: str
    marker: str
    label: str
    needs: str
    accepts: Callable[[str], bool]


KINDS: dict[str, Kind] = {
    "text_to_image": Kind("text_to_image_model", "model_index.json", "text→image",
                          "a text→image pipeline such as StableDiffusionPipeline", lambda c: not _OTHER_TASKS.search(c)),
    "depth": Kind("depth_model", "config.json", "depth", "a depth-estimation model (…ForDepthEstimation)",
                  lambda c: c.endswith("ForDepthEstimation")),
    "shap_e": Kind("shap_e_model", "model_index.json", "shap-e", "a ShapEPipeline", lambda c: c == "ShapEPipeline"),
    "shap_e_img2img": Kind("shap_e_img2img_model", "model_index.json", "shap-e from a picture", "a ShapEImg2ImgPipeline",
                           lambda c: c == "ShapEImg2ImgPipeline"),
}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")
_FULL_HASH_LIMIT = 64 * 1024 * 1024
_FINGERPRINTS: dict[Path, tuple[tuple, str]] = {}
_REACHABLE: dict[tuple[str, int], tuple[float, bool]] = {}


@dataclass(frozen=True)
class ModelSource:
    """A resolved model: its id as given, the folder to load (None: download by id) and its revision.

    ``revision`` is the hub commit of a cached snapshot, or ``sha256:…`` fingerprint of a local folder.
    """

    kind: str
    id: str
    path: Path | None
    revision: str

    @property
    def load_from(self) -> str:
        """What to hand to ``from_pretrained``."""
        return str(self.path) if self.path is not None else self.id

    def describe(self) -> dict[str, str]:
        """The manifest record of this model."""
        return {"id": self.id, "revision": self.revision, "source": "folder" if self._is_folder else "hub"}

    @property
    def _is_folder(self) -> bool:
        return self.path is not None and not self.revision.startswith("hub:")


def hub_cache() -> Path:
    """The Hugging Face hub cache folder in force (``HF_HUB_CACHE`` / ``HF_HOME``)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` asks for no network."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hub_reachable(timeout: float = 2.0) -> bool:
    """Whether the hub endpoint accepts a TCP connection within ``timeout`` seconds (remembered for 30 s)."""
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host, port = endpoint.hostname or "huggingface.co", endpoint.port or (443 if endpoint.scheme == "https" else 80)
    known = _REACHABLE.get((host, port))
    if known is not None and time.monotonic() - known[0] < 30.0:
        return known[1]
    try:
        with socket.create_connection((host, port), timeout=timeout):
            reachable = True
    except OSError:
        reachable = False
    _REACHABLE[(host, port)] = (time.monotonic(), reachable)
    return reachable


def fingerprint(folder: Path) -> str:
    """``sha256:`` over every file's relative path, size and content (head and tail for files over 64 MiB).

    Remembered per folder until a file's size or modification time changes, so a loaded model is not
    re-read on every call.
    """
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    stamp = tuple((file.as_posix(), file.stat().st_size, file.stat().st_mtime_ns) for file in files)
    known = _FINGERPRINTS.get(folder)
    if known is not None and known[0] == stamp:
        return known[1]
    digest = hashlib.sha256()
    for file, (_name, size, _mtime) in zip(files, stamp, strict=True):
        digest.update(f"{file.relative_to(folder).as_posix()}\0{size}\0".encode())
        with file.open("rb") as handle:
            if size <= _FULL_HASH_LIMIT:
                digest.update(handle.read())
            else:
                digest.update(handle.read(1 << 20))
                handle.seek(-(1 << 20), os.SEEK_END)
                digest.update(handle.read())
    revision = "sha256:" + digest.hexdigest()[:16]
    _FINGERPRINTS[folder] = (stamp, revision)
    return revision


def _how_to_provide(kind: str, model: str) -> str:
    env = config.SETTINGS[KINDS[kind].setting].env
    hub_id = model if _HUB_ID.match(model) and not Path(model).exists() else "<hub id>"
    return (
        f"Provide it as a local folder (model=/path/to/folder or --model DIR), set {env} to such a folder, "
        f"or download it on a connected machine (huggingface-cli download {hub_id}) and copy the cache to "
        f"{hub_cache()} (or run with HF_HUB_OFFLINE unset and network access)."
    )


def _cached_snapshot(model: str) -> Path | None:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        # local_files_only: a lookup in the local cache, nothing is downloaded; the snapshot's commit hash is
        # what ModelSource.revision records in every manifest
        return Path(snapshot_download(model, local_files_only=True, cache_dir=hub_cache()))  # nosec B615
    except (LocalEntryNotFoundError, HFValidationError, FileNotFoundError, OSError):
        return None


def declared_class(folder: Path) -> str | None:
    """The class a model folder says it holds: ``model_index.json``'s ``_class_name`` (diffusers) or the first of
    ``config.json``'s ``architectures`` (transformers); None when neither says."""
    for name, key in (("model_index.json", "_class_name"), ("config.json", "architectures")):
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        value = data.get(key) if isinstance(data, dict) else None
        value = value[0] if isinstance(value, list) and value else value
        if isinstance(value, str) and value:
            return value
    return None


def _check_holds(kind: str, folder: Path, shown: str) -> None:
    """Refuse a folder that declares a class other than what ``kind`` needs, before anything is loaded."""
    spec = KINDS[kind]
    holds = declared_class(folder)
    if holds is not None and not spec.accepts(holds):
        env = config.SETTINGS[spec.setting].env
        raise ModelUnavailable(f"{shown} holds a {holds}; {spec.label} needs {spec.needs} (set {env} or --model)")


def resolve(kind: str, model: str | os.PathLike | None = None) -> ModelSource:
    """Find model ``model`` of ``kind`` (default: the ``ORFEAS_*_MODEL`` setting) without loading it.

    A folder (or cached snapshot) that declares the wrong pipeline class raises :class:`ModelUnavailable`.
    """
    setting, marker = KINDS[kind].setting, KINDS[kind].marker
    if model is not None and not isinstance(model, (str, os.PathLike)):
        raise InvalidInput(f"model must be a hub id or a folder path, got {type(model).__name__}")
    given = os.fspath(model) if model is not None else config.get(setting)
    if not str(given).strip():
        raise ModelUnavailable(f"no {kind.replace('_', ' ')} model given. {_how_to_provide(kind, '')}")
    folder = Path(given).expanduser()
    if folder.is_dir():
        _check_holds(kind, folder, str(folder))
        if not (folder / marker).is_file():
            raise ModelUnavailable(
                f"folder {folder} is not a {kind.replace('_', ' ')} model: it has no {marker}. "
                "Point to the folder written by save_pretrained (or a hub snapshot folder)."
            )
        return ModelSource(kind, str(given), folder, fingerprint(folder))
    if not _HUB_ID.match(str(given)) or folder.is_absolute() or str(given).startswith((".", "~")):
        raise ModelUnavailable(f"model folder {folder} does not exist. {_how_to_provide(kind, '')}")
    snapshot = _cached_snapshot(str(given))
    if snapshot is not None:
        _check_holds(kind, snapshot, f"model {given!r}")
        return ModelSource(kind, str(given), snapshot, f"hub:{snapshot.name}")
    if hub_offline() or not hub_reachable():
        why = "HF_HUB_OFFLINE is set" if hub_offline() else "the hub cannot be reached"
        raise ModelUnavailable(
            f"model {given!r} is not in the local Hugging Face cache ({hub_cache()}) and {why}. "
            + _how_to_provide(kind, str(given))
        )
    return ModelSource(kind, str(given), None, "hub:latest")


@dataclass
class _Entry:
    pipeline: Any
    lock: threading.Lock


class PipelineCache:
    """Loaded pipelines keyed by (kind, model, revision, device, dtype); at most ``ORFEAS_RESIDENT_MODELS`` stay.

    :meth:`use` holds the pipeline's lock for the whole block, so two jobs never drive one pipeline at
    once; least recently used entries are evicted beyond the bound.
    """

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self._guard = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[tuple]:
        """The keys resident now, least recently used first."""
        with self._guard:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every pipeline (memory is freed once no job holds one)."""
        with self._guard:
            self._entries.clear()

    def drop(self, key: tuple) -> None:
        """Forget one pipeline, if resident."""
        with self._guard:
            self._entries.pop(key, None)

    def _entry(self, key: tuple, loader: Callable[[], Any], source: ModelSource) -> _Entry:
        with self._guard:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry
        pipeline = _load(source, loader)
        with self._guard:
            entry = self._entries.setdefault(key, _Entry(pipeline, threading.Lock()))
            self._entries.move_to_end(key)
            while len(self._entries) > config.get("resident_models"):
                self._entries.popitem(last=False)
            return entry

    @contextlib.contextmanager
    def use(self, source: ModelSource, device: str, dtype: Any, loader: Callable[[], Any]) -> Iterator[Any]:
        """Yield the loaded pipeline for ``source`` with its lock held; out of memory drops it from the cache."""
        key = (source.kind, source.id, source.revision, device, str(dtype))
        task = f"{source.kind.replace('_', ' ')} with {source.id}"
        with oom_guard(task, device, on_oom=lambda: self.drop(key)):
            entry = self._entry(key, loader, source)
            with entry.lock:
                yield entry.pipeline


def _load(source: ModelSource, loader: Callable[[], Any]) -> Any:
    """Run ``loader``; a missing or broken file becomes :class:`ModelUnavailable` naming the model."""
    try:
        return loader()
    except (OSError, ValueError, KeyError) as exc:
        where = source.path or f"the hub ({source.id})"
        raise ModelUnavailable(
            f"could not load {source.kind.replace('_', ' ')} model {source.id!r} from {where}: "
            f"{type(exc).__name__}: {exc}. A folder must hold a complete save_pretrained layout of this kind "
            f"of model; {_how_to_provide(source.kind, source.id)}"
        ) from exc


def local_files_only(source: ModelSource) -> bool:
    """Load from disk only, unless the weights still have to be downloaded."""
    return source.path is not None or hub_offline()


CACHE = PipelineCache()


def inventory() -> list[tuple[str, str]]:
    """Rows for ``orfeas doctor``: each default model and whether its weights are present locally."""
    rows = []
    for kind, (setting, *_rest) in KINDS.items():
        given = config.get(setting)
        try:
            source = resolve(kind)
        except ModelUnavailable as exc:
            env = config.SETTINGS[setting].env
            status = f"missing: {str(exc).split('. ')[0]}; set {env} to a folder or download it"
        else:
            if source.path is None:
                status = "not downloaded yet: fetched from the hub on first use"
            elif source.revision.startswith("hub:"):
                status = f"in the Hugging Face cache ({source.path})"
            else:
                status = f"local folder ({source.revision})"
        rows.append((f"{kind} {given}", status))
    return rows
