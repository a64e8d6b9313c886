"""One poll of each dashboard source, as an immutable result. No UI here: the Textual app runs
these in its workers and the widgets render what comes back.

Sources (each polled on its own, so a slow one never holds up another):
  meta     detection (which systems on which jobs) and the server's version; every minute
  instant  every signal now (the same `evaluate()` as `llmwatch check`), alerts and targets
  range    the charts and the stat-row trends over the dashboard range
  health   the configured services' health endpoints
Every function here returns a result or raises; the caller keeps the last good result and
marks the source stale on failure.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from probes.catalogue import SERVING
from probes.config import Config
from probes.cost import NoPrices
from probes.detect import Detected, Detection, detect
from probes.promql import TemplateError, now_window, rate_interval
from probes.signals import SignalValue, choose, evaluate, signal_query
from probes.units import format_value
from probes.dashboard_model import (
    DEFAULT_THRESHOLDS, MAX_LINES, STATS, Bar, Chart, Dropped, GpuRow, Line, MemRow, ServingRow, Stat,
    chart_points, combine, level_for, top_n,
)
from probes.headline import cost_breakdown, cost_stats, fronted_engines, headline_stats, reshare, routing

__all__ = ["Instant", "Meta", "Ranges", "SourceError", "cost_breakdown", "cost_stats", "gpu_rows", "headline_stats",
           "load_instant", "load_meta", "load_ranges", "memory_rows", "routing", "serving_rows", "step_for",
           "system_labels"]

DEFAULT_SCRAPE = 15.0
TOP_N = 5
TREND_POINTS = 24


class SourceError(Exception):
    """A poll that produced nothing usable; the message is one line for the panel."""


@dataclass(frozen=True)
class Meta:
    detection: Detection
    version: str = ""
    systems: tuple[str, ...] = ()

    @property
    def scrape_interval(self) -> float:
        return self.detection.scrape_interval or DEFAULT_SCRAPE


@dataclass(frozen=True)
class Instant:
    at: float
    values: tuple[SignalValue, ...]
    stats: tuple[Stat, ...]
    cost: tuple[Stat, ...]
    cost_bars: tuple[Bar, ...]
    routing: tuple[Bar, ...]
    local_share: SignalValue | None
    gpus: tuple[GpuRow, ...]
    memory: tuple[MemRow, ...]
    serving: tuple[ServingRow, ...]
    alerts: tuple[Any, ...] = ()          # probes.promtypes.PromAlert
    alerts_error: str = ""
    targets_up: int | None = None
    targets_total: int | None = None
    targets_error: str = ""
    local_shares: tuple[SignalValue, ...] = ()   # each system's own local share
    systems: tuple[str, ...] = ()         # header names, with "DOWN" / "idle"
    window: float = 0.0                   # the rate window of every Now value (seconds)
    target_notes: tuple[str, ...] = ()    # "gw: connection refused", "vllm: 3 lines could not be parsed"


@dataclass(frozen=True)
class Ranges:
    at: float
    range_s: float
    step: float
    charts: Mapping[str, Chart] = field(default_factory=dict)
    trends: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    spend_range: float | None = None
    queries: int = 0


async def load_meta(client, profiles, timeout: float, previous: Meta | None = None) -> Meta:
    detection = await detect(client, profiles, timeout=timeout, previous=previous.detection if previous else None)
    if detection.error:
        raise SourceError(detection.error)
    info = await client.buildinfo()
    version = ""
    if info.ok and isinstance(info.value, Mapping):
        version = str(info.value.get("version", ""))
    systems = tuple(dict.fromkeys(
        f"{d.title}" + (f" ({d.job})" if d.job else "") for d in detection.systems))
    return Meta(detection, version, systems)


def _kinds(meta: Meta) -> dict[tuple[str, str | None], str]:
    return {(d.name, d.job): d.profile.kind for d in meta.detection.systems}


# The signals the instant panels show. evaluate() asks only for these (plus each system's
# traffic signal): the catalogue has about twice as many, and asking for all of them on every
# refresh was most of the dashboard's idle CPU (bench/bench_dashboard.py).
INSTANT_SIGNALS = (
    "request_rate", "error_rate", "latency_p95", "cost_rate", "spend_today", "savings_rate", "local_share",
    "tokens_in_rate", "tokens_out_rate", "ttft_p95", "queue_length", "kv_cache_usage", "in_flight",
    "gpu_util", "gpu_mem_used", "gpu_mem_total", "gpu_temp", "gpu_power",
    "host_mem_used", "host_mem_total", "process_mem", "container_mem",
)

# Breakdowns drawn by a panel: routing and cost bars, one row per GPU; request and token
# breakdowns also name the models that tell which engines a gateway fronts.
BREAKDOWNS = ("request_rate", "cost_rate", "local_share", "tokens_out_rate", "gpu_util", "gpu_mem_used",
              "gpu_mem_total", "gpu_temp", "gpu_power")
def system_labels(systems: Sequence[Detected], values: Sequence[SignalValue]) -> tuple[str, ...]:
    """Header names: "Hybrid AI Stack (api-gateway)", with " DOWN" or " idle" when so."""
    idle = {(v.system, v.job) for v in values if v.signal == "request_rate"
            and (v.state == "no_traffic" or (v.state == "ok" and v.value == 0))}
    out = []
    for d in systems:
        name = f"{d.title}" + (f" ({d.job})" if d.job else "")
        name += " DOWN" if d.down else (" idle" if (d.name, d.job) in idle else "")
        out.append(name)
    return tuple(dict.fromkeys(out))


async def load_instant(client, meta: Meta, config: Config, timeout: float, at: float | None = None) -> Instant:
    at = time.time() if at is None else at
    window = now_window(meta.scrape_interval)
    values, alerts, targets = await asyncio.gather(
        evaluate(client, meta.detection.systems, config, window, at=at, timeout=timeout, only=INSTANT_SIGNALS,
                 breakdowns=BREAKDOWNS),
        client.alerts(), client.targets())
    asked = [v for v in values if v.query]  # not_exported and DOWN systems' values never reached the server
    if asked and all(v.state == "error" for v in asked):
        raise SourceError(asked[0].reason)
    if not asked and not alerts.ok and not targets.ok:  # nothing to ask, and what was asked failed
        raise SourceError(str(targets.error))
    kinds = _kinds(meta)
    by_signal: dict[str, list[SignalValue]] = {}
    for v in values:
        by_signal.setdefault(v.signal, []).append(v)
    fronted = fronted_engines(values, kinds, config.traffic.behind_gateway)
    stats = list(headline_stats(by_signal, kinds, fronted))
    firing = ()
    alerts_error = ""
    if alerts.ok:
        firing = tuple(alerts.value or ())
    else:
        alerts_error = str(alerts.error)
    n_firing = sum(1 for a in firing if a.state == "firing")
    stats.append(_count_stat("alerts", "alerts", n_firing if alerts.ok else None, alerts_error,
                             f"{sum(1 for a in firing if a.state == 'pending')} pending" if alerts.ok else ""))
    up = total = None
    targets_error = ""
    notes: tuple[str, ...] = ()
    if targets.ok:
        ts = list(targets.value or ())
        total, up = len(ts), sum(1 for t in ts if t.health == "up")
        down = sorted(ts, key=lambda t: t.health == "up")  # why a target is down comes first
        notes = tuple(f"{t.job}: {t.why}" for t in down if t.why)
    else:
        targets_error = str(targets.error)
    tstat = _count_stat("targets", "targets up", up, targets_error, "")
    if total is not None:
        level = "ok" if up == total else ("critical" if up == 0 else "warning")
        tstat = Stat("targets", "targets up", "count", up, "ok", f"{up}/{total}", level, notes[0] if notes else "")
    stats.append(tstat)
    stack_share, shares, split = routing(by_signal, kinds, fronted)
    return Instant(
        at=at, values=tuple(values), stats=tuple(stats),
        cost=cost_stats(by_signal, kinds, fronted), cost_bars=cost_breakdown(by_signal, kinds, fronted),
        routing=split, local_share=stack_share,
        gpus=gpu_rows(by_signal), memory=memory_rows(by_signal), serving=serving_rows(by_signal, kinds),
        alerts=firing, alerts_error=alerts_error, targets_up=up, targets_total=total,
        targets_error=targets_error, local_shares=shares, target_notes=notes,
        systems=system_labels(meta.detection.systems, values), window=window)


NEEDS_PROMETHEUS = "needs Prometheus"


def _count_stat(key: str, title: str, n: int | None, error: str, detail: str) -> Stat:
    if n is None:
        if NEEDS_PROMETHEUS in error:  # direct-scrape mode: a known gap, not a failure
            return Stat(key, title, "count", None, "needs_prometheus", "n/a", "none", NEEDS_PROMETHEUS)
        return Stat(key, title, "count", None, "error", "error", "none", error)
    return Stat(key, title, "count", n, "ok", str(n), level_for(n, DEFAULT_THRESHOLDS.get(key)), detail)


_GPU_FIELDS = {"gpu_util": "util", "gpu_mem_used": "mem_used", "gpu_mem_total": "mem_total",
               "gpu_temp": "temp", "gpu_power": "power"}


def gpu_rows(by_signal) -> tuple[GpuRow, ...]:
    rows: dict[tuple, dict] = {}
    for sig, fieldname in _GPU_FIELDS.items():
        for v in by_signal.get(sig, []):
            for p in v.breakdown:
                row = rows.setdefault((v.job, p.labels), {"job": v.job, "labels": p.labels})
                row[fieldname] = p.value
    out = []
    for (job, labels), row in rows.items():
        d = dict(labels)
        gpu = d.get("gpu") or d.get("minor_number") or d.get("uuid") or "?"
        model = d.get("modelName") or d.get("name") or ""
        out.append(GpuRow(gpu, model, row.get("util"), row.get("mem_used"), row.get("mem_total"),
                          row.get("temp"), row.get("power"), labels, job))
    return tuple(sorted(out, key=lambda r: (r.job or "", _num_key(r.gpu))))


def _num_key(text: str):
    return (0, int(text)) if text.isdigit() else (1, text)


def memory_rows(by_signal) -> tuple[MemRow, ...]:
    out = []
    totals = {v.job: v.value for v in by_signal.get("host_mem_total", []) if v.state == "ok"}
    for v in by_signal.get("host_mem_used", []):
        if v.state == "ok":
            out.append(MemRow(f"host ({v.job})" if v.job else "host", v.value, totals.get(v.job), v.job))
    seen: set[str | None] = set()
    for sig in ("process_mem", "container_mem"):
        for v in by_signal.get(sig, []):
            if v.state == "ok" and (sig, v.job) not in seen:
                seen.add((sig, v.job))
                out.append(MemRow(v.job or v.title, v.value, None, v.job))
    return tuple(out)


def serving_rows(by_signal, kinds) -> tuple[ServingRow, ...]:
    out = []
    keyed: dict[tuple[str, str | None], dict[str, SignalValue]] = {}
    for sig in ("ttft_p95", "queue_length", "kv_cache_usage", "in_flight"):
        for v in by_signal.get(sig, []):
            keyed.setdefault((v.system, v.job), {})[sig] = v
    for (system, job), sigs in keyed.items():
        if kinds.get((system, job)) not in ("engine", "gateway"):
            continue
        title = next(iter(sigs.values())).title
        if not any(s.state in ("ok", "no_traffic") for s in sigs.values()):
            continue
        out.append(ServingRow(f"{title} ({job})" if job else title, job, sigs.get("ttft_p95"),
                              sigs.get("queue_length"), sigs.get("kv_cache_usage"), sigs.get("in_flight")))
    return tuple(out)


# ---- range queries -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Want:
    chart: str
    name: str
    query: str
    system: str
    job: str | None
    by: tuple[str, ...] = ()


def step_for(range_s: float, points: int, scrape: float) -> float:
    """A step that gives about `points` points over the range, never finer than the scrape."""
    return max(scrape, range_s / max(points, 10))


async def load_ranges(client, meta: Meta, config: Config, range_s: float, points: int,
                      timeout: float, at: float | None = None) -> Ranges:
    end = time.time() if at is None else at
    start = end - range_s
    scrape = meta.scrape_interval
    step = step_for(range_s, points, scrape)
    tstep = step_for(range_s, TREND_POINTS, scrape)
    serving = [d for d in meta.detection.systems if d.profile.kind in SERVING]
    wants = _chart_wants(serving, config, rate_interval(step, scrape))
    kinds = _kinds(meta)
    doors = _doors(serving, kinds, config.traffic.behind_gateway)
    trend_wants = _trend_wants(doors, config, rate_interval(tstep, scrape))
    queries = {w.query for w in wants} | {w.query for w in trend_wants}
    chart_q = sorted({w.query for w in wants})
    trend_q = sorted({w.query for w in trend_wants} - set(chart_q))
    results = await asyncio.gather(
        *(client.query_range(q, start, end, step, timeout=timeout) for q in chart_q),
        *(client.query_range(q, start, end, tstep, timeout=timeout) for q in trend_q),
        evaluate(client, doors, config, range_s, at=end, timeout=timeout, only=("cost_rate",)))
    spend_vals = [v for v in results[-1] if v.signal == "cost_rate"]
    spend_rate, spend_state, _ = combine(spend_vals, "sum") if spend_vals else (None, "", "")
    answers = dict(zip(chart_q + trend_q, results[:-1]))
    if answers and all(not r.ok for r in answers.values()):
        raise SourceError(str(next(iter(answers.values())).error))
    charts = build_charts(wants, answers, start, end, step, serving)
    trends = build_trends(trend_wants, answers, start, end, tstep)
    spend = spend_rate * range_s / 3600.0 if spend_rate is not None else None
    return Ranges(end, range_s, step, charts, trends, spend, len(queries))


def _doors(serving: Sequence[Detected], kinds, behind_gateway: Sequence[str] = ()) -> list[Detected]:
    """The systems the stat-row trends sum: gateways and the engines not named behind one
    (the instant poll also matches models; ranges keep to the config)."""
    doors = [d for d in serving if kinds.get((d.name, d.job)) == "gateway"
             or (kinds.get((d.name, d.job)) == "engine" and d.job not in behind_gateway)]
    return doors or [d for d in serving if kinds.get((d.name, d.job)) == "generic"]


def _q(d: Detected, signal: str, config: Config, window: float, by=()) -> tuple[str | None, tuple[str, ...]]:
    try:
        spec_by = None if by is None else tuple(by)
        q = signal_query(d, signal, config, window, by=spec_by)
    except (NoPrices, TemplateError):
        return None, ()
    if q is None:
        return None, ()
    if by is None:
        spec, _ = choose(d, signal)
        return q, (spec.by if spec else ())
    return q, tuple(by)


def _label(d: Detected, many: bool) -> str:
    """Legend prefix of a system's lines; none when the chart has only one system."""
    if not many:
        return ""
    return f"{d.title} ({d.job})" if d.job else d.title


