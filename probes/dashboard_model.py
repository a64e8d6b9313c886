"""What the dashboard shows, as immutable snapshots, and the pure arithmetic that makes them.

Why separate from fetching: every number on screen is computed here from probe answers, with no
I/O, so a test can feed a snapshot the same SignalValues `llmwatch check` sees and compare the
text to the byte. Widgets only render these objects; they never compute or fetch.

Headline numbers (the stat row) count each request once (probes.headline says how): gateways,
plus the engines no gateway fronts; several systems add up (req/s, $/h, tok/s); the error ratio
is weighted by each system's traffic; a percentile is the worst system's (a p95 cannot be
averaged), and the stat says which systems it covers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from probes.signals import Part, SignalValue
from probes.units import format_state, format_value

Point = tuple[float, float]

# Chart inputs are untrusted numbers: NaN, +/-Inf and float64's maximum (a common "no value"
# sentinel) are normal in the wild, and a timestamp of 0 or 1e12 in a range answer made plotext
# hang or abort. Points are sanitised here, before any chart sees them, and counted.
VALUE_LIMIT = 1e300      # |v| above this is a sentinel; x100 for percent must still be finite
MAX_POINTS = 4000        # per series: far more than any chart is wide
MAX_LINES = 24           # per chart: the legend and the plot stay readable and fast


@dataclass(frozen=True)
class Dropped:
    """How many points (or series) of a chart could not be drawn, by reason."""

    non_finite: int = 0   # NaN, +Inf, -Inf
    huge: int = 0         # |value| > VALUE_LIMIT (float64 max as a sentinel, overflowing scales)
    outside: int = 0      # timestamp outside the requested window (0, -1, 1e12, the far future)
    thinned: int = 0      # beyond MAX_POINTS in one series
    series: int = 0       # series beyond MAX_LINES

    def __add__(self, other: "Dropped") -> "Dropped":
        return Dropped(self.non_finite + other.non_finite, self.huge + other.huge, self.outside + other.outside,
                       self.thinned + other.thinned, self.series + other.series)

    @property
    def points(self) -> int:
        return self.non_finite + self.huge + self.outside + self.thinned

    def note(self) -> str:
        """"3 points not drawn: non-finite" (empty when everything was drawn)."""
        reasons = [(self.non_finite, "non-finite"), (self.huge, "too large"), (self.outside, "outside the window"),
                   (self.thinned, "over the point limit")]
        given = [(n, why) for n, why in reasons if n]
        parts = []
        if given:
            head = f"{self.points} point{'s' if self.points != 1 else ''} not drawn: "
            parts.append(head + (given[0][1] if len(given) == 1 else ", ".join(f"{n} {w}" for n, w in given)))
        if self.series:
            parts.append(f"{self.series} more series not drawn")
        return "; ".join(parts)


def chart_points(points: Iterable[tuple[object, object]], start: float, end: float,
                 step: float = 0.0) -> tuple[tuple[Point, ...], Dropped]:
    """The points a chart may draw, in time order, and what was dropped: non-finite or huge
    values, timestamps outside [start - step, end + step] (the tolerance covers Prometheus
    rounding the window to milliseconds), and any beyond MAX_POINTS. The chart clamps what is
    kept to its x limits (tui/widgets/chart.py)."""
    kept: list[Point] = []
    non_finite = huge = outside = 0
    lo, hi = start - max(step, 0.0), end + max(step, 0.0)
    for t, v in points:
        try:
            t, v = float(t), float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            non_finite += 1
            continue
        if not math.isfinite(v):
            non_finite += 1
        elif abs(v) > VALUE_LIMIT:
            huge += 1
        elif not (math.isfinite(t) and lo <= t <= hi):
            outside += 1
        else:
            kept.append((t, v))
    kept.sort(key=lambda p: p[0])
    thinned = 0
    if len(kept) > MAX_POINTS:
        stride = math.ceil(len(kept) / MAX_POINTS)
        thinned = len(kept) - len(kept[::stride])
        kept = kept[::stride]
    return tuple(kept), Dropped(non_finite, huge, outside, thinned)

# Stat row: key, title, signal(s), how systems combine, unit.
STATS = (
    ("req", "req/s", ("request_rate",), "sum", "req/s"),
    ("err", "errors", ("error_rate",), "weighted", "ratio"),
    ("p95", "P95", ("latency_p95",), "max", "s"),
    ("cost", "cost", ("cost_rate",), "sum", "$/h"),
    ("tok", "tokens/s", ("tokens_in_rate", "tokens_out_rate"), "sum", "tok/s"),
)
# Two-level colouring of the stat row: (warning, critical); None: never coloured.
DEFAULT_THRESHOLDS: dict[str, tuple[float, float] | None] = {
    "req": None, "err": (0.01, 0.05), "p95": (2.0, 5.0), "cost": None, "tok": None,
    "alerts": (1, 1), "targets": None,
}


@dataclass(frozen=True)
class Line:
    """One series of a chart: legend name, labels, and points without NaN (gaps are omitted)."""

    name: str
    points: tuple[Point, ...]
    labels: tuple[tuple[str, str], ...] = ()
    system: str = ""
    job: str | None = None

    @property
    def last(self) -> float | None:
        return self.points[-1][1] if self.points else None

    def stats(self) -> tuple[float | None, float | None, float | None, float | None]:
        """last, min, max, mean over the range (None when empty)."""
        if not self.points:
            return None, None, None, None
        vals = [v for _, v in self.points]
        return vals[-1], min(vals), max(vals), sum(vals) / len(vals)


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    unit: str
    lines: tuple[Line, ...] = ()
    state: str = "loading"      # loading | ok | no_data | not_exported | no_traffic | error | needs_prometheus
    reason: str = ""
    start: float = 0.0
    end: float = 0.0
    step: float = 0.0
    queries: tuple[str, ...] = ()
    dropped: Dropped = Dropped()  # what the answers held that cannot be drawn (said on the panel)


@dataclass(frozen=True)
class Stat:
    key: str
    title: str
    unit: str
    value: float | None
    state: str                  # a SignalValue state, or "loading"
    text: str                   # the value as printed ("1.85 s") or the state in words
    level: str = "ok"           # ok | warning | critical | none (no thresholds)
    detail: str = ""            # second line: which system, or "today $4.20"
    trend: tuple[float, ...] = ()


@dataclass(frozen=True)
class Bar:
    """One row of a split or cost breakdown: label, value and share of the total (0..1)."""

    label: str
    value: float
    share: float
    text: str
    labels: tuple[tuple[str, str], ...] = ()
    job: str | None = None


@dataclass(frozen=True)
class GpuRow:
    gpu: str
    model: str
    util: float | None
    mem_used: float | None
    mem_total: float | None
    temp: float | None
    power: float | None
    labels: tuple[tuple[str, str], ...] = ()
    job: str | None = None


@dataclass(frozen=True)
class ServingRow:
    system: str
    job: str | None
    ttft_p95: SignalValue | None
    queue: SignalValue | None
    kv_cache: SignalValue | None
    in_flight: SignalValue | None


@dataclass(frozen=True)
class MemRow:
    label: str
    used: float | None
    total: float | None = None
    job: str | None = None


@dataclass(frozen=True)
class Source:
    """Freshness of one data source: ok, or the error and since when the data is stale."""

    name: str
    ok: bool = True
    error: str = ""
    updated_at: float | None = None
    stale_since: float | None = None


def combine(values: Sequence[SignalValue], how: str) -> tuple[float | None, str, str]:
    """(value, state, detail) of one stat over the front-door systems' values of one signal."""
    ok = [v for v in values if v.state == "ok" and v.value is not None]
    if not ok:
        states = [v.state for v in values]
        for s in ("down", "error", "no_data", "no_traffic", "not_exported"):
            if s in states:
                return None, s, next(v.reason for v in values if v.state == s)
        return None, "not_exported", "no system exports it"
    if how == "sum":
        return sum(v.value for v in ok), "ok", _systems(ok)
    if how == "max":
        worst = max(ok, key=lambda v: v.value)
        return worst.value, "ok", worst.title if len(values) > 1 else ""
    raise ValueError(how)


