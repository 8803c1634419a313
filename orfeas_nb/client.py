"""``orfeas_nb.connect(url)``: the api functions run on an orfeas server over its HTTP API.

    client = orfeas_nb.connect("http://gpu-box:8888/", token="...")   # or ORFEAS_TOKEN, or ?token= in the URL
    model = client.image_to_3d("photo.jpg", method="relief", quality=7, size_mm=100)
    model.export("photo.stl")                  # the same Model3D (mesh + manifest) a local call returns
    image = client.text_to_image("a small ceramic owl", seed=7)   # PIL image, image.info["orfeas"] filled

Each call uploads what it needs, submits a job, waits with a progress bar (tqdm; the widget bar in a
notebook) and downloads the result. Errors arrive as the same :mod:`orfeas_nb.errors` classes with the
server's one-line messages; a 429 answer ("busy") is retried after its ``Retry-After`` a few times before
:class:`~orfeas_nb.errors.OutOfResources`. ``cancel=`` (a ``threading.Event``) and Ctrl-C cancel the job
on the server. Needs httpx (``pip install 'orfeas_nb[client]'``).
"""

from __future__ import annotations

import io
import json
import os
import time
import urllib.parse
from pathlib import Path
from typing import Any

try:
    import httpx
except ImportError as exc:  # pragma: no cover - the client is an optional extra
    raise ImportError("orfeas_nb.connect needs httpx: pip install 'orfeas_nb[client]'") from exc

from . import errors
from .errors import InvalidInput, JobCancelled, OrfeasError, OutOfResources

TOKEN_ENV = "ORFEAS_TOKEN"  # noqa: S105 # nosec B105
FINISHED = ("done", "failed", "cancelled")
# the server's job-file keys that a local Model3D's manifest (or a local image's record) does not have
_FILE_KEYS = ("file", "format", "output")
_ERROR_CLASSES: dict[str, type[OrfeasError]] = {
    cls.__name__: cls
    for cls in (errors.OrfeasError, errors.InvalidInput, errors.UnsupportedFormat, errors.ModelUnavailable,
                errors.OutOfResources, errors.JobCancelled, errors.ExportError)
}
_BY_STATUS: dict[int, type[OrfeasError]] = {
    400: InvalidInput, 404: InvalidInput, 413: InvalidInput, 415: errors.UnsupportedFormat, 429: OutOfResources,
}


def error_from(error: dict[str, Any] | None, status: int | None = None) -> OrfeasError:
    """The :class:`OrfeasError` for a JSON error ``{"type", "message"}`` (by its type, else by HTTP status).

    >>> e = error_from({"type": "InvalidInput", "message": "quality must be 1–10"})
    >>> type(e).__name__, str(e)
    ('InvalidInput', 'quality must be 1–10')
    """
    error = error or {}
    cls = _ERROR_CLASSES.get(str(error.get("type")), _BY_STATUS.get(status or 0, OrfeasError))
    return cls(error.get("message") or f"the server answered HTTP {status} without a message")


def _split_url(url: str, token: str | None) -> tuple[str, str | None]:
    """The server root (scheme, host, base_url; ending in "/") and the token (given, in the URL, or ORFEAS_TOKEN)."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"the server URL must look like http://host:port/ (Jupyter's URL), got {url!r}")
    query_token = urllib.parse.parse_qs(parts.query).get("token", [None])[0]
    path = parts.path
    for suffix in ("/orfeas", "/lab", "/tree"):  # a URL copied from the browser or the API's own root
        if path.rstrip("/").endswith(suffix):
            path = path.rstrip("/")[: -len(suffix)]
    root = urllib.parse.urlunsplit((parts.scheme, parts.netloc, path.rstrip("/") + "/", "", ""))
    return root, token or query_token or os.environ.get(TOKEN_ENV) or None


def _image_bytes(image: Any) -> bytes:
    """What to upload: a file's bytes as they are, bytes as given, PIL images and arrays as PNG."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return bytes(image)
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if not path.is_file():
            raise InvalidInput(f"no image file at {str(path)!r}; check the path")
        return path.read_bytes()
    from PIL import Image

    if not isinstance(image, Image.Image):
        from .validation import load_image  # arrays: the same checks and conversion as a local call

        image = load_image(image).image
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    raise InvalidInput(f"cannot send a {type(value).__name__} to the server; give numbers, strings, booleans or lists")


