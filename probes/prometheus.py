"""Prometheus HTTP API client: typed results, one-line errors, never an exception for I/O.

Why our own client rather than prometheus-api-client: its custom_query returns only
data.result, dropping resultType, warnings and infos, and reports an API error as an exception
whose text is the repr of the raw body; it also retries 503s with back-off, so one Prometheus
query timeout becomes 4 requests and 6 s of waiting on a server that is already overloaded.
It is fast enough (blocking requests in threads beat async httpx on wall time here), so the
decision rests on what it cannot carry; bench/bench_prom_client.py has the numbers.

Choices:
- GET for queries whose encoded parameters fit in 1500 characters, POST form otherwise.
  GET keeps short queries visible in proxy access logs and works through read-only auth proxies
  that allow only GET; POST (which /api/v1/query and /query_range accept as
  application/x-www-form-urlencoded) avoids URL length limits (nginx 8 kB, some LBs 2 kB) for
  long profile queries.
- Prometheus' own `timeout` parameter is set a little below our deadline, so Prometheus stops
  evaluating a query we have stopped waiting for, and its answer ("query timed out") arrives
  before our deadline cuts the connection.
- Identical concurrent calls are issued once (ApiClientBase.shared), keyed by path and params.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import quote, urlencode

import httpx

from probes.apibase import ApiClientBase, freeze, one_line, status_kind
from probes.config import Endpoint
from probes.http import Response
from probes.promtypes import (
    ApiError,
    ApiResult,
    PromAlert,
    PromError,
    PromRule,
    QueryResult,
    RuleGroup,
    Sample,
    Series,
    Target,
    parse_alerts,
    parse_dict,
    parse_query_data,
    parse_rules,
    parse_str_list,
    parse_targets,
)

__all__ = ["PrometheusClient", "PromError", "ApiResult", "QueryResult", "Sample", "Series", "PromAlert",
           "PromRule", "RuleGroup", "Target", "POST_THRESHOLD", "server_timeout"]

T = TypeVar("T")
POST_THRESHOLD = 1500  # encoded parameter length above which queries go as POST form bodies


def server_timeout(deadline: float) -> float:
    """The `timeout` we ask Prometheus for: our deadline minus a margin for the answer to travel."""
    margin = min(1.0, deadline * 0.1)
    return max(0.05, deadline - margin)


def parse_alertmanagers(data: Any) -> list[str]:
    """activeAlertmanagers[].url ("http://am:9093/api/v2/alerts") -> base URLs, in order."""
    out: list[str] = []
    for item in data.get("activeAlertmanagers") or ():
        url = str(item["url"])
        for suffix in ("/api/v2/alerts", "/api/v1/alerts"):
            if url.endswith(suffix):
                url = url[: -len(suffix)]
        if url.startswith(("http://", "https://")) and url not in out:
            out.append(url.rstrip("/"))
    return out


class PrometheusClient(ApiClientBase):
    """Async client for one Prometheus (or a compatible API: Thanos, VictoriaMetrics, Mimir)."""

    system = "Prometheus"

    def __init__(self, endpoint: Endpoint, *, client: httpx.AsyncClient | None = None):
        super().__init__(endpoint, client=client)

    # -- queries ------------------------------------------------------------------------------

    async def query(self, promql: str, at: float | None = None, timeout: float | None = None) -> QueryResult:
        """Instant query. `at` is unix seconds (None: now, as Prometheus sees it)."""
        params: dict[str, str] = {"query": promql}
        if at is not None:
            params["time"] = _num(at)
        return await self._query("/api/v1/query", promql, params, timeout)

    async def query_range(self, promql: str, start: float, end: float, step: float,
                          timeout: float | None = None) -> QueryResult:
        """Range query over [start, end] unix seconds at `step` seconds resolution."""
        params = {"query": promql, "start": _num(start), "end": _num(end), "step": _num(step)}
        return await self._query("/api/v1/query_range", promql, params, timeout)

    async def _query(self, path: str, promql: str, params: dict[str, str], timeout: float | None) -> QueryResult:
        deadline = timeout if timeout is not None else self.endpoint.timeout
        params["timeout"] = _num(round(server_timeout(deadline), 3))
        return await self.shared((path, freeze(params), deadline),
                                 lambda: self._do_query(path, promql, params, deadline))

    async def _do_query(self, path: str, promql: str, params: dict[str, str], deadline: float) -> QueryResult:
        start = time.monotonic()
        if len(urlencode(params)) > POST_THRESHOLD:
            resp, doc, err = await self._envelope(path, method="POST", data=params, timeout=deadline)
        else:
            resp, doc, err = await self._envelope(path, params=params, timeout=deadline)
        elapsed = time.monotonic() - start
        warnings, infos = _strs(doc, "warnings"), _strs(doc, "infos")
        if err is not None:
            return QueryResult(query=promql, ok=False, error=err, elapsed_s=elapsed, warnings=warnings, infos=infos)
        try:
            return parse_query_data(promql, doc.get("data"), elapsed_s=elapsed, warnings=warnings, infos=infos)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            return QueryResult(query=promql, ok=False, error=self.protocol(resp, exc), elapsed_s=elapsed)

    # -- other endpoints ----------------------------------------------------------------------

    async def alerts(self) -> ApiResult[list[PromAlert]]:
        """Pending and firing alerts (pending ones exist only here, never in Alertmanager)."""
        return await self._call("/api/v1/alerts", None, parse_alerts)

    async def rules(self) -> ApiResult[list[RuleGroup]]:
        return await self._call("/api/v1/rules", None, parse_rules)

    async def targets(self) -> ApiResult[list[Target]]:
        return await self._call("/api/v1/targets", {"state": "active"}, parse_targets)

    async def metadata(self, metric: str | None = None) -> ApiResult[dict]:
        """{metric: [{"type", "help", "unit"}, ...]}, for one metric or all of them."""
        return await self._call("/api/v1/metadata", {"metric": metric} if metric else None, parse_dict)

    async def label_values(self, label: str = "__name__") -> ApiResult[list[str]]:
        """All values of a label; with __name__, every metric name (what profile detection reads)."""
        return await self._call(f"/api/v1/label/{quote(label, safe='')}/values", None, parse_str_list)

    async def alertmanagers(self) -> ApiResult[list[str]]:
        """The base URLs of the Alertmanagers Prometheus sends to (/api/v1/alertmanagers, active)."""
        return await self._call("/api/v1/alertmanagers", None, parse_alertmanagers)

    async def buildinfo(self) -> ApiResult[dict]:
        """{"version", "revision", "branch", "goVersion", ...}."""
        return await self._call("/api/v1/status/buildinfo", None, parse_dict)

    async def ready(self) -> ApiResult[bool]:
        """value True when /-/ready answers 200. An answer other than 200 (starting up, replaying
        the WAL) is ok=False, value=False, error kind "not_ready"; no answer at all is value=None."""
        return await self.check_ready("/-/ready")

    async def _call(self, path: str, params: Mapping[str, str] | None,
                    parse: Callable[[Any], T]) -> ApiResult[T]:
        return await self.shared((path, freeze(params)), lambda: self._do_call(path, params, parse))

    async def _do_call(self, path: str, params: Mapping[str, str] | None, parse: Callable[[Any], T]) -> ApiResult[T]:
        start = time.monotonic()
        resp, doc, err = await self._envelope(path, params=params)
        elapsed = time.monotonic() - start
        warnings, infos = _strs(doc, "warnings"), _strs(doc, "infos")
        if err is not None:
            return ApiResult(ok=False, error=err, warnings=warnings, infos=infos, elapsed_s=elapsed)
        try:
            value = parse(doc.get("data"))
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            return ApiResult(ok=False, error=self.protocol(resp, exc), elapsed_s=elapsed)
        return ApiResult(ok=True, value=value, warnings=warnings, infos=infos, elapsed_s=elapsed)

    # -- the envelope -------------------------------------------------------------------------

    async def _envelope(self, path: str, *, method: str = "GET", params: Mapping[str, str] | None = None,
                        data: Mapping[str, str] | None = None, timeout: float | None = None,
                        ) -> tuple[Response | None, Any, ApiError | None]:
        """(response, decoded envelope, error). The envelope is returned with errors too, so the
        warnings Prometheus attaches to a failed query still reach the caller."""
        resp = await self.request(method, path, params=params, data=data, timeout=timeout)
        if isinstance(resp, ApiError):
            return None, None, resp
        try:
            doc = json.loads(resp.body)
        except (ValueError, UnicodeDecodeError):
            return resp, None, (self.http_error(resp) if resp.status >= 300 else self.not_json(resp))
        if not isinstance(doc, dict) or "status" not in doc:
            if resp.status >= 300:
                return resp, None, self.http_error(resp)
            return resp, None, self.error("protocol", f"not a Prometheus API answer from {httpx.URL(resp.url).path} "
                                          f"(is this URL a Prometheus server?)", resp.status)
        if doc["status"] != "success":
            kind = one_line(str(doc.get("errorType") or status_kind(resp.status)), 40)
            text = one_line(str(doc.get("error") or "no error text"))
            return resp, doc, self.error(kind, f"{kind}: {text}", resp.status)
        return resp, doc, None


def _strs(doc: Any, key: str) -> tuple[str, ...]:
    if not isinstance(doc, dict):
        return ()
    items = doc.get(key) or ()
    return tuple(one_line(str(w)) for w in items) if isinstance(items, list) else ()


def _num(x: float) -> str:
    """Seconds as Prometheus reads them: integers without '.0', floats in plain notation."""
    if float(x).is_integer():
        return str(int(x))
    return repr(float(x))

