"""What `llmwatch doctor` finds: the Prometheus reached, systems detected, every signal's value
and PromQL, target health, and what in the config is unused or wrong.

Why in probes/ and not in the command: it is all I/O and judgement, no presentation; the text
and JSON views in tui/cmd_doctor.py only lay it out, and tests can check the findings without
parsing text. Nothing here raises for server trouble: an unreachable Prometheus is a report
with reached=False and a one-line reason.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Sequence

from probes.config import Config
from probes.detect import Detected, Detection, detect
from probes.profiles import Profile, ProfileError, builtin_profiles, load_profiles
from probes.promql import MIN_NOW_WINDOW, now_window, scope_matchers
from probes.signals import SignalValue, evaluate
from probes.textsafe import one_line

MIN_WINDOW_S = MIN_NOW_WINDOW  # the dashboard's Now row uses the same window


@dataclass(frozen=True)
class Issue:
    level: str      # error | warning | info
    where: str      # the config key or system it is about
    message: str


@dataclass(frozen=True)
class DoctorReport:
    url: str
    reached: bool
    reason: str = ""                      # one line when not reached
    version: str = ""
    elapsed_s: float = 0.0
    window: float = MIN_WINDOW_S
    window_why: str = ""
    detection: Detection | None = None
    values: tuple[SignalValue, ...] = ()
    issues: tuple[Issue, ...] = ()
    providers: tuple[tuple[str, str, str], ...] = ()   # (system, provider, "local"|"cloud")
    models: tuple[tuple[str, str], ...] = ()           # (system, model) seen in series
    config_source: str | None = None

    def values_for(self, d: Detected) -> list[SignalValue]:
        return [v for v in self.values if v.system == d.name and v.job == d.job]


def choose_window(detection: Detection | None, given: float | None) -> tuple[float, str]:
    """The rate window: the user's, else 4 x the longest scrape interval, at least 1m."""
    if given:
        return given, "from --window"
    scrape = detection.scrape_interval if detection else None
    if scrape:
        return now_window(scrape), f"4 x the longest scrape interval ({scrape:g}s), at least {MIN_WINDOW_S:g}s"
    return MIN_WINDOW_S, "default (scrape interval unknown)"


async def _reach(client) -> tuple[bool, str, str, float]:
    t0 = time.monotonic()
    info = await client.buildinfo()
    if info.ok and isinstance(info.value, dict):
        return True, "", str(info.value.get("version", "")), time.monotonic() - t0
    probe = await client.query("vector(1)")  # Prometheus-compatible servers without buildinfo
    if probe.ok:
        return True, "", "", time.monotonic() - t0
    err = probe.error or info.error
    return False, one_line(err.message if err else "no answer"), "", time.monotonic() - t0


def _label_values_query(d: Detected, label: str) -> str:
    matchers = scope_matchers(d.scope)
    sep = ", " if matchers else ""
    return f'group by ({label}) ({{{matchers}{sep}{label}!=""}})'


def _model_label(p: Profile) -> str | None:
    if p.model_label:
        return p.model_label
    for alts in p.signals.values():
        for spec in alts:
            if spec.method == "priced" and spec.price == "table":
                return spec.model_label
    return None


def _prices_tokens(p: Profile) -> bool:
    return any(spec.method == "priced" and spec.price == "table" for alts in p.signals.values() for spec in alts)


async def _labels(client, d: Detected, label: str) -> list[str]:
    if d.job is None:
        return []
    res = await client.query(_label_values_query(d, label))
    if not res.ok:
        return []
    return sorted({s.labels.get(label, "") for s in res.samples} - {""})


async def _rule_issue(client, rule) -> Issue | None:
    res = await client.query(rule.promql)
    if res.ok:
        return None
    msg = res.error.message if res.error else "query failed"
    return Issue("error", f"rules.{rule.name}", f"its PromQL fails: {one_line(msg)}")