def weighted_ratio(ratios: Sequence[SignalValue], traffic: Mapping[tuple[str, str | None], float]) -> tuple[float | None, str, str]:
    """An error ratio over several systems, weighted by their request rates."""
    ok = [v for v in ratios if v.state == "ok" and v.value is not None]
    if len(ok) <= 1:
        return combine(ratios, "max")
    weights = [traffic.get((v.system, v.job), 0.0) for v in ok]
    total = sum(weights)
    if total <= 0:
        return combine(ratios, "max")
    return sum(v.value * w for v, w in zip(ok, weights)) / total, "ok", _systems(ok)


def _systems(values: Sequence[SignalValue]) -> str:
    titles = list(dict.fromkeys(v.title for v in values))
    return titles[0] if len(titles) == 1 else f"{len(titles)} systems"


def level_for(value: float | None, thresholds: tuple[float, float] | None) -> str:
    if thresholds is None or value is None:
        return "none"
    warn, crit = thresholds
    if value >= crit:
        return "critical"
    if value >= warn:
        return "warning"
    return "ok"


def stat_text(value: float | None, state: str, unit: str) -> str:
    return format_state(state, value, unit) if state != "loading" else "…"


def front_door(values: Iterable[SignalValue], kinds: Mapping[tuple[str, str | None], str],
               fronted: frozenset = frozenset()) -> list[SignalValue]:
    """The values of the systems whose numbers the headline counts (see probes.headline): gateways
    and the engines no gateway fronts; the fronted engines too when no gateway exports the signal
    (tokens, TTFT, KV cache, queue); generic HTTP servers only when nothing else is detected."""
    values = list(values)
    key = lambda v: (v.system, v.job)  # noqa: E731
    doors = [v for v in values if kinds.get(key(v)) == "gateway"
             or (kinds.get(key(v)) == "engine" and key(v) not in fronted)]
    behind = [v for v in values if key(v) in fronted and kinds.get(key(v)) == "engine"]
    if behind and not any(kinds.get(key(v)) == "gateway" and v.state != "not_exported" for v in doors):
        doors = [v for v in doors if kinds.get(key(v)) != "gateway" or v.state != "not_exported"] + behind
    if doors:
        return doors
    return [v for v in values if kinds.get(key(v)) == "generic"]