def _without_file_keys(manifest: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in manifest.items() if key not in _FILE_KEYS}


class _Bar:
    """A percent bar (tqdm.auto: the widget bar in a notebook) showing the job's progress and message."""

    def __init__(self, show: bool, desc: str, callback: Any):
        if callback is not None and not callable(callback):
            raise InvalidInput(f"callback must be a function taking (step, total), got {type(callback).__name__}")
        self._callback = callback
        self._last = -1
        self._bar = None
        if show:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=100, desc=desc, unit="%", leave=False)

    def show(self, progress: float, message: str) -> None:
        percent = round(min(1.0, max(0.0, float(progress or 0))) * 100)
        if self._bar is not None:
            self._bar.update(percent - self._bar.n)
            self._bar.set_postfix_str(message or "", refresh=False)
        if self._callback is not None and percent != self._last:
            self._callback(percent, 100)
        self._last = percent

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


class Client:
    """The orfeas HTTP API of one Jupyter server, with the api's functions as methods.

    ``url`` is the server's URL as Jupyter prints it (its base_url included; a ``?token=`` in it is used);
    ``token`` defaults to that or ``ORFEAS_TOKEN``. ``retries`` bounds the retries of a 429 answer;
    a job's status is polled at a tenth of the time waited so far, at least every ``poll_interval`` seconds;
    ``transport`` is an httpx transport (custom TLS or proxies; tests use ``httpx.MockTransport``).
    """

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 60.0, retries: int = 5,
                 poll_interval: float = 1.0, transport: httpx.BaseTransport | None = None):
        self.url, token = _split_url(url, token)
        self.api = self.url + "orfeas/"
        self.retries = retries
        self.poll_interval = poll_interval
        self._token_given = token is not None
        headers = {"Authorization": f"token {token}"} if token else {}
        self._http = httpx.Client(headers=headers, timeout=timeout, follow_redirects=False, transport=transport)

    def __repr__(self) -> str:
        return f"<orfeas_nb.Client {self.api}>"

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- HTTP -------------------------------------------------------------------------------------------

    def _absolute(self, path: str) -> str:
        """``path`` (relative to the API, or a URL the server gave) as a URL on this server, never another."""
        url = urllib.parse.urljoin(self.api, path)
        if urllib.parse.urlsplit(url)[:2] != urllib.parse.urlsplit(self.api)[:2]:
            raise OrfeasError(f"the server pointed to {url!r}, outside {self.url}; refusing to send the token there")
        return url

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request; retry 429 answers after their Retry-After; raise the matching OrfeasError."""
        url = self._absolute(path)
        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(method, url, **kwargs)
            except httpx.ConnectError as exc:
                raise OrfeasError(f"cannot connect to the orfeas server at {self.url} ({exc}); is it running "
                                  "(`orfeas serve`) and is the URL right?") from exc
            except httpx.TimeoutException as exc:
                raise OrfeasError(f"the orfeas server at {self.url} did not answer {method} {path} in time") from exc
            except httpx.TransportError as exc:
                raise OrfeasError(f"talking to the orfeas server at {self.url} failed: {exc}") from exc
            if response.status_code != 429 or attempt == self.retries:
                break
            time.sleep(_retry_after(response))
        if response.status_code >= 400:
            raise self._error(response, method, path)
        return response

    def _error(self, response: httpx.Response, method: str, path: str) -> OrfeasError:
        status = response.status_code
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if status == 403:
            given = "was not accepted" if self._token_given else "is missing"
            return InvalidInput(f"the orfeas server at {self.url} refused {method} {path} (403): the token {given}; "
                                f"pass the server's token with token= (CLI: --token) or set {TOKEN_ENV}")
        if not isinstance(error, dict):
            hint = "; is orfeas_nb installed there with its server extension enabled?" if status == 404 else ""
            return error_from({"message": f"the server at {self.url} answered {status} to {method} {path}{hint}"},
                              status)
        exc = error_from(error, status)
        if status == 429:
            return OutOfResources(f"{exc} (still busy after {self.retries} retries; try again later)")
        return exc

    def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """A request whose answer is a JSON object."""
        return self.request(method, path, **kwargs).json()

    def fetch(self, path: str) -> bytes:
        """Download a file the server offers (e.g. a job's ``model_url``)."""
        return self.request("GET", path).content

    # -- the API's steps ---------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``GET health``: ``{"status": "ready" | "online"}`` (no token needed)."""
        return self.json("GET", "health")

    def upload(self, image: Any) -> dict[str, Any]:
        """``POST upload-image``: ``{"job_id", "preview_url", "width", "height", "sha256"}``."""
        data = _image_bytes(image)
        return self.json("POST", "upload-image", files={"file": ("image", data, "application/octet-stream")})

    def submit(self, route: str, body: dict[str, Any]) -> str:
        """POST a job (``text-to-image`` or ``generate-3d``) and return its id."""
        payload = json.dumps(body, default=_jsonable).encode()
        answer = self.json("POST", route, content=payload, headers={"Content-Type": "application/json"})
        return answer["job_id"]

    def status(self, job_id: str) -> dict[str, Any]:
        """``GET jobs/{id}``."""
        return self.json("GET", f"jobs/{job_id}")

    def cancel(self, job_id: str) -> None:
        """``DELETE jobs/{id}``: the server stops the job within one step."""
        self.request("DELETE", f"jobs/{job_id}")

    def wait(self, job_id: str, *, progress: bool = True, callback: Any = None, cancel: Any = None,
             desc: str = "job") -> dict[str, Any]:
        """Poll the job until it finishes; return its final status, or raise its error.

        ``callback(percent, 100)`` on each progress change; ``cancel`` (a ``threading.Event``) or Ctrl-C
        cancels the job on the server and raises :class:`JobCancelled`.
        """
        if cancel is not None and not callable(getattr(cancel, "is_set", None)):
            raise InvalidInput(f"cancel must be a threading.Event (anything with is_set()), got {type(cancel).__name__}")
        bar = _Bar(progress, desc, callback)
        started = time.monotonic()
        try:
            while True:
                if cancel is not None and cancel.is_set():
                    self.cancel(job_id)
                    raise JobCancelled(f"{desc} was cancelled (job {job_id})")
                status = self.status(job_id)
                bar.show(status.get("progress") or 0.0, status.get("message") or status["status"])
                if status["status"] in FINISHED:
                    break
                # a tenth of the time waited so far (the end is noticed within ~10 %), from 20 ms up to poll_interval
                delay = min(self.poll_interval, max(0.02, 0.1 * (time.monotonic() - started)))
                if cancel is not None:
                    cancel.wait(delay)
                else:
                    time.sleep(delay)
        except KeyboardInterrupt:
            self._cancel_quietly(job_id)
            raise
        finally:
            bar.close()
        if status["status"] == "failed":
            raise error_from(status.get("error"))
        if status["status"] == "cancelled":
            raise JobCancelled(status.get("message") or f"{desc} was cancelled (job {job_id})")
        return status

    def _cancel_quietly(self, job_id: str) -> None:
        try:
            self.cancel(job_id)
        except OrfeasError:
            pass  # the job may have finished meanwhile, or the server gone: Ctrl-C must still stop the client

    def run(self, route: str, body: dict[str, Any], *, progress: bool = True, callback: Any = None, cancel: Any = None,
            desc: str = "job") -> dict[str, Any]:
        """Submit a job, wait for it and return its final status."""
        job_id = self.submit(route, body)
        return self.wait(job_id, progress=progress, callback=callback, cancel=cancel, desc=desc)

    def _manifest(self, status: dict[str, Any]) -> dict[str, Any]:
        return _without_file_keys(json.loads(self.fetch(status.get("manifest_url") or f"jobs/{status['job_id']}/manifest")))

    def model(self, status: dict[str, Any], format: str) -> Any:
        """A finished 3D job's file and manifest as a :class:`~orfeas_nb.model.Model3D`."""
        import trimesh

        from .model import Model3D

        data = self.fetch(status.get("model_url") or f"jobs/{status['job_id']}/model")
        mesh = trimesh.load(io.BytesIO(data), file_type=format.lower(), force="mesh")
        return Model3D(mesh, self._manifest(status))

    # -- the api's functions -----------------------------------------------------------------------------

    def image_to_3d(self, image: Any, *, method: str = "relief", quality: int = 7, size_mm: float = 100.0,
                    format: str = "stl", progress: bool = True, callback: Any = None, cancel: Any = None,
                    **options: Any) -> Any:
        """:func:`orfeas_nb.image_to_3d` on the server: upload ``image``, generate, download the model.

        ``format`` is the file the server sends back (stl, obj, glb, ply, 3mf); the mesh is the same.
        """
        upload = self.upload(image)
        body = {"job_id": upload["job_id"], "method": method, "quality": quality, "size_mm": size_mm,
                "format": format, **options}
        status = self.run("generate-3d", body, progress=progress, callback=callback, cancel=cancel,
                          desc=f"image_to_3d({method})")
        model = self.model(status, format)
        if isinstance(image, (str, os.PathLike)) and isinstance(model.manifest.get("input"), dict):
            model.manifest["input"]["path"] = os.path.abspath(image)  # as a local call records it (orfeas reproduce)
        return model

    def text_to_image(self, prompt: str, *, style: str = "realistic", seed: int | None = None, steps: int | None = None,
                      width: int | None = None, height: int | None = None, negative_prompt: str | None = None,
                      model: str | None = None, progress: bool = True, callback: Any = None, cancel: Any = None) -> Any:
        """:func:`orfeas_nb.text_to_image` on the server; the PIL image's ``info["orfeas"]`` is its record."""
        from PIL import Image

        given = {"seed": seed, "steps": steps, "width": width, "height": height, "negative_prompt": negative_prompt,
                 "model": model}
        body = {"prompt": prompt, "style": style, **{key: value for key, value in given.items() if value is not None}}
        status = self.run("text-to-image", body, progress=progress, callback=callback, cancel=cancel,
                          desc="text_to_image")
        image = Image.open(io.BytesIO(self.fetch(status.get("image_url") or f"jobs/{status['job_id']}/image")))
        image.load()
        image.info["orfeas"] = self._manifest(status)
        return image

    def text_to_3d(self, prompt: str, *, method: str = "shap-e", quality: int = 7, size_mm: float = 100.0,
                   style: str = "realistic", image_model: str | None = None, depth_model: str | None = None,
                   format: str = "stl", progress: bool = True, callback: Any = None, cancel: Any = None,
                   **options: Any) -> Any:
        """:func:`orfeas_nb.text_to_3d` on the server (run keywords such as ``model``, ``seed``, ``steps`` go along)."""
        given = {"image_model": image_model, "depth_model": depth_model}
        body = {"prompt": prompt, "method": method, "quality": quality, "size_mm": size_mm, "style": style,
                "format": format, **{key: value for key, value in given.items() if value is not None}, **options}
        status = self.run("generate-3d", body, progress=progress, callback=callback, cancel=cancel,
                          desc=f"text_to_3d({method})")
        return self.model(status, format)


def _retry_after(response: httpx.Response, cap: float = 30.0) -> float:
    """Seconds to wait before retrying a 429 (its Retry-After, at least 0.05 s and at most ``cap``)."""
    try:
        seconds = float(response.headers.get("Retry-After", "1"))
    except ValueError:
        seconds = 1.0
    return min(cap, max(0.05, seconds))


def connect(url: str, token: str | None = None, **settings: Any) -> Client:
    """A :class:`Client` for the orfeas server at ``url`` (Jupyter's URL; token from ``token=``, the URL's
    ``?token=``, or ``ORFEAS_TOKEN``).

    >>> client = connect("http://127.0.0.1:8888/?token=abc")
    >>> client.api
    'http://127.0.0.1:8888/orfeas/'
    >>> client.close()
    """
    return Client(url, token, **settings)
