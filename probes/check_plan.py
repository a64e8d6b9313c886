"""What `llmwatch check` runs: health checks, PromQL rules, down targets, firing alerts, SLOs.

Each source becomes PlannedCheck(s) for probes.checks.run_planned, which enforces the deadline.
Prometheus-based checks share one client; when Prometheus is unreachable each of them says
UNKNOWN with the reason, while health checks still run and count.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Sequence

from probes.alertmanager import AlertmanagerClient
from probes.checks import CheckOptions, CheckResult, Perf, PlannedCheck
from probes.config import Config, Endpoint, Rule, Service
from probes.health import ClientPool, probe
from probes.prometheus import PrometheusClient
from probes.redact import display_url
from probes.status import Status
from probes.textsafe import clean
from probes.thresholds import evaluate, parse_range, perfdata_bound

SEVERITY = {"critical": Status.CRITICAL, "page": Status.CRITICAL, "error": Status.CRITICAL,
            "warning": Status.WARNING}


def url_service(url: str, timeout: float) -> Service:
    """A health check for a bare --url, named after the URL (without secrets)."""
    return Service(name=display_url(url), url=url, timeout=timeout)


def health_results(h, *, components: bool = True) -> list[CheckResult]:
    """A service's result plus one result per nested component, so summaries name what is down.

    With explicit conditions the user decided what matters: components are not separate checks.
    """
    perf = ()
    if h.response_time_ms is not None:
        perf = (Perf(f"{h.name} time", round(h.response_time_ms, 3), "ms", min=0),)
    out = [CheckResult(h.name, "health", h.status, h.summary, value=h.response_time_ms, unit="ms", perfdata=perf)]
    for comp in (h.components if components else ()):
        out.append(CheckResult(f"{h.name}/{comp.name}", "component", comp.status, comp.detail or comp.status.name))
    return out


def plan_health(services: Sequence[Service], pool: ClientPool | None = None) -> list[PlannedCheck]:
    def make(svc: Service) -> PlannedCheck:
        async def run(remaining: float) -> list[CheckResult]:
            client = pool.get(svc) if pool is not None else None
            if svc.timeout <= remaining:
                return health_results(await probe(svc, client=client), components=not svc.conditions)
            # The run's deadline, not the service, limits this probe: if it times out we could
            # not check it in time (UNKNOWN), which is not proof the service is down.
            h = await probe(_with_timeout(svc, remaining), client=client)
            if h.error_kind == "timeout":
                return [CheckResult(svc.name, "health", Status.UNKNOWN,
                                    f"no answer before the check deadline ({remaining:.1f}s left of --timeout; "
                                    f"service timeout is {svc.timeout:g}s)")]
            return health_results(h, components=not svc.conditions)
        return PlannedCheck(svc.name, "health", run, names=((svc.name, False), (f"{svc.name}/", True)))
    return [make(s) for s in services]


def _with_timeout(svc: Service, seconds: float) -> Service:
    return replace(svc, timeout=max(0.05, seconds))


def _series_name(labels) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return "{" + inner + "}" if inner else ""


def rule_result(rule: Rule, result) -> CheckResult:
    """Evaluate one PromQL rule's answer against its Nagios ranges; every series counts."""
    if not result.ok:
        return CheckResult(rule.name, "rule", Status.UNKNOWN, clean(result.error.message if result.error else "query failed"))
    values = [(s.labels, s.value) for s in result.samples if s.value is not None]
    if not values:
        status = Status[rule.no_data.upper()]
        hint = "" if status is not Status.UNKNOWN else "; set no_data = \"ok\" if that is fine"
        return CheckResult(rule.name, "rule", status, f"no data (the query matched no series{hint})", unit=rule.unit)
    finite = [(lab, v) for lab, v in values if not math.isnan(v)]
    if not finite:
        return CheckResult(rule.name, "rule", Status[rule.no_data.upper()], "no traffic (the query returned NaN)",
                           unit=rule.unit)
    warn = parse_range(rule.warn) if rule.warn else None
    crit = parse_range(rule.crit) if rule.crit else None
    graded = [(evaluate(v, warn, crit), lab, v) for lab, v in finite]
    order = {Status.OK: 0, Status.WARNING: 1, Status.CRITICAL: 2}
    status, labels, value = max(graded, key=lambda g: (order[g[0]], abs(g[2])))
    from probes.units import format_value

    shown = format_value(value, rule.unit)
    where = clean(_series_name(labels), max_len=120)
    raw = f"{value:.4g}"
    shown = shown if shown.replace(" ", "") == raw else f"{raw} ({shown})"
    if status is Status.OK:
        summary = f"{shown}" + (f" (worst of {len(finite)} series)" if len(finite) > 1 else "")
    else:
        limit, word = (crit, "critical") if status is Status.CRITICAL else (warn, "warning")
        series = f" {where}" if where and len(finite) > 1 else ""
        summary = f"{shown}{series} outside the {word} range {limit.text}"
    perf = tuple(Perf(rule.name if len(finite) == 1 else f"{rule.name}{_series_name(lab)}", v, _perf_uom(rule.unit),
                      perfdata_bound(rule.warn), perfdata_bound(rule.crit)) for lab, v in finite[:20])
    return CheckResult(rule.name, "rule", status, summary, value=value, unit=rule.unit, perfdata=perf)


