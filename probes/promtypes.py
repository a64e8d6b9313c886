"""Typed results shared by the Prometheus, Alertmanager and Loki clients, and their parsers.

Why a separate module: the dashboard, `llmwatch check` and the Loki client all consume these
shapes; keeping them free of I/O lets them be built from recorded payloads in unit tests and
keeps probes/prometheus.py readable. Every result is an immutable snapshot (frozen dataclass):
the dashboard posts them between workers and widgets, and de-duplicated requests hand the same
object to several callers, so nobody may mutate one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Generic, Mapping, TypeVar

T = TypeVar("T")

#: Prometheus' errorType values (HTTP 400/504/422/499/500/404/503). Transport problems use the
#: FetchError kinds instead: refused, dns, tls, timeout, redirects, too_large, connect, http,
#: not_json, protocol; plus "config" (unreadable token/ca file) and "not_ready".
API_ERROR_TYPES = ("bad_data", "timeout", "execution", "canceled", "internal", "not_found", "unavailable")


@dataclass(frozen=True)
class ApiError:
    """Why a call produced no data. `message` is one line, names the server, holds no secret."""

    kind: str
    message: str
    status: int | None = None

    def __str__(self) -> str:
        return self.message


# One error type for all three APIs: callers render errors the same way whatever the source.
PromError = ApiError
AmError = ApiError
LokiError = ApiError


@dataclass(frozen=True)
class ApiResult(Generic[T]):
    """The outcome of one non-query call: a value, or an error; never an exception."""

    ok: bool
    value: T | None = None
    error: ApiError | None = None
    warnings: tuple[str, ...] = ()
    infos: tuple[str, ...] = ()
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class Sample:
    """One instant value. NaN and +/-Inf are kept as floats: `0/0` is a real answer."""

    labels: Mapping[str, str]
    value: float | None
    ts: float


@dataclass(frozen=True)
class Series:
    """One range series; points are (unix seconds, value) with NaN/Inf kept."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class QueryResult:
    """The answer to one PromQL (or LogQL metric) query, successful or not."""

    query: str
    ok: bool
    result_type: str = ""  # vector | matrix | scalar | string | "" when failed
    samples: tuple[Sample, ...] = ()  # vector and scalar
    series: tuple[Series, ...] = ()  # matrix
    warnings: tuple[str, ...] = ()
    error: ApiError | None = None
    elapsed_s: float = 0.0
    infos: tuple[str, ...] = ()
    text: str = ""  # the value of a "string" result

    @property
    def empty(self) -> bool:
        """True for a successful query that matched nothing ("no data", not zero)."""
        return self.ok and not self.samples and not self.series and not self.text

    def scalar(self) -> float | None:
        """The single value of a scalar or one-sample vector result, else None."""
        if len(self.samples) == 1:
            return self.samples[0].value
        return None


@dataclass(frozen=True)
class PromAlert:
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    state: str  # pending | firing (inactive only inside rules)
    active_at: datetime | None
    value: float | None

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")


@dataclass(frozen=True)
class PromRule:
    """An alerting or recording rule as Prometheus evaluates it."""

    name: str
    type: str  # alerting | recording
    query: str
    health: str  # ok | err | unknown
    last_error: str = ""
    state: str = ""  # alerting: inactive | pending | firing; recording: ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    duration: float = 0.0  # the `for:` clause, seconds
    alerts: tuple[PromAlert, ...] = ()
    last_evaluation: datetime | None = None
    evaluation_time: float = 0.0


@dataclass(frozen=True)
class RuleGroup:
    name: str
    file: str
    interval: float
    rules: tuple[PromRule, ...]
    last_evaluation: datetime | None = None
    evaluation_time: float = 0.0


@dataclass(frozen=True)
class Target:
    labels: Mapping[str, str]
    scrape_url: str
    health: str  # up | down | unknown
    last_error: str
    last_scrape: datetime | None
    scrape_pool: str = ""
    last_scrape_duration: float = 0.0
    scrape_interval: str = ""

    @property
    def job(self) -> str:
        return self.labels.get("job", self.scrape_pool)


# ---------------------------------------------------------------------------------------------
# Parsers. They raise ValueError/KeyError/TypeError on a malformed payload; the clients turn
# that into an ApiError(kind="protocol") so a surprising server never crashes a panel.


