"""Loki HTTP API client: log lines and LogQL metrics, typed, with Loki's text errors surfaced.

Why these choices:
- Timestamps stay integers in nanoseconds end to end. A float holds 15-16 significant digits;
  a ns timestamp has 19, so float ns would merge neighbouring lines and break "follow by
  polling" (start = last seen ns + 1 must not re-fetch or skip a line).
- Streams are flattened to one list of entries sorted the way the query asked (backward:
  newest first; forward: oldest first), because the log screen shows one interleaved list.
- Loki answers errors with a plain-text body even when the content type says JSON
  ("parse error at line 1, col 19: ..."); that text is the message a person needs, so it is
  shown as-is (one line) instead of "not JSON".
- X-Scope-OrgID (multi-tenant Loki) comes from Endpoint.org_id via ClientOptions.from_endpoint.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import quote

import httpx

from probes.apibase import ApiClientBase, freeze, one_line, status_kind
from probes.config import Endpoint
from probes.http import Response
from probes.promtypes import ApiError, ApiResult, LokiError, QueryResult, Sample, Series, parse_query_data, parse_str_list
from probes.shape import ShapeError, arr, labels, obj, text

__all__ = ["LokiClient", "LokiResult", "LogEntry", "LokiError", "to_ns"]

T = TypeVar("T")
_NS_THRESHOLD = 10**14  # below: seconds (or ms would be ambiguous: we only take s or ns)


def to_ns(t: int | float) -> int:
    """Nanoseconds from either unix nanoseconds (int, kept exact) or unix seconds (int/float).

    Why both: Loki takes ns, everything else in llmwatch uses seconds; a value of 1.8e18 is
    unmistakably ns, 1.8e9 unmistakably seconds.
    """
    if isinstance(t, int) and abs(t) >= _NS_THRESHOLD:
        return t
    if abs(t) >= _NS_THRESHOLD:
        return int(t)
    return int(round(t * 1_000_000)) * 1000


@dataclass(frozen=True)
class LogEntry:
    ts_ns: int
    line: str
    labels: Mapping[str, str]

    @property
    def ts(self) -> float:
        """Unix seconds, for display only (never for comparisons: precision)."""
        return self.ts_ns / 1e9


@dataclass(frozen=True)
class LokiResult:
    """A log query's entries, or a LogQL metric query's series/samples, or an error."""

    query: str
    ok: bool
    result_type: str = ""  # streams | matrix | vector | ""
    entries: tuple[LogEntry, ...] = ()
    series: tuple[Series, ...] = ()
    samples: tuple[Sample, ...] = ()
    error: ApiError | None = None
    elapsed_s: float = 0.0
    stats: Mapping[str, Any] | None = None  # data.stats.summary

    @property
    def last_ns(self) -> int | None:
        """The newest timestamp in the result: the next follow poll starts at last_ns + 1."""
        return max((e.ts_ns for e in self.entries), default=None)


def flatten_streams(result: Any, direction: str = "backward") -> tuple[LogEntry, ...]:
    """[{"stream": labels, "values": [["<ns>", line], ...]}, ...] -> entries sorted by time.
    Raises ShapeError naming the place when the answer is not that shape."""
    entries = []
    for i, item in enumerate(arr(result, "data.result")):
        where = f"data.result[{i}]"
        item = obj(item, where)
        stream = labels(item.get("stream"), f"{where}.stream")
        for j, pair in enumerate(arr(item.get("values"), f"{where}.values")):
            pair = arr(pair, f"{where}.values[{j}]", null_ok=False)
            if len(pair) < 2 or not str(pair[0]).lstrip("-").isdigit():
                raise ShapeError(f"{where}.values[{j}]: expected [\"<nanoseconds>\", line]")
            entries.append(LogEntry(int(str(pair[0])), text(pair[1], f"{where}.values[{j}][1]"), stream))
    entries.sort(key=lambda e: e.ts_ns, reverse=(direction == "backward"))
    return tuple(entries)


class LokiClient(ApiClientBase):
    """Async client for Loki's query API (logs, LogQL metrics, labels, readiness)."""

    system = "Loki"

    def __init__(self, endpoint: Endpoint, *, client: httpx.AsyncClient | None = None):
        super().__init__(endpoint, client=client)

    async def query_range(self, query: str, start_ns: int, end_ns: int, limit: int = 100,
                          direction: str = "backward", timeout: float | None = None) -> LokiResult:
        """Log lines of `query` in [start_ns, end_ns], at most `limit`, newest first unless forward."""
        if direction not in ("backward", "forward"):
            return LokiResult(query, ok=False, error=self.error("bad_data", f"direction must be backward or "
                                                                f"forward, not {direction!r}"))
        params = {"query": query, "start": str(to_ns(start_ns)), "end": str(to_ns(end_ns)), "limit": str(int(limit)),
                  "direction": direction}
        return await self._query("/loki/api/v1/query_range", query, params, direction, timeout)

    async def query_range_metric(self, query: str, start: int | float, end: int | float, step: float,
                                 timeout: float | None = None) -> LokiResult:
        """A LogQL metric query (count_over_time, rate...) -> series (matrix). start/end: s or ns."""
        params = {"query": query, "start": str(to_ns(start)), "end": str(to_ns(end)), "step": _secs(step)}
        return await self._query("/loki/api/v1/query_range", query, params, "backward", timeout)

    async def query(self, query: str, at: int | float | None = None, timeout: float | None = None) -> LokiResult:
        """Instant LogQL metric query -> samples (vector)."""
        params = {"query": query}
        if at is not None:
            params["time"] = str(to_ns(at))
        return await self._query("/loki/api/v1/query", query, params, "backward", timeout)

    async def labels(self) -> ApiResult[list[str]]:
        return await self._call("/loki/api/v1/labels", parse_str_list)

    async def label_values(self, name: str) -> ApiResult[list[str]]:
        return await self._call(f"/loki/api/v1/label/{quote(name, safe='')}/values", parse_str_list)

    async def ready(self) -> ApiResult[bool]:
        """True on 200 "ready"; Loki answers 503 with a reason while its ingester warms up."""
        return await self.check_ready("/ready")

    # -- internals ----------------------------------------------------------------------------

    async def _query(self, path: str, query: str, params: dict[str, str], direction: str,
                     timeout: float | None) -> LokiResult:
        return await self.shared((path, freeze(params), timeout),
                                 lambda: self._do_query(path, query, params, direction, timeout))

    async def _do_query(self, path: str, query: str, params: dict[str, str], direction: str,
                        timeout: float | None) -> LokiResult:
        start = time.monotonic()
        got = await self.get_json(path, params=params, timeout=timeout)
        elapsed = time.monotonic() - start
        if isinstance(got, ApiError):
            return LokiResult(query, ok=False, error=got, elapsed_s=elapsed)
        resp, doc = got
        try:
            doc = obj(doc, "answer")
            if doc.get("status") != "success":
                return LokiResult(query, ok=False, error=self._envelope_error(resp, doc), elapsed_s=elapsed)
            data = obj(doc.get("data"), "data")
            stats = (data.get("stats") or {}).get("summary") if isinstance(data.get("stats"), dict) else None
            stats = stats if isinstance(stats, dict) else None
            if data.get("resultType") == "streams":
                return LokiResult(query, ok=True, result_type="streams", elapsed_s=elapsed, stats=stats,
                                  entries=flatten_streams(data["result"], direction))
            metric: QueryResult = parse_query_data(query, data)
            return LokiResult(query, ok=True, result_type=metric.result_type, series=metric.series,
                              samples=metric.samples, elapsed_s=elapsed, stats=stats)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            return LokiResult(query, ok=False, error=self.protocol(resp, exc), elapsed_s=elapsed)

    async def _call(self, path: str, parse: Callable[[Any], T]) -> ApiResult[T]:
        return await self.shared((path, ()), lambda: self._do_call(path, parse))

    async def _do_call(self, path: str, parse: Callable[[Any], T]) -> ApiResult[T]:
        start = time.monotonic()
        got = await self.get_json(path)
        elapsed = time.monotonic() - start
        if isinstance(got, ApiError):
            return ApiResult(ok=False, error=got, elapsed_s=elapsed)
        resp, doc = got
        try:
            doc = obj(doc, "answer")
            if doc.get("status") != "success":
                return ApiResult(ok=False, error=self._envelope_error(resp, doc), elapsed_s=elapsed)
            return ApiResult(ok=True, value=parse(doc.get("data", [])), elapsed_s=elapsed)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return ApiResult(ok=False, error=self.protocol(resp, exc), elapsed_s=elapsed)

    def _envelope_error(self, resp: Response, doc: Any) -> ApiError:
        kind = one_line(str(doc.get("errorType") or status_kind(resp.status)), 40)
        return self.error(kind, one_line(str(doc.get("error") or doc.get("message") or "error without text")),
                          resp.status)

    def api_error(self, resp: Response) -> ApiError:
        """Loki's errors are text ("parse error at line 1, col 19: ..."), whatever the content type."""
        try:
            doc = json.loads(resp.body)
        except (ValueError, UnicodeDecodeError):
            doc = None
        if isinstance(doc, dict) and (doc.get("error") or doc.get("message")):
            return self._envelope_error(resp, doc)
        text = resp.text().strip()
        if resp.status in (401, 403, 407):  # from an auth proxy in front of Loki: say what to check
            return self.http_error(resp)
        if not text or resp.body[:200].lstrip().lower().startswith((b"<!doctype html", b"<html")) \
                or "html" in resp.content_type:
            return self.http_error(resp)
        return self.error(status_kind(resp.status), one_line(text), resp.status)


def _secs(step: float) -> str:
    return str(int(step)) if float(step).is_integer() else repr(float(step))