def _perf_uom(unit: str) -> str:
    return unit if unit in ("s", "ms", "us", "%", "B", "KB", "MB", "TB", "c") else ""


def plan_rules(prom: PrometheusClient, rules: Sequence[Rule]) -> list[PlannedCheck]:
    def make(rule: Rule) -> PlannedCheck:
        async def run(remaining: float) -> list[CheckResult]:
            return [rule_result(rule, await prom.query(rule.promql, timeout=remaining))]
        return PlannedCheck(rule.name, "rule", run, prometheus=True)
    return [make(r) for r in rules]


def target_results(targets) -> list[CheckResult]:
    """One result per job: CRITICAL when any of its targets is down."""
    by_job: dict[str, list] = {}
    for t in targets:
        by_job.setdefault(t.labels.get("job", "?"), []).append(t)
    out = []
    for job, ts in sorted(by_job.items()):
        down = [t for t in ts if t.health == "down"]
        up = sum(1 for t in ts if t.health == "up")
        notes = "; ".join(p for t in ts for p in t.problems)  # direct scrape: parse errors, series cap
        tail = f"; {clean(notes, max_len=200)}" if notes else ""
        if down:
            why = clean(down[0].last_error or "down", max_len=160)
            summary = f"{len(down)} of {len(ts)} targets down: {display_url(down[0].scrape_url)}: {why}{tail}"
            out.append(CheckResult(f"target:{job}", "target", Status.CRITICAL, summary, value=up, unit="targets"))
        else:
            status = Status.WARNING if "series cap" in notes else Status.OK  # data is being dropped
            out.append(CheckResult(f"target:{job}", "target", status, f"{up}/{len(ts)} up{tail}", value=up,
                                   unit="targets"))
    return out


def plan_targets(prom: PrometheusClient) -> PlannedCheck:
    async def run(remaining: float) -> list[CheckResult]:
        res = await prom.targets()
        if not res.ok:
            return [CheckResult("targets", "target", Status.UNKNOWN, clean(res.error.message))]
        return target_results(res.value or [])
    return PlannedCheck("targets", "target", run, prometheus=True, names=(("target:", True), ("targets", False)))


@dataclass(frozen=True)
class SilenceIndex:
    """Which Prometheus alerts Alertmanager reports as silenced, matched on labels."""

    silenced: tuple[tuple[frozenset, tuple[str, ...]], ...] = ()
    error: str = ""

    def silenced_by(self, labels) -> tuple[str, ...]:
        mine = set(labels.items())
        for am_labels, ids in self.silenced:
            if mine <= am_labels or am_labels <= mine:
                return ids
        return ()


async def silence_index(am: AlertmanagerClient | None) -> SilenceIndex:
    if am is None:
        return SilenceIndex()
    res = await am.alerts(active=True, silenced=True, inhibited=True)
    if not res.ok:
        return SilenceIndex(error=res.error.message if res.error else "Alertmanager error")
    rows = tuple((frozenset(a.labels.items()), tuple(a.silenced_by)) for a in (res.value or []) if a.silenced_by)
    return SilenceIndex(silenced=rows)