def _chart_wants(serving: Sequence[Detected], config: Config, window: float) -> list[_Want]:
    wants: list[_Want] = []
    many = len(serving) > 1
    quantiles = ("latency_p50", "latency_p95", "latency_p99") if len(serving) <= 2 else ("latency_p95",)
    for d in serving:
        for sig in quantiles:
            q, _ = _q(d, sig, config, window)
            if q:
                name = sig.rsplit("_", 1)[1]
                wants.append(_Want("latency", f"{_label(d, many)} {name}".strip(), q, d.name, d.job))
        q, by = _q(d, "request_rate", config, window, by=None)
        if q:
            wants.append(_Want("traffic", _label(d, many), q, d.name, d.job, by))
        q, by = _q(d, "error_rate", config, window, by=None)
        if q:
            wants.append(_Want("errors", _label(d, many), q, d.name, d.job, by))
    return wants


def _trend_wants(doors: Sequence[Detected], config: Config, window: float) -> list[_Want]:
    wants = []
    for key, _, signals, _, _ in STATS:
        for d in doors:
            for sig in signals:
                q, _ = _q(d, sig, config, window)
                if q:
                    wants.append(_Want(key, sig, q, d.name, d.job))
    return wants


_CHARTS = {"latency": ("Latency", "s"), "traffic": ("Requests", "req/s"), "errors": ("Error rate", "ratio")}


