"""Alertmanager v2 API client: alerts, silences (list, create, expire), status; amtool matchers.

Why: the alerts screen shows what Alertmanager routes (firing, silenced, inhibited) beside what
Prometheus evaluates (pending), and lets a person silence an alert from the keyboard the way
`amtool silence add alertname=Foo` does. v2 answers are bare JSON (no envelope); errors are
{"code": 400, "message": "..."} or a JSON string, and both become the same one-line ApiError
the Prometheus client produces.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping, Sequence, TypeVar
from urllib.parse import quote

import httpx

from probes.amtool_matchers import Matcher, MatcherError, parse_matcher, parse_matchers
from probes.apibase import ApiClientBase, one_line, status_kind
from probes.config import Endpoint
from probes.http import Response
from probes.promtypes import AmError, ApiError, ApiResult, parse_time
from probes.shape import ShapeError, arr, labels, obj, strs, text
from probes.timestamps import rfc3339

__all__ = ["AlertmanagerClient", "AmAlert", "AmError", "Silence", "Matcher", "MatcherError", "parse_matcher",
           "parse_matchers"]

T = TypeVar("T")


@dataclass(frozen=True)
class AmAlert:
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime | None
    ends_at: datetime | None
    fingerprint: str
    state: str  # unprocessed | active | suppressed
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    receivers: tuple[str, ...] = ()
    updated_at: datetime | None = None
    generator_url: str = ""

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")


@dataclass(frozen=True)
class Silence:
    id: str
    state: str  # active | pending | expired
    matchers: tuple[Matcher, ...]
    starts_at: datetime | None
    ends_at: datetime | None
    created_by: str
    comment: str
    updated_at: datetime | None = None


def _parse_alerts(doc: Any) -> list[AmAlert]:
    out = []
    for i, a in enumerate(arr(doc, "alerts", null_ok=False)):
        w = f"alerts[{i}]"
        a = obj(a, w)
        status = obj(a.get("status") or {}, f"{w}.status")
        receivers = arr(a.get("receivers"), f"{w}.receivers")
        out.append(AmAlert(
            labels=labels(a.get("labels"), f"{w}.labels"), annotations=labels(a.get("annotations"), f"{w}.annotations"),
            starts_at=parse_time(a.get("startsAt")), ends_at=parse_time(a.get("endsAt")),
            fingerprint=text(a.get("fingerprint"), f"{w}.fingerprint"), state=text(status.get("state"), f"{w}.state"),
            silenced_by=strs(status.get("silencedBy"), f"{w}.status.silencedBy"),
            inhibited_by=strs(status.get("inhibitedBy"), f"{w}.status.inhibitedBy"),
            receivers=tuple(text(obj(r, f"{w}.receivers[{k}]").get("name"), f"{w}.receivers[{k}].name")
                            for k, r in enumerate(receivers)),
            updated_at=parse_time(a.get("updatedAt")), generator_url=text(a.get("generatorURL"), f"{w}.generatorURL")))
    return out


def _matcher(m: Any, where: str) -> Matcher:
    m = obj(m, where)
    return Matcher(text(m.get("name"), f"{where}.name"), text(m.get("value"), f"{where}.value"),
                   bool(m.get("isRegex", False)), bool(m.get("isEqual", True)))


def _parse_silences(doc: Any) -> list[Silence]:
    out = []
    for i, s in enumerate(arr(doc, "silences", null_ok=False)):
        w = f"silences[{i}]"
        s = obj(s, w)
        if not s.get("id"):
            raise ShapeError(f"{w}.id: missing")
        out.append(Silence(
            id=text(s["id"], f"{w}.id"), state=text(obj(s.get("status") or {}, f"{w}.status").get("state"), f"{w}.state"),
            matchers=tuple(_matcher(m, f"{w}.matchers[{k}]") for k, m in enumerate(arr(s.get("matchers"), f"{w}.matchers"))),
            starts_at=parse_time(s.get("startsAt")), ends_at=parse_time(s.get("endsAt")),
            created_by=text(s.get("createdBy"), f"{w}.createdBy"), comment=text(s.get("comment"), f"{w}.comment"),
            updated_at=parse_time(s.get("updatedAt"))))
    return out


class AlertmanagerClient(ApiClientBase):
    """Async client for Alertmanager's v2 API."""

    system = "Alertmanager"

    def __init__(self, endpoint: Endpoint, *, client: httpx.AsyncClient | None = None):
        super().__init__(endpoint, client=client)

    async def alerts(self, active: bool = True, silenced: bool = True, inhibited: bool = True,
                     filters: Sequence[str | Matcher] = ()) -> ApiResult[list[AmAlert]]:
        """Alerts Alertmanager holds. filters are matchers ('severity="critical"' or Matcher)."""
        params: list[tuple[str, str]] = [("active", _b(active)), ("silenced", _b(silenced)),
                                         ("inhibited", _b(inhibited))]
        try:
            params += [("filter", str(f if isinstance(f, Matcher) else parse_matcher(f))) for f in filters]
        except MatcherError as exc:
            return ApiResult(ok=False, error=self.error("bad_data", str(exc)))
        key = ("/api/v2/alerts", tuple(params))  # filter order is meaningful; keep it
        return await self.shared(key, lambda: self._call("GET", "/api/v2/alerts", params, _parse_alerts))

    async def silences(self) -> ApiResult[list[Silence]]:
        return await self.shared(("/api/v2/silences", ()), lambda: self._call(
            "GET", "/api/v2/silences", None, _parse_silences))

    async def create_silence(self, matchers: Sequence[str | Matcher], starts_at: datetime | float,
                             ends_at: datetime | float, created_by: str, comment: str) -> ApiResult[str]:
        """POST a silence; value is the new silence id. Never de-duplicated: it changes state."""
        try:
            ms = [m if isinstance(m, Matcher) else parse_matcher(m) for m in matchers]
        except MatcherError as exc:
            return ApiResult(ok=False, error=self.error("bad_data", str(exc)))
        if not ms:
            return ApiResult(ok=False, error=self.error("bad_data", "a silence needs at least one matcher"))
        body = {"matchers": [m.to_api() for m in ms], "startsAt": rfc3339(starts_at), "endsAt": rfc3339(ends_at),
                "createdBy": created_by, "comment": comment}
        return await self._call("POST", "/api/v2/silences", None, _silence_id, json_body=body)

    async def expire_silence(self, silence_id: str) -> ApiResult[None]:
        """DELETE /api/v2/silence/{id}: ends the silence now (Alertmanager keeps it as expired)."""
        start = time.monotonic()
        resp = await self.request("DELETE", f"/api/v2/silence/{quote(silence_id, safe='')}")
        elapsed = time.monotonic() - start
        if isinstance(resp, ApiError):
            return ApiResult(ok=False, error=resp, elapsed_s=elapsed)
        if resp.status >= 300:
            return ApiResult(ok=False, error=self.api_error(resp), elapsed_s=elapsed)
        return ApiResult(ok=True, value=None, elapsed_s=elapsed)

    async def status(self) -> ApiResult[dict]:
        """{"cluster", "config", "uptime", "versionInfo": {"version", ...}} as Alertmanager sends it."""
        def parse(d: Any) -> dict:
            return dict(obj(d, "status"))
        return await self.shared(("/api/v2/status", ()), lambda: self._call("GET", "/api/v2/status", None, parse))

    async def ready(self) -> ApiResult[bool]:
        return await self.check_ready("/-/ready")

    async def _call(self, method: str, path: str, params: Any, parse: Callable[[Any], T],
                    json_body: Any = None) -> ApiResult[T]:
        start = time.monotonic()
        got = await self.get_json(path, params=params, method=method, json_body=json_body)
        elapsed = time.monotonic() - start
        if isinstance(got, ApiError):
            return ApiResult(ok=False, error=got, elapsed_s=elapsed)
        resp, doc = got
        try:
            return ApiResult(ok=True, value=parse(doc), elapsed_s=elapsed)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            return ApiResult(ok=False, error=self.protocol(resp, exc), elapsed_s=elapsed)

    def api_error(self, resp: Response) -> ApiError:
        """{"code":400,"message":"..."} (go-swagger), a bare JSON string, or text/HTML from a proxy."""
        try:
            doc = json.loads(resp.body)
        except (ValueError, UnicodeDecodeError):
            return self.http_error(resp)
        if isinstance(doc, dict) and doc.get("message"):
            message = str(doc["message"])
        elif isinstance(doc, str) and doc:
            message = doc
        else:
            return self.http_error(resp)
        kind = status_kind(resp.status)
        return self.error(kind, f"{kind}: {one_line(message)}", resp.status)


def _silence_id(doc: Any) -> str:
    sid = text(obj(doc, "answer").get("silenceID"), "silenceID")
    if not sid:
        raise ShapeError("silenceID: missing")
    return sid


def _b(flag: bool) -> str:
    return "true" if flag else "false"