def alert_results(alerts, silences: SilenceIndex, ignore: Sequence[re.Pattern]) -> list[CheckResult]:
    out = []
    for a in alerts:
        name = a.labels.get("alertname", "?")
        if any(p.search(name) for p in ignore):
            continue
        key = f"alert:{name}" + (_series_name({k: v for k, v in a.labels.items()
                                                 if k not in ("alertname", "severity")}))
        summary = clean(a.annotations.get("summary") or a.annotations.get("description") or name, max_len=200)
        severity = a.labels.get("severity", "")
        ids = silences.silenced_by(a.labels)
        if a.state != "firing":
            out.append(CheckResult(key, "alert", Status.OK, f"pending ({severity or 'no severity'}): {summary}"))
        elif ids:
            out.append(CheckResult(key, "alert", Status.OK, f"silenced by {', '.join(ids)}: {summary}",
                                   silenced=True))
        else:
            status = SEVERITY.get(severity.lower(), Status.WARNING)
            out.append(CheckResult(key, "alert", status, f"firing ({severity or 'no severity'}): {summary}",
                                   value=a.value))
    return out


async def discover_alertmanager(prom: PrometheusClient, endpoint: Endpoint) -> AlertmanagerClient | None:
    """No [alertmanager] configured: the one Prometheus sends its alerts to (/api/v1/alertmanagers),
    with `endpoint`'s auth and a short timeout; None when Prometheus names none (silences are then
    simply not read: no UNKNOWN for an Alertmanager nobody configured, on every run)."""
    res = await prom.alertmanagers()
    if not res.ok or not res.value:
        return None
    return AlertmanagerClient(replace(endpoint, url=res.value[0], timeout=min(endpoint.timeout, 3.0)))


def plan_alerts(prom: PrometheusClient, am: AlertmanagerClient | None, ignore: Sequence[re.Pattern],
                discover: Endpoint | None = None) -> PlannedCheck:
    """Firing alerts, with Alertmanager's silences. With `discover` (and no `am`), the Alertmanager
    is found through Prometheus inside this check, so only a selected alerts check asks, and under
    the run's deadline; one found that way that does not answer is a note, never a failure."""
    async def run(remaining: float) -> list[CheckResult]:
        import asyncio

        client = am
        if client is None and discover is not None:
            client = await discover_alertmanager(prom, discover)
        found = client is not None and client is not am
        try:
            res, silences = await asyncio.gather(prom.alerts(), silence_index(client))
        finally:
            if found:
                await client.aclose()
        if not res.ok:
            return [CheckResult("alerts", "alert", Status.UNKNOWN, clean(res.error.message))]
        out = alert_results(res.value or [], silences, ignore)
        if silences.error and not found:
            out.append(CheckResult("alertmanager", "alert", Status.UNKNOWN,
                                   f"cannot read silences: {clean(silences.error, max_len=200)}"))
        if not out:
            out.append(CheckResult("alerts", "alert", Status.OK, "no alerts firing"))
        if silences.error and found:  # found through Prometheus: maybe not reachable from here
            note = (f"Alertmanager {client.endpoint.display} (from Prometheus' /api/v1/alertmanagers) did not "
                    f"answer: silences not read ({clean(silences.error, max_len=160)})")
            out = [replace(r, details=r.details + (note,)) if r.kind == "alert" else r for r in out]
        return out
    return PlannedCheck("alerts", "alert", run, prometheus=True,
                        names=(("alert:", True), ("alerts", False), ("alertmanager", False)))


def health_services(cfg: Config, opts: CheckOptions) -> list[Service]:
    """The configured services plus every --url, as health checks."""
    return list(cfg.services) + [url_service(u, min(opts.deadline_s, 10.0)) for u in opts.urls]


def build_plan(cfg: Config, opts: CheckOptions, prom: PrometheusClient | None,
               am: AlertmanagerClient | None, pool: ClientPool | None = None,
               discover_alertmanager: bool = False) -> list[PlannedCheck]:
    plan = plan_health(health_services(cfg, opts), pool)
    if prom is not None:
        plan += plan_rules(prom, cfg.rules)
        if opts.include_targets:
            plan.append(plan_targets(prom))
        if opts.include_alerts:
            discover = cfg.alertmanager if (discover_alertmanager and am is None) else None
            plan.append(plan_alerts(prom, am, opts.ignore_alerts, discover))
        slo = plan_slo(prom, cfg)
        if slo is not None:
            plan.append(slo)
    return plan


# -- SLOs on the detected signals ([slo] in the config) -------------------------------------------

