"""The mission's signals, evaluated: detected profiles in, one SignalValue per signal out.

Why this shape: the dashboard, `llmwatch check` and `llmwatch doctor` all call `evaluate()` (or
`signal_query()` for range queries), so a number can never differ between them. Every value
carries the PromQL behind it and a state, because "not exported", "no traffic" and "no data"
are answers a person needs to see, and none of them is a zero:

  ok            value is a number (a real 0 included: 0 req/s, $0.00/h)
  not_exported  the system does not export what the signal needs (reason says what)
  no_traffic    the signal is undefined because nothing was requested in the window
                (a quantile or ratio over zero rates is NaN in PromQL)
  no_data       the query matched nothing or gave NaN while there was traffic (new series,
                target down, a missing price)
  error         Prometheus refused or failed the query (reason holds its message)
  down          the system's scrape target is down (reason says why); nothing was asked

A detected system whose request counter does not exist yet (labelled counters appear with the
first request) or counts nothing is idle: what needs traffic, and what it has not exported yet,
reads "no traffic yet", never "not exported".

All queries of one round go out concurrently; identical ones are sent once.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Iterable, NamedTuple, Sequence

from probes.buckets import annotate, bound_text, bucket_text, is_wide
from probes.catalogue import SIGNALS, SignalDef, signal_def
from probes.config import Config
from probes.cost import NoPrices, priced_template
from probes.detect import Detected
from probes.profiles import SignalSpec
from probes.promql import MATCH_NOTHING, RenderContext, TemplateError, duration, render
from probes.units import clean, format_state

STATES = ("ok", "not_exported", "no_traffic", "no_data", "error", "down")
NO_TRAFFIC_YET = "no traffic yet"
Labels = tuple[tuple[str, str], ...]


class Part(NamedTuple):
    """One row of a breakdown: its labels (sorted pairs) and value (None: undefined)."""

    labels: Labels
    value: float | None

    @property
    def text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.labels) or "(none)"


@dataclass(frozen=True)
class SignalValue:
    """One signal of one system on one job, at one instant. No field ever holds NaN.

    `title` is the system's display name (e.g. "vLLM"); the signal's own label is `.label`.
    `method` says how the number was made: histogram, summary (percentiles), average (a mean
    from _sum/_count: views print "avg"), gauge, counter, ratio or priced.
    """

    signal: str
    system: str
    title: str
    job: str | None
    state: str
    value: float | None
    unit: str
    method: str
    query: str
    reason: str = ""
    breakdown: tuple[Part, ...] = ()
    by: tuple[str, ...] = ()
    breakdown_query: str = ""
    bucket: tuple[float, float] | None = None   # quantiles: the histogram bucket the value lies in

    @property
    def label(self) -> str:
        return signal_def(self.signal).title

    @property
    def wide(self) -> bool:
        """A quantile in a bucket too wide for its interpolated value to mean much (probes.buckets)."""
        return self.state == "ok" and is_wide(self.bucket)

    @property
    def text(self) -> str:
        """The value as printed everywhere ("1.85 s"; "<= 1.28 s" in a wide bucket), or the state
        in words ("no traffic")."""
        if self.wide:
            return bound_text(self.bucket, self.unit)
        return format_state(self.state, self.value, self.unit)

    @property
    def note(self) -> str:
        """"bucket 0.64-1.28 s" for a quantile in a wide bucket, else ""."""
        return bucket_text(self.bucket, self.unit) if self.wide else ""


@dataclass(frozen=True)
class _Plan:
    detected: Detected
    sdef: SignalDef
    method: str
    query: str = ""
    breakdown_query: str = ""
    by: tuple[str, ...] = ()
    state: str = ""      # preset for signals that need no query (not_exported, no_data)
    reason: str = ""


def seconds_since_midnight(at: float) -> float:
    """Local time since midnight at `at`: the window of "spend today"."""
    dt = datetime.fromtimestamp(at)
    return at - dt.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def render_context(detected: Detected, config: Config, window: float, at: float | None = None) -> RenderContext:
    ref = config.routing.cloud_reference
    price = config.prices.get(ref) if ref else None
    return RenderContext(
        window=window, scope=detected.scope, today=seconds_since_midnight(at if at is not None else time.time()),
        local_providers=tuple(config.routing.local_providers),
        ref_model=ref if price else None,
        ref_in=price.input / 1e6 if price else None, ref_out=price.output / 1e6 if price else None,
        **({"monitoring": MATCH_NOTHING} if config.traffic.include_monitoring else {}))


def choose(detected: Detected, name: str) -> tuple[SignalSpec | None, str]:
    """The first alternative whose requirements the job meets, or None and why not."""
    alts = detected.profile.signals.get(name, ())
    for spec in alts:
        if spec.available(detected.metrics):
            return spec, ""
    if not alts:
        reason = detected.profile.missing.get(name) or f"not exported by {detected.title}"
        return None, reason
    last = alts[-1]
    if last.why:
        return None, last.why
    needed = [m for m in last.requires if detected.metrics is not None and m not in detected.metrics]
    needed = needed or list(last.requires_any)
    where = f"job {detected.job}" if detected.job else "this Prometheus"
    return None, f"no {' or '.join(needed)} on {where} (not exported, or nothing counted yet)"


def _template(spec: SignalSpec, config: Config) -> str:
    if spec.method == "priced":
        return priced_template(spec, config.prices, config.routing.cloud_reference)
    return spec.promql


def signal_names(detected: Detected) -> list[str]:
    """The signals a profile reports: defined, declared missing, and core ones for its kind."""
    p = detected.profile
    names = [n for n, d in SIGNALS.items()
             if n in p.signals or n in p.missing or p.kind in d.core_for]
    names += [n for n in p.signals if n not in SIGNALS]
    return names


def signal_query(detected: Detected, signal: str, config: Config, window: float,
                 by: Sequence[str] | None = None, at: float | None = None) -> str | None:
    """The PromQL for one signal: by=() the single headline value, by=None the profile's
    breakdown, or any labels (the dashboard's range queries). None when not exported.
    Raises NoPrices or TemplateError when the config lacks what the signal needs."""
    spec, _ = choose(detected, signal)
    if spec is None:
        return None
    ctx = render_context(detected, config, window, at)
    by = spec.by if by is None else tuple(by)
    if by and spec.breakdown and tuple(by) == spec.by:
        return render(spec.breakdown, ctx, by)
    return render(_template(spec, config), ctx, by)


def plan(detected: Detected, config: Config, window: float, at: float | None = None,
         only: Iterable[str] | None = None, breakdowns: Iterable[str] | None = None) -> list[_Plan]:
    """Queries for every signal of one system, or only those named (plus its traffic signal,
    which decides no_traffic for the others)."""
    out: list[_Plan] = []
    ctx = render_context(detected, config, window, at)
    wanted = None if only is None else {*only, detected.profile.traffic}
    for name in signal_names(detected):
        if wanted is not None and name not in wanted:
            continue
        sdef = signal_def(name, *_custom(detected, name))
        if detected.down:
            out.append(_Plan(detected, sdef, sdef.method, state="down", reason=f"target down: {detected.down}"))
            continue
        spec, why = choose(detected, name)
        if spec is None:
            unmet = bool(detected.profile.signals.get(name)) and name not in detected.profile.missing
            out.append(_Plan(detected, sdef, sdef.method, state="not_exported",
                             reason=(_UNMET + why) if unmet else why))
            continue
        try:
            template = _template(spec, config)
            query = render(template, ctx)
            bq = ""
            if spec.by and (breakdowns is None or name in breakdowns):
                bq = render(spec.breakdown or template, ctx, spec.by)
        except (NoPrices, TemplateError) as exc:
            reason = str(exc)
            if "$ref" in reason:
                reason = "set routing.cloud_reference to a [prices] model to estimate what local routing saves"
            out.append(_Plan(detected, sdef, spec.method, state="no_data", reason=reason))
            continue
        out.append(_Plan(detected, sdef, spec.method, query, bq, spec.by))
    return out


def _custom(detected: Detected, name: str) -> tuple[str | None, str | None]:
    alts = detected.profile.signals.get(name, ())
    return (alts[0].unit, alts[0].title) if alts else (None, None)


async def evaluate(client, detected: Iterable[Detected], config: Config, window: float,
                   at: float | None = None, timeout: float | None = None,
                   only: Iterable[str] | None = None,
                   breakdowns: Iterable[str] | None = None) -> list[SignalValue]:
    """Every signal of every detected system (or only the named ones), all queries concurrently.

    window: the rate window in seconds (the dashboard sizes it with promql.rate_interval; tests
    pass a short one). at: unix seconds to evaluate at (None: now). breakdowns: the signals
    whose per-label breakdown is wanted (None: all of them).
    """
    detected = list(detected)
    at_now = at if at is not None else time.time()
    only = None if only is None else tuple(only)
    breakdowns = None if breakdowns is None else frozenset(breakdowns)
    plans = [p for d in detected for p in plan(d, config, window, at_now, only, breakdowns)]
    queries = sorted({q for p in plans for q in (p.query, p.breakdown_query) if q})
    results = await asyncio.gather(*(_safe_query(client, q, at, timeout) for q in queries))
    answers = dict(zip(queries, results))
    values = [_value(p, answers) for p in plans]
    return await annotate(client, _resolve_traffic(values, detected, window), at, timeout)


async def _safe_query(client, promql: str, at: float | None, timeout: float | None):
    try:
        return await client.query(promql, at=at, timeout=timeout)
    except Exception as exc:  # a transport bug must not take the other signals down
        return _Failed(promql, f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class _Err:
    kind: str
    message: str


class _Failed:
    def __init__(self, query: str, message: str):
        self.query, self.ok, self.samples = query, False, ()
        self.error = _Err("exception", message)


_PENDING_EMPTY = "__empty__"
_PENDING_NAN = "__nan__"
_UNMET = "__unmet__"  # prefix: the profile defines it, the job lacks its metrics (yet?)


def _value(p: _Plan, answers: dict) -> SignalValue:
    d = p.detected
    base = dict(signal=p.sdef.name, system=d.name, title=d.title, job=d.job, unit=p.sdef.unit,
                method=p.method, query=p.query, by=p.by, breakdown_query=p.breakdown_query)
    if p.state:
        return SignalValue(state=p.state, value=None, reason=p.reason, **base)
    res = answers[p.query]
    if not res.ok:
        msg = res.error.message if res.error is not None else "query failed"
        return SignalValue(state="error", value=None, reason=msg, **base)
    parts = _parts(answers.get(p.breakdown_query), p.by) if p.breakdown_query else ()
    samples = res.samples
    if len(samples) > 1:
        return SignalValue(state="error", value=None, breakdown=parts, **base,
                           reason=f"the query returned {len(samples)} series; a headline query must aggregate to one")
    if not samples:
        if p.method == "priced":
            return SignalValue(state="no_data", value=None, breakdown=parts, **base,
                               reason="no token series for a model in [prices]: price this system's models "
                                      "(llmwatch doctor lists them)")
        return SignalValue(state="no_data", value=None, reason=_PENDING_EMPTY, breakdown=parts, **base)
    v = samples[0].value
    if v is None or math.isnan(v):
        return SignalValue(state="no_data", value=None, reason=_PENDING_NAN, breakdown=parts, **base)
    return SignalValue(state="ok", value=v, breakdown=parts, **base)


def _parts(res, by: Sequence[str]) -> tuple[Part, ...]:
    if res is None or not res.ok:
        return ()
    parts = []
    for s in res.samples:
        labels = tuple(sorted((k, s.labels[k]) for k in by if s.labels.get(k)))
        value = clean(s.value)
        if not labels and not value:
            continue  # the all-zero catch-all of an `or ... * 0` fallback, not a real group
        parts.append(Part(labels, value))
    parts.sort(key=lambda part: part.labels)
    return tuple(parts)


def _idle(values: list[SignalValue], detected: list[Detected]) -> dict[tuple[str, str | None], float | None]:
    """Per system: its traffic (req/s) when known, 0.0 when idle (its request counter does not
    exist yet, matches nothing, or counts 0), None when unknown (no traffic signal, an error)."""
    traffic: dict[tuple[str, str | None], float | None] = {}
    for d in detected:
        for v in values:
            if v.system != d.name or v.job != d.job or v.signal != d.profile.traffic:
                continue
            if v.state == "ok":
                traffic[(d.name, d.job)] = v.value
            elif v.reason == _PENDING_EMPTY or v.reason.startswith(_UNMET):
                traffic[(d.name, d.job)] = 0.0
    return traffic


def _resolve_traffic(values: list[SignalValue], detected: list[Detected], window: float) -> list[SignalValue]:
    """Turn pending empty/NaN/unmet answers into no_traffic (idle) or no_data/not_exported (with why)."""
    traffic = _idle(values, detected)
    counted = {k for k, t in traffic.items() if t}
    win = duration(window)
    out = []
    for v in values:
        key = (v.system, v.job)
        fresh = key in traffic and key not in counted   # idle: nothing counted in the window
        if v.reason.startswith(_UNMET) or (fresh and v.reason == _PENDING_EMPTY):
            if fresh:
                v = _replace(v, state="no_traffic", reason=NO_TRAFFIC_YET)
            elif v.reason.startswith(_UNMET):
                v = _replace(v, reason=v.reason[len(_UNMET):])
            out.append(v)
            continue
        if v.state == "no_data" and v.reason in (_PENDING_EMPTY, _PENDING_NAN):
            t = traffic.get((v.system, v.job))
            if t == 0 and signal_def(v.signal).needs_traffic:
                v = _replace(v, state="no_traffic", reason=f"no requests in the last {win}")
            elif t == 0 and v.reason == _PENDING_NAN:
                v = _replace(v, state="no_traffic", reason=f"no requests in the last {win}")
            elif v.reason == _PENDING_EMPTY:
                v = _replace(v, reason=f"no samples in the last {win} (new series, or the target is down)")
            else:
                v = _replace(v, reason=f"undefined (NaN) over the last {win}")
        out.append(v)
    return out


def _replace(v: SignalValue, **kw) -> SignalValue:
    return replace(v, **kw)
