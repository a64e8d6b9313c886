"""HTTP health probes: the `while true; curl .../health | jq -r .status; sleep 60` loop, done right.

One probe is one GET under the service's timeout (http.fetch's hard deadline), judged either by
the service's Gatus conditions or, when it has none, by default rules that understand the
health bodies LLM stacks actually return (see probes.healthbody). It never raises and never
hangs: every outcome is a HealthResult with a one-line summary, because a monitoring tool that
crashes on the thing it monitors is useless exactly when it is needed.

Statuses: transport failure (refused, DNS, timeout, TLS, redirect loop) -> CRITICAL, the
service is down for its users; a failed condition -> CRITICAL; a malformed condition or an
unusable configuration (ca_file unreadable) -> UNKNOWN, we could not check.

"Not the service" is CRITICAL under the default rules even with HTTP 200: invalid JSON sent as
JSON (a truncated answer), and an HTML page from an endpoint that answered JSON before (in this
process: the dashboard and `watch` remember) or that is plainly a login page (an auth proxy in
the way). An empty 200 (vLLM's /health) stays healthy; explicit conditions stay the user's call.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Iterable, Sequence

import httpx

from probes.conditions import (Condition, ConditionResult, Observation, compile_all, compile_condition,
                               evaluate_all)
from probes.config import Service
from probes.healthbody import Component, body_components, error_detail, judge_top_status
from probes.http import ClientOptions, FetchError, fetch, make_client
from probes.redact import display_url
from probes.status import Status, worst
from probes.textsafe import clean, one_line
from probes.tlsinfo import PeerInfo, install_peer_hook, start_capture, stop_capture

__all__ = ["Component", "HealthResult", "MAX_BODY_BYTES", "probe", "probe_all"]

MAX_BODY_BYTES = 1024 * 1024  # health bodies are small; a 5 MB page is a misconfigured URL
EXCERPT_CHARS = 200
_GRACE_S = 0.25  # fetch enforces the deadline; this outer guard only catches our own slowness
_STATUS_2XX = compile_condition("[STATUS] == pat(2??)")
_SHORT = {
    "refused": "connection refused",
    "dns": "DNS lookup failed",
    "redirects": "too many redirects (a redirect loop?)",
}


@dataclass(frozen=True)
class HealthResult:
    name: str
    url: str  # display form: no userinfo, secret query values masked
    status: Status
    summary: str  # one line, without the status word: "HTTP 503, redis: disconnected"
    http_status: int | None = None
    response_time_ms: float | None = None
    checked_at: datetime | None = None
    components: tuple[Component, ...] = ()
    conditions: tuple[ConditionResult, ...] = ()
    body_excerpt: str = ""  # cleaned, one line, at most EXCERPT_CHARS characters
    error_kind: str | None = None  # FetchError kind (refused, dns, tls, timeout, ...) or "config"/"internal"

    @property
    def line(self) -> str:
        """"CRITICAL: HTTP 503, redis: disconnected": the summary as a check line."""
        return f"{self.status.name}: {self.summary}"

    @property
    def ok(self) -> bool:
        return self.status == Status.OK


async def probe(service: Service, *, client: httpx.AsyncClient | None = None,
                now: datetime | None = None) -> HealthResult:
    """GET service.url once and judge it. Finishes within service.timeout; never raises.

    client: a shared client (its TLS settings and headers win over the service's); without one a
    client is made from the service and closed afterwards. now: the time to record as checked_at
    (a fixed clock in tests); certificate expiry is measured from it.
    """
    checked_at = now or datetime.now(timezone.utc)
    shown = display_url(service.url)
    try:
        async with asyncio.timeout(service.timeout + _GRACE_S):
            return await _probe(service, client, checked_at, shown)
    except TimeoutError:
        return _failed(service, shown, checked_at, "timeout", f"timed out after {service.timeout:g}s")
    except Exception as exc:  # a bug of ours must not take the dashboard down with it
        return HealthResult(service.name, shown, Status.UNKNOWN, one_line(f"internal error: {type(exc).__name__}: "
                            f"{exc}", 200), checked_at=checked_at, error_kind="internal")


async def probe_all(services: Sequence[Service], *, deadline: float,
                    pool: "ClientPool | None" = None) -> list[HealthResult]:
    """Probe concurrently under one deadline (seconds), one client per distinct TLS/header set.

    Each probe's timeout is cut to the deadline, so the whole call returns within it; results
    come back in the order of `services`. pool: clients kept across calls (the dashboard polls
    every few seconds; building clients each time reloads the CA bundle); without one, clients
    are made for this call and closed after it.
    """
    started = time.monotonic()
    groups: dict[tuple, list[int]] = {}
    for i, svc in enumerate(services):
        groups.setdefault(_client_key(svc), []).append(i)
    results: list[HealthResult | None] = [None] * len(services)
    clients: list[httpx.AsyncClient] = []

    async def run(i: int, client: httpx.AsyncClient | None) -> None:
        remaining = max(0.05, deadline - (time.monotonic() - started))
        svc = services[i]
        bounded = svc if svc.timeout <= remaining else replace(svc, timeout=remaining)
        results[i] = await probe(bounded, client=client)

    try:
        tasks = []
        for indexes in groups.values():
            if pool is not None:
                client = pool.get(services[indexes[0]])
            else:
                try:
                    client = make_client(_options(services[indexes[0]]))
                    clients.append(client)
                except FetchError:
                    client = None  # probe() makes its own and reports the ca_file problem per service
            tasks += [run(i, client) for i in indexes]
        await asyncio.gather(*tasks)
    finally:
        for client in clients:
            await client.aclose()
    return [r for r in results if r is not None]


class ClientPool:
    """One shared client per distinct TLS/header set.

    Building an httpx client loads the CA bundle (~20 ms of CPU on the event loop), so eight
    services with a client each would serialise 160 ms before the first request goes out.
    """

    def __init__(self) -> None:
        self._clients: dict[tuple, httpx.AsyncClient | None] = {}

    def prepare(self, services: Sequence[Service]) -> "ClientPool":
        """Make every client now, before any clock starts (a run's deadline, a response time)."""
        for svc in services:
            self.get(svc)
        return self

    def get(self, svc: Service) -> httpx.AsyncClient | None:
        key = _client_key(svc)
        if key not in self._clients:
            try:
                self._clients[key] = make_client(_options(svc))
            except FetchError:
                self._clients[key] = None  # probe() makes its own and reports the ca_file problem
        return self._clients[key]

    async def aclose(self) -> None:
        for client in self._clients.values():
            if client is not None:
                await client.aclose()
        self._clients.clear()


def _client_key(svc: Service) -> tuple:
    return (svc.ca_file, svc.insecure, tuple(sorted((k.lower(), v) for k, v in svc.headers.items())))


def _options(svc: Service) -> ClientOptions:
    return ClientOptions(timeout=svc.timeout, ca_file=svc.ca_file, insecure=svc.insecure,
                         headers=dict(svc.headers))


async def _probe(service: Service, client: httpx.AsyncClient | None, checked_at: datetime,
                 shown: str) -> HealthResult:
    conditions = compile_all(service.conditions)
    own = client is None
    if client is None:
        try:
            client = make_client(_options(service))
        except FetchError as exc:
            return HealthResult(service.name, shown, Status.UNKNOWN, one_line(exc.message, 200),
                                checked_at=checked_at, error_kind="config")
    install_peer_hook(client)
    peer, token = start_capture()
    started = time.monotonic()
    try:
        resp = await fetch(client, "GET", service.url, timeout=service.timeout, max_bytes=MAX_BODY_BYTES)
    except FetchError as exc:
        if exc.kind == "too_large" and exc.status is not None:  # it answered; only the body is unusable
            obs = _observe(exc.status, b"", {}, (time.monotonic() - started) * 1000, peer, checked_at,
                           body_error=f"body over the {MAX_BODY_BYTES // 1048576} MB limit")
            return _judge(service, shown, checked_at, obs, conditions)
        message = _strip_url(exc.message, shown)
        if exc.kind == "timeout":
            message = f"timed out after {service.timeout:g}s (no complete answer)"
        return _failed(service, shown, checked_at, exc.kind, _SHORT.get(exc.kind, message), conditions)
    except httpx.InvalidURL as exc:  # fetch() lets this one through (see the report)
        return HealthResult(service.name, shown, Status.UNKNOWN, one_line(f"bad URL: {exc}", 200),
                            checked_at=checked_at, error_kind="config")
    finally:
        stop_capture(token)
        if own:
            await client.aclose()
    # [RESPONSE_TIME]: request sent -> response read (the connection and the client's first-use
    # costs are not the service's answer time); elapsed when the transport gave no trace
    took = resp.response_s if resp.response_s is not None else resp.elapsed_s
    obs = _observe(resp.status, resp.body, resp.headers, took * 1000, peer, checked_at)
    return _judge(service, shown, checked_at, obs, conditions)


def _observe(status: int, body: bytes, headers, elapsed_ms: float, peer: PeerInfo, checked_at: datetime,
             body_error: str = "") -> Observation:
    expires = None
    if peer.cert_not_after is not None:
        expires = (peer.cert_not_after - checked_at).total_seconds() * 1000
    return Observation(status=status, body=body, headers={k.lower(): v for k, v in dict(headers).items()},
                       response_time_ms=elapsed_ms, connected=True, certificate_expires_in_ms=expires,
                       ip=peer.ip, body_error=body_error)


def _strip_url(message: str, shown: str) -> str:
    """fetch() prefixes messages with the URL; the result already carries it."""
    prefix = shown + ": "
    if message.startswith(prefix):
        return message[len(prefix):]
    head, sep, tail = message.partition(": ")  # the URL as httpx normalised it
    return tail if sep and tail and " " not in head and ("/" in head or ":" in head) else message


def _failed(service: Service, shown: str, checked_at: datetime, kind: str, summary: str,
            conditions: tuple[Condition, ...] = ()) -> HealthResult:
    """No HTTP response: the service is down for its users (CRITICAL), whatever the conditions say.

    response_time_ms stays None: there was no response, and a "time" for a refused connection
    would read as a fast answer in perfdata and graphs.
    """
    results = evaluate_all(conditions, Observation(connected=False)) if conditions else ()
    return HealthResult(service.name, shown, Status.CRITICAL, one_line(summary, 300), None, None, checked_at,
                        (), results, "", kind)


def _judge(service: Service, shown: str, checked_at: datetime, obs: Observation,
           conditions: tuple[Condition, ...]) -> HealthResult:
    is_json, doc = obs.json
    components = body_components(doc) if is_json else ()
    if conditions:  # explicit conditions replace the default rules; components are still shown
        results = evaluate_all(conditions, obs)
        status = worst(r.status for r in results)
    else:
        results = (_STATUS_2XX.evaluate(obs),)
        top = judge_top_status(doc) if is_json else None
        if top is not None:
            results += (top,)
        wrong = not_the_service(service.url, obs, is_json)
        if wrong:
            results += (ConditionResult("[BODY] is the service's own answer", False, "", wrong, Status.CRITICAL),)
        if obs.body_error:  # it answered, but we could not read what it says about itself
            results += (ConditionResult("[BODY] is readable", False, "", obs.body_error, Status.WARNING),)
        status = worst([*(r.status for r in results), *(c.status for c in components)])
    summary = _summary(obs, status, results, components, is_json, doc, explicit=bool(conditions))
    excerpt = "" if obs.body_error else clean(obs.body, EXCERPT_CHARS, newlines="symbol")
    return HealthResult(service.name, shown, status, summary, obs.status, round(obs.response_time_ms, 3),
                        checked_at, components, results, excerpt, None)


_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]*\+)?json\b|^text/json\b", re.I)
_LOGIN = re.compile(rb"<input[^>]+type\s*=\s*[\"']?password|<title[^<]{0,80}(?:log ?in|sign ?in|sso|auth)",
                    re.I)