async def run_doctor(config: Config, client, window: float | None = None,
                     profiles: Sequence[Profile] | None = None) -> DoctorReport:
    url = config.prometheus.display
    reached, reason, version, elapsed = await _reach(client)
    if not reached:
        return DoctorReport(url, False, reason=reason, elapsed_s=elapsed, config_source=config.source)
    issues: list[Issue] = []
    if profiles is None:
        try:
            profiles = load_profiles(config.profiles_dir)
        except ProfileError as exc:
            issues.append(Issue("error", "profiles_dir", f"{exc} (using the built-in profiles)"))
            profiles = builtin_profiles()
    detection = await detect(client, profiles)
    issues += [Issue("warning", "detection", w) for w in detection.warnings]
    if detection.error:
        issues.append(Issue("error", "detection", detection.error))
    win, why = choose_window(detection, window)
    systems = list(detection.systems)

    label_jobs: list[tuple[Detected, str, str]] = []  # (detected, label, "model"|"provider")
    for d in systems:
        ml = _model_label(d.profile)
        if ml:
            label_jobs.append((d, ml, "model"))
        if d.profile.provider_label:
            label_jobs.append((d, d.profile.provider_label, "provider"))
    values, label_vals, rule_issues = await asyncio.gather(
        evaluate(client, systems, config, win),
        asyncio.gather(*(_labels(client, d, lab) for d, lab, _ in label_jobs)),
        asyncio.gather(*(_rule_issue(client, r) for r in config.rules)))
    issues += [i for i in rule_issues if i is not None]

    models: list[tuple[str, str]] = []
    providers: list[tuple[str, str, str]] = []
    local = {p.lower() for p in config.routing.local_providers}
    for (d, _, what), vals in zip(label_jobs, label_vals):
        for v in vals:
            if what == "model":
                models.append((d.name, v))
            else:
                kind = "local" if v.lower() in local or v == "local" else "cloud"
                providers.append((d.name, v, kind))
    issues += _config_issues(config, detection, systems, models)
    if not systems:
        issues.append(Issue("warning", "detection", "no known system found in this Prometheus: is it scraping "
                            "your LLM services? Unknown exporters need a profile in profiles_dir"))
    return DoctorReport(url, True, version=version, elapsed_s=elapsed, window=win, window_why=why,
                        detection=detection, values=tuple(values), issues=tuple(issues),
                        providers=tuple(providers), models=tuple(models), config_source=config.source)


def _config_issues(config: Config, detection: Detection, systems: list[Detected],
                   models: list[tuple[str, str]]) -> list[Issue]:
    issues: list[Issue] = []
    seen_models = {m for _, m in models}
    for model in sorted(config.prices):
        if model not in seen_models and model != config.routing.cloud_reference:
            hint = f" (models seen: {', '.join(sorted(seen_models))})" if seen_models else ""
            issues.append(Issue("warning", f'prices."{model}"', f"no series carries this model{hint}"))
    priced_systems = {d.name for d in systems if _prices_tokens(d.profile)}
    for system, model in models:
        if system in priced_systems and model not in config.prices:
            issues.append(Issue("info", system, f"model {model!r} has token counts but no [prices] entry: "
                                "its tokens add nothing to cost"))
    jobs = set(detection.jobs) | {j for j in detection.names_by_job if j}
    for svc in config.services:
        if svc.job and jobs and svc.job not in jobs:
            issues.append(Issue("warning", f"services.{svc.name}.job",
                                f"no scrape target has job {svc.job!r} (jobs: {', '.join(sorted(jobs))})"))
    return issues


def report_json(r: DoctorReport) -> dict[str, Any]:
    """Plain data for --format json: per system its name, job and signals (no NaN anywhere)."""
    out: dict[str, Any] = {"prometheus": {"url": r.url, "reached": r.reached, "version": r.version,
                                          "reason": r.reason, "elapsed_s": round(r.elapsed_s, 4)}}
    if not r.reached:
        return out
    det = r.detection
    out["window_s"] = r.window
    out["targets"] = [{"job": t.job, "instance": t.labels.get("instance", ""), "health": t.health,
                       "scrape_url": t.scrape_url, "scrape_interval": t.scrape_interval,
                       "last_error": one_line(t.last_error), "problems": list(t.problems)}
                      for t in (det.targets if det else ())]
    out["systems"] = [{
        "name": d.name, "title": d.title, "kind": d.profile.kind, "job": d.job, "matched": list(d.matched),
        "signals": [{"name": v.signal, "label": v.label, "value": v.value, "unit": v.unit, "text": v.text,
                     "state": v.state, "method": v.method, "query": v.query, "reason": v.reason,
                     "bucket": list(v.bucket) if v.bucket and all(b != float("inf") for b in v.bucket) else None,
                     "breakdown": [{"labels": dict(p.labels), "value": p.value} for p in v.breakdown]}
                    for v in r.values_for(d)],
    } for d in (det.systems if det else ())]
    out["providers"] = [{"system": s, "provider": p, "routing": k} for s, p, k in r.providers]
    out["issues"] = [{"level": i.level, "where": i.where, "message": i.message} for i in r.issues]
    return out


__all__ = ["DoctorReport", "Issue", "choose_window", "report_json", "run_doctor"]
