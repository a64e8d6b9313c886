"""One alerts view from two sources: what Prometheus evaluates and what Alertmanager routes.

Why merge: pending alerts exist only in Prometheus (/api/v1/alerts), silences and inhibitions
only in Alertmanager (/api/v2/alerts, /api/v2/silences). A person on call wants one row per alert
saying both "how long has it been firing" and "is somebody already on it (silenced)".

Matching: Alertmanager keeps the labels Prometheus sent. Prometheus adds its external_labels
(and alert_relabel_configs may add more) on the way, so an Alertmanager alert's label set is a
superset of the Prometheus one. We pair each Prometheus alert with the Alertmanager alert whose
labels contain all of its labels and add the fewest others, one to one: {alertname=X} and
{alertname=X, instance=a} both are subsets of the latter's AM labels, and the fewest-extras rule
gives each its own. Alertmanager alerts left unpaired (sent by another Prometheus, or ours is
down) are rows too: they are firing as far as anyone can tell.

Either source may be missing (None: not configured) or failing: the view then carries that
source's error and the other source's rows, never an exception.
"""

from __future__ import annotations

import asyncio
import getpass
import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Sequence

from probes.alertmanager import AmAlert, Matcher, Silence
from probes.durations import DurationError, parse_duration
from probes.promtypes import ApiError, ApiResult, PromAlert, RuleGroup
from probes.status import Status, worst

__all__ = ["AlertRow", "RuleProblem", "AlertsView", "load_alerts", "with_stale", "merge", "sort_key", "rule_problems",
           "silence_matchers", "parse_silence_duration", "default_author", "validate_silence", "SilenceSpec", "age_text", "span_text",
           "AM_NOT_IN", "AM_UNKNOWN", "SEVERITY_RANK", "DEFAULT_SILENCE", "view_status"]

AM_NOT_IN = "not in Alertmanager"
AM_UNKNOWN = ""  # no Alertmanager answer to compare with (not configured, or failing)
DEFAULT_SILENCE = "2h"
SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}  # anything else ranks after info


@dataclass(frozen=True)
class AlertRow:
    name: str
    labels: Mapping[str, str]          # Prometheus' labels (Alertmanager's for AM-only rows)
    annotations: Mapping[str, str]
    severity: str
    state: str                         # pending | firing
    active_since: datetime | None
    value: float | None                # the expression's value; None for AM-only rows
    am_state: str = AM_UNKNOWN         # active | suppressed | unprocessed | AM_NOT_IN | AM_UNKNOWN
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    am_labels: Mapping[str, str] = field(default_factory=dict)  # as Alertmanager holds them
    source: str = "prometheus"         # prometheus | alertmanager (seen only there)
    fingerprint: str = ""

    @property
    def summary(self) -> str:
        return self.annotations.get("summary", "")

    @property
    def description(self) -> str:
        return self.annotations.get("description", "")

    @property
    def suppressed(self) -> bool:
        return self.am_state == "suppressed"


@dataclass(frozen=True)
class RuleProblem:
    """An alerting or recording rule Prometheus could not evaluate: its alert can never fire."""

    rule: str
    group: str
    file: str
    error: str
    type: str = "alerting"


@dataclass(frozen=True)
class AlertsView:
    rows: tuple[AlertRow, ...] = ()
    rule_problems: tuple[RuleProblem, ...] = ()
    silences: tuple[Silence, ...] = ()          # active and pending, soonest end first
    errors: Mapping[str, str] = field(default_factory=dict)  # "prometheus" | "alertmanager" | "rules"
    prometheus: bool = False                    # was the source asked at all (configured)?
    alertmanager: bool = False
    prom_alerts: tuple[PromAlert, ...] | None = None  # what each source said (None: no answer),
    am_alerts: tuple[AmAlert, ...] | None = None      # kept to re-merge with stale data
    stale: frozenset[str] = frozenset()         # sources whose rows are from an earlier poll

    @property
    def firing(self) -> tuple[AlertRow, ...]:
        return tuple(r for r in self.rows if r.state == "firing")

    @property
    def unsuppressed_firing(self) -> tuple[AlertRow, ...]:
        return tuple(r for r in self.rows if r.state == "firing" and not r.suppressed)

    def ok(self, source: str) -> bool:
        return source not in self.errors


# -- merge and sort ------------------------------------------------------------------------------

def sort_key(row: AlertRow) -> tuple:
    """Firing before pending; critical > warning > info > other; oldest first; then by name."""
    since = row.active_since.timestamp() if row.active_since else float("inf")
    return (0 if row.state == "firing" else 1, SEVERITY_RANK.get(row.severity.lower(), 3), since, row.name,
            sorted(row.labels.items()))


