"""Which profiles apply to which jobs, from the metric names Prometheus holds.

Why per job: one Prometheus usually scrapes a gateway, an engine, a GPU exporter and
node_exporter at once, and two of them may both export http_requests_total. One query,

    group by (job, __name__) ({__name__=~"<every name any profile looks for>"})

maps names to jobs in a single round trip; the targets API adds jobs and scrape intervals.
On one job the highest-priority serving profile (gateway, engine, generic) wins, so a specific
profile beats the generic http_* one; gpu and host profiles add to it (a Python service has
both its own metrics and process_resident_memory_bytes). If the grouping query fails, the
names from /label/__name__/values still say which systems exist, unscoped, with a warning.

A system whose target goes down stays: its series vanish from the instant query (stale markers),
so the systems of a job whose targets are all down come from the previous detection, or else
from the names the job had in the last hour (last_over_time), and carry `down` (the scrape
error): the views show them as DOWN instead of dropping them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

from probes.catalogue import SERVING
from probes.durations import DurationError, parse_duration
from probes.profiles import Profile
from probes.promql import regex_alternation


@dataclass(frozen=True)
class Detected:
    """One profile applied to one job (job None: a global profile, or unscoped fallback)."""

    profile: Profile
    job: str | None
    matched: tuple[str, ...]                 # the detection metric names found
    metrics: frozenset[str] | None = None    # names of interest present on the job (None: unknown)
    scrape_interval: float | None = None     # seconds, from the targets API
    down: str = ""                           # why its target is down ("" when up): kept on screen as DOWN

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def title(self) -> str:
        return self.profile.title

    @property
    def scope(self) -> dict[str, str]:
        return {} if self.job is None else {"job": self.job}


@dataclass(frozen=True)
class Detection:
    systems: tuple[Detected, ...]
    names_by_job: Mapping[str, frozenset[str]] = field(default_factory=dict)
    jobs: tuple[str, ...] = ()                          # jobs with targets
    scrape_intervals: Mapping[str, float] = field(default_factory=dict)
    targets: tuple[Any, ...] = ()                       # probes.promtypes.Target
    warnings: tuple[str, ...] = ()
    error: str | None = None                            # set when nothing could be read

    def for_job(self, job: str) -> list[Detected]:
        return [d for d in self.systems if d.job == job]

    @property
    def scrape_interval(self) -> float | None:
        """The longest scrape interval: rate windows must cover it for every job."""
        return max(self.scrape_intervals.values(), default=None)


def names_regex(profiles: Iterable[Profile]) -> str:
    names: set[str] = set()
    for p in profiles:
        names |= p.metric_names()
    return "|".join(sorted(names))


def detection_query(profiles: Iterable[Profile]) -> str:
    return f'group by (job, __name__) ({{__name__=~"{names_regex(profiles)}"}})'


def match_profiles(profiles: Sequence[Profile], names_by_job: Mapping[str | None, Iterable[str]],
                   intervals: Mapping[str, float] | None = None) -> list[Detected]:
    """Pure detection: profiles x jobs -> Detected, with serving profiles exclusive per job."""
    intervals = intervals or {}
    found: list[Detected] = []
    all_names: set[str] = set()
    for names in names_by_job.values():
        all_names |= set(names)
    for job in sorted(names_by_job, key=lambda j: (j is None, j or "")):
        names = frozenset(names_by_job[job])
        serving: list[Detected] = []
        for p in profiles:
            if p.is_global:
                continue
            hit = p.matches(names)
            if hit is None:
                continue
            d = Detected(p, job, hit, names, intervals.get(job) if job else None)
            (serving if p.kind in SERVING else found).append(d)
        if serving and job is None:
            # unscoped (fallback): jobs are unknown, so keep every specific match; the generic
            # profile only when nothing specific matched
            specific = [d for d in serving if d.profile.kind != "generic"]
            found.extend(specific or serving)
        elif serving:
            serving.sort(key=lambda d: (-d.profile.priority, d.profile.name))
            found.append(serving[0])
    for p in profiles:
        if p.is_global:
            hit = p.matches(all_names)
            if hit is not None:
                found.append(Detected(p, None, hit, frozenset(all_names), max(intervals.values(), default=None)))
    order = {k: i for i, k in enumerate(("gateway", "engine", "generic", "gpu", "host"))}
    found.sort(key=lambda d: (d.profile.is_global, order[d.profile.kind], d.job or "", d.profile.name))
    return found


def _interval(text: str) -> float | None:
    try:
        return parse_duration(text) if text else None
    except DurationError:
        return None


DOWN_LOOKBACK = "1h"


def _down_jobs(targets: Sequence[Any]) -> dict[str, str]:
    """job -> why, for jobs whose every target is down."""
    health: dict[str, list[Any]] = {}
    for t in targets:
        health.setdefault(t.job, []).append(t)
    return {job: (ts[0].last_error or "down") for job, ts in health.items() if all(t.health == "down" for t in ts)}


async def _keep_down(client, profiles: Sequence[Profile], systems: list[Detected], down: Mapping[str, str],
                     intervals: Mapping[str, float], previous: "Detection | None", timeout: float | None) -> list[Detected]:
    """Systems of down jobs: from the previous detection, else from the last hour's names."""
    have = {d.job for d in systems if d.profile.kind in SERVING}
    lost = [j for j in down if j not in have]
    kept = [d for d in (previous.systems if previous else ()) if d.job in lost]
    lost = [j for j in lost if j not in {d.job for d in kept}]
    if lost:
        names = "|".join(sorted(set().union(*(p.metric_names() for p in profiles))))
        jobs = regex_alternation(lost)
        res = await client.query(f'group by (job, __name__) (last_over_time({{job=~"{jobs}", __name__=~"{names}"}}'
                                 f'[{DOWN_LOOKBACK}]))', timeout=timeout)
        seen: dict[str | None, set[str]] = {}
        for smp in (res.samples if res.ok else ()):
            seen.setdefault(smp.labels.get("job", ""), set()).add(smp.labels.get("__name__", ""))
        kept += [d for d in match_profiles(profiles, seen, intervals) if not d.profile.is_global]
    out = [replace(d, down=down[d.job]) if d.job in down else d for d in systems + kept]
    return out