def build_charts(wants, answers, start, end, step, serving) -> dict[str, Chart]:
    charts: dict[str, Chart] = {}
    for key, (title, unit) in _CHARTS.items():
        mine = [w for w in wants if w.chart == key]
        if not mine:
            why = "no serving system detected" if not serving else "not exported by " + ", ".join(
                sorted({d.title for d in serving}))
            charts[key] = Chart(key, title, unit, state="not_exported", reason=why, start=start, end=end, step=step)
            continue
        lines: list[Line] = []
        errors: list[str] = []
        dropped = Dropped()
        for w in mine:
            res = answers.get(w.query)
            if res is None or not res.ok:
                errors.append(str(res.error) if res is not None else "no answer")
                continue
            for s in res.series:
                pts, lost = chart_points(s.points, start, end, step)
                dropped += lost
                if not pts:
                    continue
                labels = tuple(sorted((k, s.labels.get(k, "")) for k in w.by if k in s.labels))
                vals = ", ".join(v for _, v in labels)
                name = " ".join(x for x in (w.name, vals) if x) or (w.system if key != "latency" else w.name)
                lines.append(Line(name, pts, labels, w.system, w.job))
        if key == "traffic":
            lines = list(top_n(lines, TOP_N, others=True))
        elif key == "errors":
            lines = list(top_n(lines, TOP_N, others=False))
        if len(lines) > MAX_LINES:
            dropped += Dropped(series=len(lines) - MAX_LINES)
            lines = lines[:MAX_LINES]
        qs = tuple(w.query for w in mine)
        if lines:
            charts[key] = Chart(key, title, unit, tuple(lines), "ok", "", start, end, step, qs, dropped)
        elif errors and len(errors) == len(mine):
            charts[key] = Chart(key, title, unit, (), "error", errors[0], start, end, step, qs)
        elif dropped.points:  # there were samples, none of them drawable: say why
            charts[key] = Chart(key, title, unit, (), "no_data", dropped.note(), start, end, step, qs, dropped)
        else:
            state, why = ("no_traffic", "no requests in the range") if key != "traffic" else ("no_data", "no samples in the range")
            charts[key] = Chart(key, title, unit, (), state, why, start, end, step, qs)
    return charts


def build_trends(wants, answers, start: float, end: float, step: float) -> dict[str, tuple[float, ...]]:
    """Per stat, one value per trend step: systems summed (rates) or the worst (quantiles).
    Points are sanitised like the charts' (probes.dashboard_model.chart_points)."""
    how = {key: h for key, _, _, h, _ in STATS}
    out: dict[str, tuple[float, ...]] = {}
    for key in how:
        per_t: dict[float, list[float]] = {}
        for w in (w for w in wants if w.chart == key):
            res = answers.get(w.query)
            if res is None or not res.ok:
                continue
            for s in res.series:
                for t, v in chart_points(s.points, start, end, step)[0]:
                    per_t.setdefault(t, []).append(v)
        if per_t:
            agg = sum if how[key] == "sum" else max
            out[key] = tuple(agg(per_t[t]) for t in sorted(per_t))
    return out