_ANSWERED_JSON: OrderedDict[str, None] = OrderedDict()  # URLs seen answering JSON (bounded, per process)
_REMEMBER = 1000


def not_the_service(url: str, obs: Observation, is_json: bool) -> str:
    """Why this 2xx answer is not the service's own health answer, or "".

    Invalid JSON with a JSON content type: "invalid JSON: <parser message>". An HTML page where
    JSON is expected (this URL answered JSON before) or a login form: "HTML page instead of JSON
    (login page?)". Remembers which URLs answer JSON."""
    ctype = obs.headers.get("content-type", "").strip()
    if is_json:
        _ANSWERED_JSON[url] = None
        _ANSWERED_JSON.move_to_end(url)
        while len(_ANSWERED_JSON) > _REMEMBER:
            _ANSWERED_JSON.popitem(last=False)
        return ""
    if obs.status // 100 != 2 or obs.body_error or not obs.body.strip():
        return ""
    if _JSON_TYPE.match(ctype):
        return f"invalid JSON: {_json_problem(obs.body)}"
    head = obs.body[:4096]
    html = "html" in ctype.lower() or head.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))
    if html and (url in _ANSWERED_JSON or _LOGIN.search(head)):
        return "HTML page instead of JSON (login page?)"
    return ""


def _json_problem(body: bytes) -> str:
    try:
        json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return "not UTF-8 text"
    except (ValueError, RecursionError) as exc:
        return one_line(str(exc), 80)
    return "unreadable"