def top_n(lines: Sequence[Line], n: int, others: bool = True) -> tuple[Line, ...]:
    """The n lines with the largest mean; the rest summed into one "others" line (for rates)."""
    ranked = sorted(lines, key=lambda ln: -(ln.stats()[3] or 0.0))
    keep, rest = ranked[:n], ranked[n:]
    if not rest or not others:
        return tuple(keep)
    summed: dict[float, float] = {}
    for ln in rest:
        for t, v in ln.points:
            summed[t] = summed.get(t, 0.0) + v
    return tuple(keep) + (Line(f"others ({len(rest)})", tuple(sorted(summed.items()))),)


def bars(parts: Sequence[Part], unit: str, job: str | None = None, prefix: str = "") -> tuple[Bar, ...]:
    """Breakdown rows as bars with their share of the total, largest first."""
    rows = [(p, p.value) for p in parts if p.value is not None and math.isfinite(p.value)]
    total = sum(v for _, v in rows if v > 0)
    out = []
    for p, v in sorted(rows, key=lambda r: -r[1]):
        share = (v / total) if total > 0 and v > 0 else 0.0
        label = prefix + (", ".join(val for _, val in p.labels) or "(none)")
        out.append(Bar(label, v, share, format_value(v, unit), p.labels, job))
    return tuple(out)
