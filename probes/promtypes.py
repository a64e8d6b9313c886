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

from probes.shape import ShapeError, arr, kind_of, labels, obj, strs, text

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
    problems: tuple[str, ...] = ()  # direct scrape: lines that did not parse, the series cap reached

    @property
    def why(self) -> str:
        """What is wrong with this target, in one line ("" when nothing is)."""
        return "; ".join(([self.last_error] if self.health != "up" and self.last_error else []) + list(self.problems))

    @property
    def job(self) -> str:
        return self.labels.get("job", self.scrape_pool)


# ---------------------------------------------------------------------------------------------
# Parsers. They read through probes.shape and raise ShapeError (a ValueError) naming the place on
# a malformed payload; the clients turn that into an ApiError(kind="protocol") so a surprising
# server never crashes a panel.


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
    """The `data` member of a /query or /query_range answer -> QueryResult (Loki metric too).
    Raises ShapeError naming the place when the document is not what the API documents."""
    doc = obj(data, "data")
    rtype = text(doc.get("resultType"), "data.resultType")
    result = doc.get("result")
    samples: tuple[Sample, ...] = ()
    series: tuple[Series, ...] = ()
    value_text = ""
    if rtype == "vector":
        samples = tuple(_vector_sample(obj(item, f"data.result[{i}]"), f"data.result[{i}]")
                        for i, item in enumerate(arr(result, "data.result")))
    elif rtype == "matrix":
        series = tuple(_series(obj(item, f"data.result[{i}]"), f"data.result[{i}]")
                       for i, item in enumerate(arr(result, "data.result")))
    elif rtype == "scalar":
        t, v = _pair(result, "data.result")
        samples = (Sample({}, number(v), t),)
    elif rtype == "string":
        value_text = text(_pair(result, "data.result")[1], "data.result[1]")
    else:
        raise ShapeError(f"data.resultType: unknown result type {one_line_short(rtype)!r}")
    return QueryResult(query=query, ok=True, result_type=rtype, samples=samples, series=series,
                       warnings=warnings, elapsed_s=elapsed_s, infos=infos, text=value_text)


def one_line_short(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


def _pair(value: Any, where: str) -> tuple[float, Any]:
    """[<unix seconds>, "<value>"]: the timestamp as a float (ShapeError if it is not one)."""
    pair = arr(value, where, null_ok=False)
    if len(pair) != 2:
        raise ShapeError(f"{where}: expected [time, value], got a list of {len(pair)}")
    t = number(pair[0])
    if t is None or isinstance(pair[0], bool):
        raise ShapeError(f"{where}[0]: expected a timestamp, got {kind_of(pair[0])}")
    return t, pair[1]


def _vector_sample(item: Mapping[str, Any], where: str) -> Sample:
    metric = labels(item.get("metric"), f"{where}.metric")
    if item.get("value") is None and item.get("histogram") is not None:  # native histogram: no one float
        return Sample(metric, None, _pair(item["histogram"], f"{where}.histogram")[0])
    t, v = _pair(item.get("value"), f"{where}.value")
    return Sample(metric, number(v), t)


def _series(item: Mapping[str, Any], where: str) -> Series:
    metric = labels(item.get("metric"), f"{where}.metric")
    points = tuple((t, _float(v)) for t, v in (_pair(p, f"{where}.values[{j}]")
                                               for j, p in enumerate(arr(item.get("values"), f"{where}.values"))))
    return Series(metric, points)


def _float(value: Any) -> float:
    got = number(value)
    return math.nan if got is None else got


def _seconds(value: Any) -> float:
    got = number(value)
    return got if got is not None and math.isfinite(got) else 0.0


def parse_alert(item: Any, where: str = "alert") -> PromAlert:
    item = obj(item, where)
    return PromAlert(labels=labels(item.get("labels"), f"{where}.labels"),
                     annotations=labels(item.get("annotations"), f"{where}.annotations"),
                     state=text(item.get("state"), f"{where}.state"), active_at=parse_time(item.get("activeAt")),
                     value=number(item.get("value")))


def parse_alerts(data: Any) -> list[PromAlert]:
    items = arr(obj(data, "data").get("alerts"), "data.alerts")
    return [parse_alert(a, f"data.alerts[{i}]") for i, a in enumerate(items)]


def _rule(r: Any, where: str) -> PromRule:
    r = obj(r, where)
    return PromRule(name=text(r.get("name"), f"{where}.name"), type=text(r.get("type"), f"{where}.type"),
                    query=text(r.get("query"), f"{where}.query"),
                    health=text(r.get("health"), f"{where}.health", "unknown"),
                    last_error=text(r.get("lastError"), f"{where}.lastError"),
                    state=text(r.get("state"), f"{where}.state"), labels=labels(r.get("labels"), f"{where}.labels"),
                    annotations=labels(r.get("annotations"), f"{where}.annotations"),
                    duration=_seconds(r.get("duration")),
                    alerts=tuple(parse_alert(a, f"{where}.alerts[{k}]")
                                 for k, a in enumerate(arr(r.get("alerts"), f"{where}.alerts"))),
                    last_evaluation=parse_time(r.get("lastEvaluation")),
                    evaluation_time=_seconds(r.get("evaluationTime")))


def parse_rules(data: Any) -> list[RuleGroup]:
    groups = []
    for i, g in enumerate(arr(obj(data, "data").get("groups"), "data.groups")):
        where = f"data.groups[{i}]"
        g = obj(g, where)
        rules = tuple(_rule(r, f"{where}.rules[{j}]") for j, r in enumerate(arr(g.get("rules"), f"{where}.rules")))
        groups.append(RuleGroup(name=text(g.get("name"), f"{where}.name"), file=text(g.get("file"), f"{where}.file"),
                                interval=_seconds(g.get("interval")), rules=rules,
                                last_evaluation=parse_time(g.get("lastEvaluation")),
                                evaluation_time=_seconds(g.get("evaluationTime"))))
    return groups


def parse_targets(data: Any) -> list[Target]:
    out = []
    for i, t in enumerate(arr(obj(data, "data").get("activeTargets"), "data.activeTargets")):
        where = f"data.activeTargets[{i}]"
        t = obj(t, where)
        out.append(Target(labels=labels(t.get("labels"), f"{where}.labels"),
                          scrape_url=text(t.get("scrapeUrl"), f"{where}.scrapeUrl"),
                          health=text(t.get("health"), f"{where}.health", "unknown"),
                          last_error=text(t.get("lastError"), f"{where}.lastError"),
                          last_scrape=parse_time(t.get("lastScrape")),
                          scrape_pool=text(t.get("scrapePool"), f"{where}.scrapePool"),
                          last_scrape_duration=_seconds(t.get("lastScrapeDuration")),
                          scrape_interval=text(t.get("scrapeInterval"), f"{where}.scrapeInterval")))
    return out


def parse_str_list(data: Any) -> list[str]:
    return list(strs(data, "data"))


def parse_dict(data: Any) -> dict:
    return dict(obj(data, "data"))
