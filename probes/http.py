"""One shared way to make HTTP requests: timeouts, auth, TLS, headers, size caps, clear errors.

Every outside call in llmwatch goes through `fetch()`:
- a hard deadline for the whole exchange (httpx's timeouts are per read; a server that trickles
  one byte a second would otherwise never time out);
- a body size cap (a 5 MB health page or a runaway query must not eat memory);
- redirects followed here, not by httpx: a hop to another origin (scheme, host or port) drops
  every credential (Authorization, Proxy-Authorization, X-Api-Key, Cookie, any secret-looking or
  configured header, and the client's auth), as curl and browsers do. httpx itself strips only
  Authorization, and keeps it on an http -> https hop;
- failures become `FetchError` with a `kind` and a one-line message that never holds a secret.
"""

from __future__ import annotations

import asyncio
import errno
import json
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import httpx

from probes import redact
from probes.config import Endpoint
from probes.redact import display_url, is_secret_header

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
USER_AGENT = "llmwatch"


class FetchError(Exception):
    """A request that did not produce a usable response.

    kind: refused | dns | tls | timeout | redirects | too_large | connect | http | not_json | protocol
    """

    def __init__(self, kind: str, message: str, *, status: int | None = None, body: bytes = b"",
                 content_type: str = ""):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.body = body
        self.content_type = content_type


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed_s: float
    url: str
    response_s: float | None = None  # request sent -> response read (no connect, no client set-up)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """Decoded JSON, or FetchError(kind='not_json') naming what came instead (an HTML page...)."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise FetchError("not_json", f"expected JSON from {display_url(self.url)}, got {describe_body(self)}",
                             status=self.status, body=self.body[:4096], content_type=self.content_type) from None


def describe_body(resp: Response) -> str:
    """A short, safe description of a body that was not what we wanted."""
    ctype = resp.content_type.split(";")[0].strip() or "no content type"
    if not resp.body:
        return f"an empty body (HTTP {resp.status})"
    head = resp.body[:200].lstrip().lower()
    if head.startswith(b"<!doctype html") or head.startswith(b"<html") or "html" in ctype:
        return f"an HTML page (HTTP {resp.status}, {ctype}): is a proxy or login page in the way?"
    return f"{len(resp.body)} bytes of {ctype} (HTTP {resp.status})"


@dataclass(frozen=True)
class ClientOptions:
    """Everything that shapes a client; built from an Endpoint or a health-check Service."""

    timeout: float = 10.0
    bearer_token: str | None = None
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    insecure: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    max_redirects: int = 5
    bearer_token_file: str | None = None  # read on every request: rotated tokens keep working

    @classmethod
    def from_endpoint(cls, ep: Endpoint) -> "ClientOptions":
        headers = dict(ep.headers)
        if ep.org_id:
            headers.setdefault("X-Scope-OrgID", ep.org_id)
        # A token file is not read here: clients live for the whole dashboard session, and
        # Kubernetes-style projected tokens rotate underneath them (see _FileBearerAuth).
        return cls(timeout=ep.timeout, bearer_token=ep.bearer_token or None,
                   bearer_token_file=None if ep.bearer_token else ep.bearer_token_file,
                   username=ep.username, password=ep.password,
                   ca_file=ep.ca_file, insecure=ep.insecure, headers=headers)


class _FileBearerAuth(httpx.Auth):
    """Authorization: Bearer <contents of a file>, read per request (the file is tiny)."""

    def __init__(self, path: str):
        self.path = path

    def auth_flow(self, request: httpx.Request):
        try:
            token = Path(self.path).read_text().strip()
        except OSError as exc:
            raise FetchError("config", f"cannot read bearer_token_file {self.path}: {exc.strerror}") from None
        redact.register([token])  # a rotated token is a new secret to keep out of output
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