def slo_results(values, availability, slo) -> list[CheckResult]:
    """Compare detected signals with the [slo] targets; a breach is CRITICAL.

    values: SignalValue list (error_rate, latency_p95 per serving system); availability:
    {job: fraction of scrapes up over the window}. Signals a system does not export are not
    checks at all; no traffic is OK and says so.
    """
    from probes.units import format_value

    targets = {"error_rate": slo.error_rate, "latency_p95": slo.latency_p95}
    out: list[CheckResult] = []
    for v in values:
        target = targets.get(v.signal)
        if target is None or v.state == "not_exported":
            continue
        name = f"slo:{v.system}:{v.job or 'all'}:{v.signal}"
        unit = v.unit
        limit = format_value(target, unit)
        if v.state == "no_traffic":
            out.append(CheckResult(name, "slo", Status.OK, f"no traffic (target < {limit})", unit=unit))
        elif v.state != "ok" or v.value is None:
            out.append(CheckResult(name, "slo", Status.UNKNOWN, clean(v.reason or v.state, max_len=200), unit=unit))
        else:
            out.append(_slo_value(name, v, target, limit))
    if slo.availability is not None:
        for job, frac in sorted(availability.items()):
            bad = frac < slo.availability
            summary = (f"availability {frac * 100:.3f} % {'below' if bad else 'meets'} the target "
                       f"{slo.availability * 100:g} %")
            out.append(CheckResult(f"slo:{job}:availability", "slo", Status.CRITICAL if bad else Status.OK,
                                   summary, value=frac, unit="ratio"))
    return out


def _slo_value(name: str, v, target: float, limit: str) -> CheckResult:
    """One SLO against one value. A quantile is judged on its histogram bucket, never on the
    interpolated value (probes.buckets.slo_verdict): the buckets may not be able to tell."""
    from probes.buckets import bucket_text, slo_verdict
    from probes.units import format_value

    unit = v.unit
    perf = (Perf(name, v.value, "s" if unit == "s" else "", "", f"{target:g}"),)
    if v.signal != "latency_p95":
        bad = v.value > target
        summary = f"error rate {format_value(v.value, unit)} {'over' if bad else 'within'} the target < {limit}"
        return CheckResult(name, "slo", Status.CRITICAL if bad else Status.OK, summary, value=v.value, unit=unit,
                           perfdata=perf)
    verdict = slo_verdict(v.bucket, v.value, target)
    shown = f"p95 {v.text}" + (f", {v.note}" if v.note else "")
    if verdict == "cannot_tell":
        where = "" if v.note else f" ({bucket_text(v.bucket, unit)})"
        summary = (f"{shown}{where}: the buckets cannot tell whether it is within the target < {limit} "
                   "(a bucket boundary at the target would)")
        return CheckResult(name, "slo", Status.OK, summary, value=v.value, unit=unit, perfdata=perf)
    bad = verdict == "breach"
    summary = f"{shown} {'over' if bad else 'within'} the target < {limit}"
    return CheckResult(name, "slo", Status.CRITICAL if bad else Status.OK, summary, value=v.value, unit=unit,
                       perfdata=perf)


def plan_slo(prom: PrometheusClient, cfg: Config) -> PlannedCheck | None:
    slo = cfg.slo
    if slo.error_rate is None and slo.latency_p95 is None and slo.availability is None:
        return None

    async def run(remaining: float) -> list[CheckResult]:
        import asyncio

        from probes.catalogue import SERVING
        from probes.detect import detect
        from probes.profiles import load_profiles
        from probes.promql import duration
        from probes.signals import evaluate

        det = await detect(prom, load_profiles(cfg.profiles_dir), timeout=remaining)
        if det.error:
            return [CheckResult("slo", "slo", Status.UNKNOWN, clean(det.error, max_len=200))]
        serving = [d for d in det.systems if d.profile.kind in SERVING]
        jobs = sorted({d.job for d in serving if d.job})
        avail_q = f'avg by (job) (avg_over_time(up{{job=~"{"|".join(jobs)}"}}[{duration(slo.window)}]))'
        values, avail = await asyncio.gather(
            evaluate(prom, serving, cfg, window=slo.window, timeout=remaining,
                     only=("error_rate", "latency_p95")),
            prom.query(avail_q, timeout=remaining) if (jobs and slo.availability is not None) else _none())
        availability = {}
        if avail is not None and avail.ok:
            availability = {s.labels.get("job", "?"): s.value for s in avail.samples if s.value is not None}
        out = slo_results(values, availability, slo)
        if avail is not None and not avail.ok:
            out.append(CheckResult("slo:availability", "slo", Status.UNKNOWN, clean(avail.error.message)))
        return out or [CheckResult("slo", "slo", Status.UNKNOWN, "no serving system detected for the [slo] checks")]

    return PlannedCheck("slo", "slo", run, prometheus=True, names=(("slo:", True), ("slo", False)))


async def _none():
    return None