def _summary(obs: Observation, status: Status, results: Iterable[ConditionResult],
             components: tuple[Component, ...], is_json: bool, doc, *, explicit: bool) -> str:
    head = f"HTTP {obs.status}"
    if status == Status.OK:
        return f"{head}, {obs.response_time_ms:.0f} ms"
    parts = [head]
    failed = [r for r in results if not r.ok]
    down = [c for c in components if c.status != Status.OK]
    if obs.body_error:
        parts.append(obs.body_error)
    elif explicit:
        parts.append(failed[0].message if failed else "")
        if len(failed) > 1:
            parts.append(f"+{len(failed) - 1} more failed")
    elif down:  # the components say what is wrong better than the top-level "unhealthy" does
        parts += [c.detail for c in down[:3]] + ([f"+{len(down) - 3} more"] if len(down) > 3 else [])
    else:
        parts += [r.message for r in failed if r.text != _STATUS_2XX.text]  # "HTTP 503" says that one
        if obs.status // 100 != 2:
            parts.append(_body_hint(obs, is_json, doc))
    return one_line(", ".join(p for p in parts if p), 300)


def _body_hint(obs: Observation, is_json: bool, doc) -> str:
    """Why a non-2xx answer failed, from its body: llama.cpp "Loading model", TGI "unhealthy", ..."""
    if not obs.text:
        return "empty body"
    if is_json:
        return error_detail(doc)
    low = obs.text[:300].lower()
    if low.startswith("<!doctype html") or low.startswith("<html") or "<title" in low:
        title = obs.text.split("<title", 1)[-1].split(">", 1)[-1].split("</title", 1)[0] if "<title" in low else ""
        return f"HTML page: {one_line(title, 60)}" if title.strip() else "HTML page (a proxy error page?)"
    return one_line(obs.text, 80)
