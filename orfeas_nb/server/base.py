"""What every ``/orfeas/`` handler shares: JSON errors, request metrics and the per-client rate limit.

Errors are ``{"error": {"type", "message"}}``, whatever raised them (the api, tornado's 403/404/405,
Jupyter's XSRF check), never a traceback or an HTML page. Every request, 4xx and 5xx included, counts
in ``orfeas_requests_total{method,endpoint,status}`` and ``orfeas_request_duration_seconds{method,endpoint}``
with ``endpoint`` the route template (``jobs/{id}``), never the raw path.
"""

from __future__ import annotations

import json
import math
import time
from http.client import responses
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from .. import config
from ..errors import OrfeasError

API_KEY = "orfeas_api"
ERROR_TYPES = {400: "InvalidInput", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
               413: "PayloadTooLarge", 415: "UnsupportedFormat", 429: "TooManyRequests", 500: "InternalError"}
FORBIDDEN = ("this route needs Jupyter's token (header 'Authorization: token <token>') or its login cookie; "
             "`jupyter server list` shows the token")


class ApiError(web.HTTPError):
    """An HTTP error with the JSON error ``type`` and one-line ``message`` the client sees."""

    def __init__(self, status: int, message: str, *, type: str | None = None, retry_after: float | None = None):
        super().__init__(status, None)
        self.message = message
        self.type = type or ERROR_TYPES.get(status, "HTTPError")
        self.retry_after = retry_after

    @classmethod
    def from_error(cls, exc: OrfeasError, status: int = 400) -> ApiError:
        """A 400 (or ``status``) carrying an OrfeasError's class name and message."""
        return cls(status, str(exc), type=type(exc).__name__)


class RateLimiter:
    """A token bucket per client: ``ORFEAS_RATE_LIMIT`` requests a minute, bursts of a sixth of that."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, client: str) -> float:
        """Take one token for ``client``; return 0 if allowed, else the seconds until one is free."""
        per_minute = config.get("rate_limit")
        rate, capacity = per_minute / 60.0, max(1.0, per_minute / 6.0)
        now = time.monotonic()
        tokens, last = self._buckets.get(client, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * rate)
        if tokens >= 1.0:
            self._buckets[client] = (tokens - 1.0, now)
            return 0.0
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > 10_000:  # forget idle clients
            self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 600}
        return (1.0 - tokens) / rate


class OrfeasHandler(APIHandler):
    """Base of every /orfeas/ route: ``endpoint`` is its template, ``limited`` whether the rate limit applies."""

    endpoint = "unknown"
    limited = True

    @property
    def api(self) -> dict[str, Any]:
        return self.settings[API_KEY]

    async def prepare(self) -> None:
        await super().prepare()
        if self.limited and self.current_user and self.request.method != "OPTIONS":
            wait = self.api["limiter"].check(self.request.remote_ip or "unknown")
            if wait:
                raise ApiError(429, f"more than ORFEAS_RATE_LIMIT={config.get('rate_limit')} requests a minute from "
                               f"this client; retry in {math.ceil(wait)} s", retry_after=wait)

    def json_body(self) -> Any:
        """The request body as JSON, or a 400 saying why it is not."""
        try:
            return json.loads(self.request.body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"the body is not valid JSON ({exc}); send Content-Type: application/json") from None

    def reply(self, document: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(document))

    def url(self, *parts: str) -> str:
        """An absolute path under this server's base URL, e.g. ``/orfeas/jobs/<id>``."""
        return self.base_url.rstrip("/") + "/orfeas/" + "/".join(parts)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            error_type, message = exc.type, exc.message
            if exc.retry_after is not None:
                self.set_header("Retry-After", str(max(1, math.ceil(exc.retry_after))))
        elif isinstance(exc, web.HTTPError):
            error_type = ERROR_TYPES.get(status_code, "HTTPError")
            message = exc.log_message % exc.args if exc.log_message and exc.args else exc.log_message
            if status_code == 405:
                message = f"{self.request.method} is not allowed on this route; openapi.json lists each route's methods"
            if status_code == 403:
                message = f"{message}: {FORBIDDEN}" if message else FORBIDDEN
            message = message or responses.get(status_code, "error")
        else:
            error_type, message = "InternalError", "the server failed to answer; its log has the details"
        self.clear_header("Content-Disposition")
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": {"type": error_type, "message": str(message).splitlines()[0] if message else ""}}))

    def on_finish(self) -> None:
        recorder = self.settings.get(API_KEY, {}).get("requests")
        if recorder is not None:
            recorder.observe(self.request.method or "GET", self.endpoint, self.get_status(), self.request.request_time())


class NotFoundHandler(OrfeasHandler):
    """Any other path under /orfeas/: a JSON 404 (403 without auth, like every route but health)."""

    endpoint = "unknown"

    @web.authenticated
    def get(self, *args: Any, **kwargs: Any) -> None:
        raise ApiError(404, f"no such route: {self.request.path}; GET {self.url('openapi.json')} lists them")

    post = put = delete = patch = head = get