def _pair(prom: Sequence[PromAlert], am: Sequence[AmAlert]) -> dict[int, int]:
    """Prometheus index -> Alertmanager index, one to one, fewest extra labels first."""
    candidates = []
    for i, p in enumerate(prom):
        mine = set(p.labels.items())
        for j, a in enumerate(am):
            theirs = set(a.labels.items())
            if mine <= theirs:
                candidates.append((len(theirs) - len(mine), i, j))
    candidates.sort()
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for _, i, j in candidates:
        if i not in pairs and j not in used:
            pairs[i] = j
            used.add(j)
    return pairs


def merge(prom: Sequence[PromAlert] | None, am: Sequence[AmAlert] | None) -> list[AlertRow]:
    """Rows for every alert either source knows. None means "no answer from that source"."""
    prom = list(prom or ())
    am_list = list(am or ())
    pairs = _pair(prom, am_list) if am is not None else {}
    rows: list[AlertRow] = []
    for i, p in enumerate(prom):
        if p.state not in ("pending", "firing"):
            continue  # inactive alerts only appear inside rules
        base = dict(name=p.name, labels=dict(p.labels), annotations=dict(p.annotations),
                    severity=str(p.labels.get("severity", "")), state=p.state, active_since=p.active_at,
                    value=p.value)
        if am is None:
            rows.append(AlertRow(**base))
        elif i in pairs:
            a = am_list[pairs[i]]
            rows.append(AlertRow(**base, am_state=a.state or "unprocessed", silenced_by=tuple(a.silenced_by),
                                 inhibited_by=tuple(a.inhibited_by), am_labels=dict(a.labels),
                                 fingerprint=a.fingerprint))
        else:
            rows.append(AlertRow(**base, am_state=AM_NOT_IN))
    paired = set(pairs.values())
    for j, a in enumerate(am_list):
        if j in paired:
            continue
        rows.append(AlertRow(name=a.name, labels=dict(a.labels), annotations=dict(a.annotations),
                             severity=str(a.labels.get("severity", "")), state="firing", active_since=a.starts_at,
                             value=None, am_state=a.state or "unprocessed", silenced_by=tuple(a.silenced_by),
                             inhibited_by=tuple(a.inhibited_by), am_labels=dict(a.labels), source="alertmanager",
                             fingerprint=a.fingerprint))
    rows.sort(key=sort_key)
    return rows


def rule_problems(groups: Iterable[RuleGroup]) -> list[RuleProblem]:
    return [RuleProblem(rule=r.name, group=g.name, file=g.file, error=r.last_error or "health: err", type=r.type)
            for g in groups for r in g.rules if r.health == "err"]


def _live_silences(silences: Iterable[Silence]) -> list[Silence]:
    far = datetime.max.replace(tzinfo=timezone.utc)
    live = [s for s in silences if s.state in ("active", "pending")]
    return sorted(live, key=lambda s: (0 if s.state == "active" else 1, s.ends_at or far, s.id))


# -- fetching ------------------------------------------------------------------------------------

async def _bounded(call, timeout: float, client: Any) -> ApiResult:
    """One API call under a hard deadline; a timeout becomes a failed ApiResult like any other."""
    try:
        return await asyncio.wait_for(call, timeout)
    except asyncio.TimeoutError:
        return ApiResult(ok=False, error=ApiError("timeout", f"{client.system} at {client.display}: "
                                                             f"no answer within {timeout:g}s"))


def _err(res: ApiResult, what: str) -> str:
    return res.error.message if res.error else f"{what}: no data"


async def load_alerts(prom: Any, am: Any, timeout: float = 10.0) -> AlertsView:
    """Ask both sources at once (each under `timeout`) and merge. A None client is not asked."""
    calls = []
    if prom is not None:
        calls += [_bounded(prom.alerts(), timeout, prom), _bounded(prom.rules(), timeout, prom)]
    if am is not None:
        calls += [_bounded(am.alerts(active=True, silenced=True, inhibited=True), timeout, am),
                  _bounded(am.silences(), timeout, am)]
    results = list(await asyncio.gather(*calls))
    errors: dict[str, str] = {}
    prom_alerts = problems = None
    am_alerts = silences = None
    if prom is not None:
        alerts_res, rules_res = results.pop(0), results.pop(0)
        if alerts_res.ok:
            prom_alerts = alerts_res.value or []
        else:
            errors["prometheus"] = _err(alerts_res, "Prometheus")
        if rules_res.ok:
            problems = rule_problems(rules_res.value or [])
        elif alerts_res.ok:  # the same outage twice says nothing new
            errors["rules"] = _err(rules_res, "Prometheus rules")
    if am is not None:
        am_res, sil_res = results.pop(0), results.pop(0)
        if am_res.ok:
            am_alerts = am_res.value or []
        else:
            errors["alertmanager"] = _err(am_res, "Alertmanager")
        if sil_res.ok:
            silences = _live_silences(sil_res.value or [])
        elif am_res.ok:
            errors["silences"] = _err(sil_res, "Alertmanager silences")
    rows = merge(prom_alerts, am_alerts)
    return AlertsView(rows=tuple(rows), rule_problems=tuple(problems or ()), silences=tuple(silences or ()),
                      errors=errors, prometheus=prom is not None, alertmanager=am is not None,
                      prom_alerts=None if prom_alerts is None else tuple(prom_alerts),
                      am_alerts=None if am_alerts is None else tuple(am_alerts))