def make_client(opts: ClientOptions, *, base_url: str = "") -> httpx.AsyncClient:
    """An AsyncClient with our timeouts, auth, TLS settings and headers. Caller closes it."""
    headers = {"User-Agent": USER_AGENT, **opts.headers}
    if opts.bearer_token:
        headers["Authorization"] = f"Bearer {opts.bearer_token}"
    auth: httpx.Auth | None = httpx.BasicAuth(opts.username, opts.password or "") if opts.username else None
    if opts.bearer_token_file and not opts.bearer_token:
        auth = _FileBearerAuth(opts.bearer_token_file)
    verify: bool | ssl.SSLContext
    if opts.insecure:
        verify = False
    elif opts.ca_file:
        try:
            verify = ssl.create_default_context(cafile=opts.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise FetchError("tls", f"cannot load ca_file {opts.ca_file}: {exc}") from None
    else:
        verify = True
    return httpx.AsyncClient(
        base_url=base_url,
        headers=headers,
        auth=auth,
        verify=verify,
        timeout=httpx.Timeout(opts.timeout),
        follow_redirects=False,  # fetch() follows them itself (credentials and origins)
        max_redirects=opts.max_redirects,
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        trust_env=False,
    )


async def fetch(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    json_body: Any = None,
    data: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Response:
    """One request under a hard deadline, with the body capped at max_bytes.

    Returns a Response for any HTTP status (callers decide what a 4xx means); raises FetchError
    for everything that is not an HTTP response.
    """
    deadline = timeout if timeout is not None else client.timeout.read or 10.0
    shown = display_url(str(client.base_url.join(url)) if client.base_url else url)
    start = time.monotonic()
    sent: list[float] = []  # when each request's headers went out (several after redirects)

    async def trace(event: str, info: Any) -> None:
        if event.endswith("send_request_headers.started"):
            sent.append(time.monotonic())

    try:
        async with asyncio.timeout(deadline):
            request = client.build_request(method, url, params=params, json=json_body, data=data,
                                           timeout=httpx.Timeout(deadline), extensions={"trace": trace})
            resp = await _send_following(client, request, shown)
            try:
                length = resp.headers.get("content-length")
                if length and length.isdigit() and int(length) > max_bytes:
                    raise FetchError("too_large", f"{shown}: response of {_mb(int(length))} is over the "
                                     f"{_mb(max_bytes)} limit", status=resp.status_code)
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError("too_large", f"{shown}: response body is over the {_mb(max_bytes)} limit",
                                         status=resp.status_code)
                    chunks.append(chunk)
            finally:
                await resp.aclose()
    except FetchError:
        raise
    except TimeoutError:
        raise FetchError("timeout", f"{shown}: no complete answer within {deadline:g}s") from None
    except httpx.TimeoutException:
        raise FetchError("timeout", f"{shown}: no complete answer within {deadline:g}s") from None
    except httpx.TooManyRedirects:
        raise FetchError("redirects", f"{shown}: too many redirects (a redirect loop?)") from None
    except httpx.InvalidURL as exc:
        raise FetchError("config", f"{shown}: bad URL ({_first_line(exc)})") from None
    except httpx.HTTPError as exc:
        kind, message = classify(exc)
        raise FetchError(kind, f"{shown}: {message}") from None
    except (ssl.SSLError, OSError) as exc:
        kind, message = classify(exc)
        raise FetchError(kind, f"{shown}: {message}") from None
    except ExceptionGroup as group:  # anyio task groups inside httpcore wrap the real error
        kind, message = classify(_leaf(group))
        raise FetchError(kind, f"{shown}: {message}") from None
    done = time.monotonic()
    return Response(status=resp.status_code, headers={k.lower(): v for k, v in resp.headers.items()},
                    body=b"".join(chunks), elapsed_s=done - start, url=str(resp.url),
                    response_s=(done - sent[0]) if sent else None)


_REDIRECT_CODES = (301, 302, 303, 307, 308)
_KEEP_ACROSS_ORIGINS = frozenset({"accept", "accept-encoding", "user-agent", "content-type", "content-length"})


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80)


async def _send_following(client: httpx.AsyncClient, request: httpx.Request, shown: str) -> httpx.Response:
    """Send, following up to client.max_redirects redirects. Same origin: the next request keeps
    its headers and the client's auth. Another origin: credentials stay behind (see the module
    docstring). 303, and 301/302 after a POST, continue as GET without a body, as httpx does."""
    origin = _origin(request.url)
    configured = {k.lower() for k in client.headers.keys()} - _KEEP_ACROSS_ORIGINS
    auth: Any = httpx.USE_CLIENT_DEFAULT
    for _hop in range(client.max_redirects + 1):
        resp = await client.send(request, stream=True, auth=auth)
        location = resp.headers.get("location")
        if resp.status_code not in _REDIRECT_CODES or not location:
            return resp
        await resp.aclose()
        try:
            target = request.url.join(location)
        except httpx.InvalidURL:
            raise FetchError("redirects", f"{shown}: redirect to an unusable Location") from None
        if target.scheme not in ("http", "https"):
            raise FetchError("redirects", f"{shown}: redirect to a {target.scheme or 'relative'}: URL refused")
        method = request.method
        if resp.status_code == 303 and method != "HEAD" or resp.status_code in (301, 302) and method == "POST":
            method = "GET"
        headers = httpx.Headers(request.headers)
        for name in ("host", "cookie"):
            headers.pop(name, None)
        body = request.content if method == request.method else None
        if body is None:
            for name in ("content-length", "content-type", "transfer-encoding"):
                headers.pop(name, None)
        if _origin(target) != origin:
            for name in list(headers.keys()):
                if is_secret_header(name) or name.lower() in configured:
                    headers.pop(name, None)
            auth = None  # and no Basic or token-file auth for the other host
        request = httpx.Request(method, target, headers=headers, content=body, extensions=request.extensions)
    raise httpx.TooManyRedirects("too many redirects", request=request)


def _leaf(group: BaseException) -> BaseException:
    while isinstance(group, BaseExceptionGroup) and group.exceptions:
        group = group.exceptions[0]
    return group


def classify(exc: BaseException) -> tuple[str, str]:
    """(kind, one-line message) for a transport failure, from the exception chain."""
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(chain) < 10:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            reason = e.verify_message or "certificate verify failed"
            return "tls", f"TLS certificate not trusted ({reason}); set ca_file, or insecure = true"
        if isinstance(e, ssl.SSLError):
            return "tls", f"TLS error: {e.reason or e}"
    text = " ".join(str(e) for e in chain).lower()
    for e in chain:
        if isinstance(e, ConnectionRefusedError) or getattr(e, "errno", None) == errno.ECONNREFUSED:
            return "refused", "connection refused (is the server running?)"
    if "connection refused" in text or "errno 111" in text:
        return "refused", "connection refused (is the server running?)"
    if any(s in text for s in ("name or service not known", "nodename nor servname", "temporary failure in name",
                                "no address associated", "getaddrinfo failed", "name resolution")):
        return "dns", "DNS lookup failed (check the host name)"
    if "certificate" in text or "ssl" in text:
        return "tls", f"TLS error: {_first_line(chain[-1])}"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ProtocolError)):
        return "protocol", f"bad HTTP response: {_first_line(exc)}"
    if "reset by peer" in text or "server disconnected" in text:
        return "connect", "connection closed by the server"
    return "connect", f"cannot connect: {_first_line(chain[-1]) or type(exc).__name__}"


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [""])[0][:200]


def _mb(n: int) -> str:
    return f"{n / 1048576:.1f} MB" if n >= 1048576 else f"{n / 1024:.0f} kB"