async def detect(client, profiles: Sequence[Profile], timeout: float | None = None,
                 previous: "Detection | None" = None) -> Detection:
    """Ask Prometheus which profiles apply where. Never raises for server trouble: see .error.

    previous: the last detection, whose systems are kept (as down) when their jobs go down."""
    query = detection_query(profiles)
    res, targets = await asyncio.gather(client.query(query, timeout=timeout), client.targets())
    warnings: list[str] = []
    jobs: list[str] = []
    intervals: dict[str, float] = {}
    target_list: tuple = ()
    if targets.ok and targets.value is not None:
        target_list = tuple(targets.value)
        for t in target_list:
            job = t.job
            if job not in jobs:
                jobs.append(job)
            iv = _interval(getattr(t, "scrape_interval", ""))
            if iv is not None:
                intervals[job] = max(intervals.get(job, 0.0), iv)
    elif targets.error is not None:
        warnings.append(f"targets: {targets.error.message}")
    names_by_job: dict[str | None, set[str]] = {}
    if res.ok:
        for s in res.samples:
            name = s.labels.get("__name__")
            if name:
                names_by_job.setdefault(s.labels.get("job", ""), set()).add(name)
    else:
        msg = res.error.message if res.error else "query failed"
        warnings.append(f"detection query failed ({msg}); falling back to metric names without jobs")
        names = await client.label_values("__name__")
        if not names.ok:
            err = names.error.message if names.error else "label values failed"
            return Detection((), {}, tuple(jobs), intervals, target_list, tuple(warnings), err)
        wanted = set().union(*(p.metric_names() for p in profiles))
        names_by_job[None] = {n for n in names.value or () if n in wanted}
    systems = match_profiles(profiles, names_by_job, intervals)
    down = _down_jobs(target_list)
    if down:
        systems = await _keep_down(client, profiles, systems, down, intervals, previous, timeout)
    frozen = {k or "": frozenset(v) for k, v in names_by_job.items()}
    return Detection(tuple(systems), frozen, tuple(jobs), intervals, target_list, tuple(warnings), None)