def with_stale(new: AlertsView, old: AlertsView | None) -> AlertsView:
    """`new`, where a source failed this time but answered before, filled with its last answer.

    Why: a Prometheus restart should not make every alert vanish from the screen for a poll; the
    rows stay, marked stale (the screen says "stale since HH:MM:SS"), and the error still shows.
    """
    if old is None:
        return new
    prom_alerts, am_alerts = new.prom_alerts, new.am_alerts
    problems, silences, stale = new.rule_problems, new.silences, set()
    if "prometheus" in new.errors and prom_alerts is None and old.prom_alerts is not None:
        prom_alerts, problems = old.prom_alerts, old.rule_problems
        stale.add("prometheus")
    if "alertmanager" in new.errors and am_alerts is None and old.am_alerts is not None:
        am_alerts, silences = old.am_alerts, old.silences
        stale.add("alertmanager")
    if not stale:
        return new
    return replace(new, rows=tuple(merge(prom_alerts, am_alerts)), rule_problems=problems, silences=silences,
                   prom_alerts=prom_alerts, am_alerts=am_alerts, stale=frozenset(stale))


# -- silences ------------------------------------------------------------------------------------

def silence_matchers(row: AlertRow) -> list[Matcher]:
    """Equality matchers on every label of the alert, alertname first.

    All labels, like Alertmanager's own "Silence" button: the silence then covers exactly this
    alert and not its siblings on other instances. A person widens it by deleting matchers.
    Alertmanager's labels are used when we have them (they include external labels), so the
    silence is identical to the one the Alertmanager UI would create.
    """
    labels = row.am_labels or row.labels
    names = sorted(labels, key=lambda k: (k != "alertname", k))
    return [Matcher(k, str(labels[k])) for k in names]


def parse_silence_duration(text: str) -> float:
    """'2h', '90m', '1d' -> seconds; raises ValueError with a one-line message."""
    try:
        seconds = parse_duration(text)
    except DurationError as exc:
        raise ValueError(str(exc)) from None
    if seconds <= 0:
        raise ValueError(f"silence duration must be positive, got {text!r}")
    return seconds


def default_author() -> str:
    """$USER, like amtool's --author default; the login name when USER is unset."""
    user = os.environ.get("USER") or os.environ.get("LOGNAME")
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in a container
        return "llmwatch"


@dataclass(frozen=True)
class SilenceSpec:
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    author: str
    comment: str


def validate_silence(matchers: Sequence[Matcher], duration: str | float, comment: str, author: str | None,
                     now: float) -> SilenceSpec:
    """Everything a silence needs, checked before any request; ValueError says what is missing."""
    if not matchers:
        raise ValueError("a silence needs at least one matcher, e.g. alertname=GatewayHighErrorRate")
    if not (comment or "").strip():
        raise ValueError('a silence needs a comment saying why (--comment "deploying fix"), as amtool requires')
    seconds = duration if isinstance(duration, (int, float)) else parse_silence_duration(duration)
    if seconds <= 0:
        raise ValueError("silence duration must be positive")
    start = datetime.fromtimestamp(now, tz=timezone.utc)
    return SilenceSpec(matchers=tuple(matchers), starts_at=start, ends_at=start + timedelta(seconds=seconds),
                       author=(author or "").strip() or default_author(), comment=comment.strip())


def age_text(since: datetime | None, now: float) -> str:
    """How long ago `since` was, as span_text; '-' when unknown."""
    return "-" if since is None else span_text(now - since.timestamp())


def span_text(seconds: float) -> str:
    """'45s', '12m', '3h20m', '2d4h': two units at most, for a table column."""
    s = max(0, int(seconds))
    for big, small, bn, sn in ((86400, 3600, "d", "h"), (3600, 60, "h", "m")):
        if s >= big:
            rest = (s % big) // small
            return f"{s // big}{bn}{rest}{sn}" if rest else f"{s // big}{bn}"
    if s >= 60:
        return f"{s // 60}m{s % 60}s" if s % 60 and s < 600 else f"{s // 60}m"
    return f"{s}s"


def view_status(view: AlertsView) -> Status:
    """CRITICAL: a critical alert fires; WARNING: another alert fires; UNKNOWN: a source could not
    be read; OK otherwise. Alerts Alertmanager suppresses (silenced or inhibited) do not count,
    as in `llmwatch check`; a definite problem outranks "could not check" (probes.status.worst)."""
    found = [Status.OK]
    for row in view.unsuppressed_firing:
        found.append(Status.CRITICAL if row.severity.lower() == "critical" else Status.WARNING)
    if "prometheus" in view.errors or "alertmanager" in view.errors:
        found.append(Status.UNKNOWN)
    return worst(found)
