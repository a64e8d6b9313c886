"""What the Prometheus, Alertmanager and Loki clients share: one httpx client, de-duplication of
identical in-flight requests, and turning every failure into a one-line ApiError.

Why: the three APIs fail in the same ways (nothing listening, a proxy's HTML page, a 401, a
body that is not what the docs promise) and a person should read the same sentence for the same
problem whichever panel shows it: "<System> at <url>: <what happened> (<what to try>)".
All I/O goes through probes.http.fetch, so deadlines, size caps, auth and TLS live in one place.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Awaitable, Callable, Hashable, Mapping, TypeVar

import httpx

from probes.config import ConfigError, Endpoint
from probes.http import DEFAULT_MAX_BYTES, ClientOptions, FetchError, Response, describe_body, fetch, make_client
from probes.promtypes import ApiError, ApiResult
from probes.redact import display_url, scrub
from probes.shape import ShapeError

R = TypeVar("R")
MAX_MESSAGE = 400

# HTTP status -> the Prometheus errorType it stands for (Prometheus' own mapping, reused for
# Alertmanager and Loki so callers switch on one vocabulary).
_STATUS_KINDS = {400: "bad_data", 404: "not_found", 422: "execution", 499: "canceled", 500: "internal",
                 503: "unavailable", 504: "timeout"}
_HINTS = {
    401: "check bearer_token or username/password",
    403: "check bearer_token or username/password",
    404: "check the URL (does it need a path prefix?)",
    407: "a proxy wants credentials",
}


def status_kind(status: int) -> str:
    return _STATUS_KINDS.get(status, "http")


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """Collapse whitespace and cut long server text so an error fits a status line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class ApiClientBase:
    """Owns (or borrows) an httpx.AsyncClient for one Endpoint; subclasses add the API calls."""

    system = "API"

    def __init__(self, endpoint: Endpoint, *, client: httpx.AsyncClient | None = None):
        self.endpoint = endpoint
        self._base = endpoint.url.rstrip("/")
        self._client = client
        self._owns_client = client is None
        self._inflight: dict[Hashable, asyncio.Task] = {}
        self._secrets = endpoint.secrets()  # scrubbed from our messages (the registry covers output too)

    # -- lifecycle ----------------------------------------------------------------------------

    async def aclose(self) -> None:
        for task in list(self._inflight.values()):
            task.cancel()
        self._inflight.clear()
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def display(self) -> str:
        return display_url(self._base)

    # -- errors -------------------------------------------------------------------------------

    def error(self, kind: str, reason: str, status: int | None = None) -> ApiError:
        text = scrub(f"{self.system} at {self.display}: {reason}", self._secrets)
        return ApiError(kind=kind, message=one_line(text), status=status)

    def _fetch_error(self, exc: FetchError, url: str) -> ApiError:
        # fetch() phrases messages as "<url>: <reason>"; we name the server instead of the path.
        prefix = display_url(url) + ": "
        reason = exc.message[len(prefix):] if exc.message.startswith(prefix) else exc.message
        return self.error(exc.kind, reason, exc.status)

    def http_error(self, resp: Response, detail: str = "") -> ApiError:
        """A non-2xx answer whose body is not the API's error format."""
        if _looks_html(resp):
            return self.error("not_json", f"expected JSON from {_path(resp.url)}, got {describe_body(resp)}",
                              resp.status)
        detail = detail or one_line(resp.text(), 200)
        hint = _HINTS.get(resp.status)
        reason = f"HTTP {resp.status}" + (f": {detail}" if detail else "") + (f" ({hint})" if hint else "")
        return self.error(status_kind(resp.status) if resp.status in (404, 500, 503, 504) else "http",
                          reason, resp.status)

    async def check_ready(self, path: str) -> ApiResult[bool]:
        """value True on HTTP 200; another answer is ok=False, value=False, kind "not_ready";
        no answer at all is ok=False, value=None with the transport error."""
        start = time.monotonic()
        resp = await self.request("GET", path)
        elapsed = time.monotonic() - start
        if isinstance(resp, ApiError):
            return ApiResult(ok=False, error=resp, elapsed_s=elapsed)
        if resp.status == 200:
            return ApiResult(ok=True, value=True, elapsed_s=elapsed)
        return ApiResult(ok=False, value=False, error=self.not_ready(resp), elapsed_s=elapsed)

    def not_ready(self, resp: Response) -> ApiError:
        """A readiness endpoint that answered, but not 200 (starting up, replaying its WAL...)."""
        if _looks_html(resp):
            return self.http_error(resp)
        detail = one_line(resp.text(), 200)
        return self.error("not_ready", f"not ready (HTTP {resp.status}" + (f": {detail})" if detail else ")"),
                          resp.status)

    def not_json(self, resp: Response) -> ApiError:
        return self.error("not_json", f"expected JSON from {_path(resp.url)}, got {describe_body(resp)}",
                          resp.status)

    def protocol(self, resp: Response | None, exc: BaseException) -> ApiError:
        """A 2xx answer whose JSON is not the documented shape (a string where an object belongs,
        as proxies send): "unexpected answer from Prometheus at <url> (/api/v1/targets): <where>"."""
        what = str(exc) if isinstance(exc, ShapeError) else f"{type(exc).__name__}: {exc}"
        path = f" ({_path(resp.url)})" if resp is not None else ""
        text = scrub(f"unexpected answer from {self.system} at {self.display}{path}: {one_line(what, 200)}",
                     self._secrets)
        return ApiError(kind="protocol", message=one_line(text), status=resp.status if resp is not None else None)

    # -- requests -----------------------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = make_client(ClientOptions.from_endpoint(self.endpoint))
        return self._client

    async def request(self, method: str, path: str, *, params: Any = None, data: Mapping[str, Any] | None = None,
                      json_body: Any = None, timeout: float | None = None,
                      max_bytes: int = DEFAULT_MAX_BYTES) -> Response | ApiError:
        """One HTTP exchange; any failure to get an HTTP response comes back as an ApiError."""
        url = self._base + path
        try:
            client = self._http()
        except FetchError as exc:
            return self.error("config", exc.message)
        except ConfigError as exc:
            return self.error("config", str(exc))
        deadline = timeout if timeout is not None else self.endpoint.timeout
        try:
            return await fetch(client, method, url, params=params, data=data, json_body=json_body,
                               timeout=deadline, max_bytes=max_bytes)
        except FetchError as exc:
            return self._fetch_error(exc, url)

    async def get_json(self, path: str, *, params: Any = None, timeout: float | None = None,
                       method: str = "GET", data: Mapping[str, Any] | None = None,
                       json_body: Any = None) -> tuple[Response, Any] | ApiError:
        """(response, decoded JSON) for a 2xx JSON answer; otherwise an ApiError.

        Non-2xx answers are handed to `self.api_error(resp)`, which knows the API's error shape.
        """
        resp = await self.request(method, path, params=params, data=data, json_body=json_body, timeout=timeout)
        if isinstance(resp, ApiError):
            return resp
        if resp.status >= 300:
            return self.api_error(resp)
        try:
            return resp, json.loads(resp.body)
        except (ValueError, UnicodeDecodeError):
            return self.not_json(resp)

    def api_error(self, resp: Response) -> ApiError:
        """Subclasses override: read the API's own error body."""
        return self.http_error(resp)

    async def shared(self, key: Hashable, factory: Callable[[], Awaitable[R]]) -> R:
        """Run factory() once for all concurrent callers with the same key.

        Why: the dashboard asks for the same query from several panels in the same tick; one
        request is enough. The shared task is shielded so one caller giving up (its worker was
        cancelled) does not cancel the answer the others are waiting for. Results are frozen
        dataclasses, so sharing one object is safe.
        """
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(factory())
            self._inflight[key] = task

            def _done(t: asyncio.Task, k: Hashable = key) -> None:
                if self._inflight.get(k) is t:
                    del self._inflight[k]
                if not t.cancelled():
                    t.exception()  # mark retrieved: a bug surfaces in the awaiting caller instead

            task.add_done_callback(_done)
        return await asyncio.shield(task)


def _looks_html(resp: Response) -> bool:
    head = resp.body[:200].lstrip().lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html") or "html" in resp.content_type


def _path(url: str) -> str:
    return httpx.URL(url).path or "/"


def freeze(params: Any) -> tuple:
    """A hashable form of request parameters (a dict or a list of pairs) for de-duplication keys."""
    items = params.items() if isinstance(params, Mapping) else (params or ())
    return tuple(sorted((str(k), str(v)) for k, v in items))