def number(text: Any) -> float | None:
    """A Prometheus sample value ("1.5", "NaN", "+Inf") as float; None if it is not a number."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


_GO_ZERO_YEAR = 1  # Go's zero time "0001-01-01T00:00:00Z" means "never"


def parse_time(text: Any) -> datetime | None:
    """RFC 3339 (nanoseconds allowed) -> aware UTC datetime; Go's zero time and junk -> None."""
    if not isinstance(text, str) or not text:
        return None
    s = text.strip()
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    # Python 3.11 keeps at most 6 fractional digits; trim Go's 9 ourselves to be explicit.
    dot = s.find(".")
    if dot != -1:
        end = dot + 1
        while end < len(s) and s[end].isdigit():
            end += 1
        s = s[:dot] + s[dot:end][:7] + s[end:]
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if dt.year <= _GO_ZERO_YEAR:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def parse_query_data(query: str, data: Any, *, elapsed_s: float = 0.0, warnings: tuple[str, ...] = (),
                     infos: tuple[str, ...] = ()) -> QueryResult:
    """The `data` member of a /query or /query_range answer -> QueryResult (Loki metric too)."""
    rtype = data["resultType"]
    result = data["result"]
    samples: tuple[Sample, ...] = ()
    series: tuple[Series, ...] = ()
    text = ""
    if rtype == "vector":
        samples = tuple(_vector_sample(item) for item in result)
    elif rtype == "matrix":
        series = tuple(Series(item["metric"], tuple((float(t), _float(v)) for t, v in item["values"]))
                       for item in result)
    elif rtype == "scalar":
        samples = (Sample({}, number(result[1]), float(result[0])),)
    elif rtype == "string":
        text = str(result[1])
    else:
        raise ValueError(f"unknown resultType {rtype!r}")
    return QueryResult(query=query, ok=True, result_type=rtype, samples=samples, series=series,
                       warnings=warnings, elapsed_s=elapsed_s, infos=infos, text=text)


def _vector_sample(item: Mapping[str, Any]) -> Sample:
    pair = item.get("value")
    if pair is None:  # a native histogram sample: no single float to show
        pair = item["histogram"]
        return Sample(item["metric"], None, float(pair[0]))
    return Sample(item["metric"], number(pair[1]), float(pair[0]))


def _float(text: Any) -> float:
    value = number(text)
    return math.nan if value is None else value


def parse_alert(item: Mapping[str, Any]) -> PromAlert:
    return PromAlert(labels=item.get("labels") or {}, annotations=item.get("annotations") or {},
                     state=str(item.get("state", "")), active_at=parse_time(item.get("activeAt")),
                     value=number(item.get("value")))


def parse_alerts(data: Any) -> list[PromAlert]:
    return [parse_alert(a) for a in data["alerts"]]


def parse_rules(data: Any) -> list[RuleGroup]:
    groups = []
    for g in data["groups"]:
        rules = tuple(
            PromRule(name=str(r.get("name", "")), type=str(r.get("type", "")), query=str(r.get("query", "")),
                     health=str(r.get("health", "unknown")), last_error=str(r.get("lastError", "")),
                     state=str(r.get("state", "")), labels=r.get("labels") or {},
                     annotations=r.get("annotations") or {}, duration=float(r.get("duration") or 0),
                     alerts=tuple(parse_alert(a) for a in r.get("alerts") or ()),
                     last_evaluation=parse_time(r.get("lastEvaluation")),
                     evaluation_time=float(r.get("evaluationTime") or 0))
            for r in g.get("rules") or ())
        groups.append(RuleGroup(name=str(g.get("name", "")), file=str(g.get("file", "")),
                                interval=float(g.get("interval") or 0), rules=rules,
                                last_evaluation=parse_time(g.get("lastEvaluation")),
                                evaluation_time=float(g.get("evaluationTime") or 0)))
    return groups


def parse_targets(data: Any) -> list[Target]:
    return [Target(labels=t.get("labels") or {}, scrape_url=str(t.get("scrapeUrl", "")),
                   health=str(t.get("health", "unknown")), last_error=str(t.get("lastError", "")),
                   last_scrape=parse_time(t.get("lastScrape")), scrape_pool=str(t.get("scrapePool", "")),
                   last_scrape_duration=float(t.get("lastScrapeDuration") or 0),
                   scrape_interval=str(t.get("scrapeInterval", "")))
            for t in data["activeTargets"]]


def parse_str_list(data: Any) -> list[str]:
    if not isinstance(data, list):
        raise TypeError("expected a list of strings")
    return [str(x) for x in data]


def parse_dict(data: Any) -> dict:
    if not isinstance(data, dict):
        raise TypeError("expected an object")
    return data
