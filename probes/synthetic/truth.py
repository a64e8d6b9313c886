"""The TRUE values of the signals llmwatch computes, straight from the generated events.

Why: a test that compares llmwatch against Prometheus only proves they agree; comparing both
against the events that produced the counters proves they are right. All functions take the
events and a window (start, end] in unix seconds, the same half-open window a counter increase
between two scrapes covers. Bounds: events are kept for model.EVENT_MAX_AGE_S (30 min) and at
most model.EVENT_MAX_COUNT per service, so windows must lie inside the last 30 minutes.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter as _Counter
from typing import Iterable, Mapping, Sequence

from probes.synthetic.model import Event


def window(events: Iterable[Event], start: float, end: float,
           where: Mapping[str, str] | None = None, kind: str | None = "request") -> list[Event]:
    """Events with start < t <= end matching `where` (labels, model, backend, extra) and kind."""
    return [e for e in events
            if start < e.t <= end and (kind is None or e.kind == kind) and e.matches(where)]


def count(events: Iterable[Event], start: float, end: float,
          where: Mapping[str, str] | None = None, kind: str | None = "request") -> int:
    return len(window(events, start, end, where, kind))


def request_rate(events: Iterable[Event], start: float, end: float,
                 where: Mapping[str, str] | None = None, kind: str | None = "request") -> float:
    """Requests per second over the window."""
    return count(events, start, end, where, kind) / (end - start)


def error_ratio(events: Iterable[Event], start: float, end: float,
                where: Mapping[str, str] | None = None) -> float | None:
    """Share of requests that failed; None when there were no requests (not zero: no data)."""
    evs = window(events, start, end, where)
    if not evs:
        return None
    return sum(1 for e in evs if e.error) / len(evs)


def quantile(events: Iterable[Event], q: float, start: float, end: float,
             where: Mapping[str, str] | None = None, include_errors: bool = True,
             kind: str | None = "request") -> float | None:
    """Exact empirical latency quantile, nearest-rank: the ceil(q*n)-th smallest latency."""
    if not 0 <= q <= 1:
        raise ValueError("q must be within [0, 1]")
    vals = sorted(e.latency_s for e in window(events, start, end, where, kind)
                  if include_errors or not e.error)
    if not vals:
        return None
    rank = max(1, math.ceil(q * len(vals)))
    return vals[rank - 1]


def tokens_per_second(events: Iterable[Event], start: float, end: float, direction: str = "out",
                      where: Mapping[str, str] | None = None) -> float:
    """Input ("in") or output ("out") tokens per second over the window."""
    if direction not in ("in", "out"):
        raise ValueError("direction is 'in' or 'out'")
    evs = window(events, start, end, where)
    total = sum(e.tokens_in if direction == "in" else e.tokens_out for e in evs)
    return total / (end - start)


def cost_per_hour(events: Iterable[Event], start: float, end: float,
                  where: Mapping[str, str] | None = None) -> float:
    """USD per hour at the window's average spend."""
    return sum(e.cost_usd for e in window(events, start, end, where)) / (end - start) * 3600.0


def share_by(events: Iterable[Event], key: str, start: float, end: float,
             where: Mapping[str, str] | None = None) -> dict[str, float]:
    """Share of requests per value of `key` (a label, or model/backend); values sum to 1."""
    evs = window(events, start, end, where)
    if not evs:
        return {}
    c = _Counter(_value(e, key) for e in evs)
    return {k: n / len(evs) for k, n in sorted(c.items())}


def count_by(events: Iterable[Event], key: str, start: float, end: float,
             where: Mapping[str, str] | None = None, errors_only: bool = False) -> dict[str, int]:
    evs = [e for e in window(events, start, end, where) if e.error or not errors_only]
    return dict(sorted(_Counter(_value(e, key) for e in evs).items()))


def _value(e: Event, key: str) -> str:
    if key in e.labels:
        return e.labels[key]
    if key in ("model", "backend", "kind"):
        return getattr(e, key)
    return e.extra.get(key, "")


def bucket_bounds(value: float, buckets: Sequence[float]) -> tuple[float, float]:
    """The histogram bucket (lower, upper] holding `value`, upper may be +Inf.

    Prometheus' histogram_quantile interpolates inside the bucket where the rank falls, so its
    answer must lie in the same (lower, upper] as the true quantile (upper capped at the highest
    finite bucket when the rank falls in +Inf).
    """
    bs = sorted(float(b) for b in buckets if not math.isinf(b))
    i = bisect.bisect_left(bs, value)
    lower = bs[i - 1] if i > 0 else 0.0
    upper = bs[i] if i < len(bs) else math.inf
    return lower, upper


def summary(events: Sequence[Event], start: float, end: float,
            gauges: Mapping[str, float] | None = None) -> dict[str, object]:
    """All the headline truths for one service and window, JSON-ready (for GET /truth/<name>)."""
    return {
        "start": start,
        "end": end,
        "count": count(events, start, end),
        "rate": request_rate(events, start, end),
        "error_ratio": error_ratio(events, start, end),
        "p50": quantile(events, 0.50, start, end),
        "p95": quantile(events, 0.95, start, end),
        "p99": quantile(events, 0.99, start, end),
        "tokens_in_per_s": tokens_per_second(events, start, end, "in"),
        "tokens_out_per_s": tokens_per_second(events, start, end, "out"),
        "cost_per_hour": cost_per_hour(events, start, end),
        "share_by_backend": share_by(events, "backend", start, end),
        "share_by_model": share_by(events, "model", start, end),
        "gauges": dict(gauges or {}),
    }
