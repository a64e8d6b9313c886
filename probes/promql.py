"""Render profile PromQL templates: job scope, rate window, breakdown labels and config values.

Why templates and not string concatenation in each caller: a profile is data written by people
who know their system, not our code. They write `sum by ($by) (rate(x{$scope}[$window]))` once;
this module makes the exact query for an instant value (no breakdown), a per-model breakdown or a
dashboard range query, always carrying the job scope so several profiles can share one
Prometheus. Placeholders:

  $scope     the scope matchers, e.g. job="vllm"; works alone `x{$scope}` and beside others
             `x{$scope, status="5xx"}` (an empty scope leaves valid PromQL too)
  $window    the rate window as a Prometheus duration ("30s", "1m30s"); never hard-coded
  $today     the time since local midnight (spend today), at least the rate window
  $by        breakdown labels inside a `by (...)` clause; `by ($by)` vanishes when there are none
             and `by (le, $by)` keeps only `le`
  $local     a regex alternation of config.routing.local_providers (escaped)
  $loopback  a regex for loopback api_base URLs (localhost, 127.x, [::1])
  $ref       the routing.cloud_reference model name (escaped for a label value)
  $ref_in    its input price in USD per token; $ref_out its output price
  $monitoring a regex of monitoring routes (/metrics, /health*, /ready*, /live*, /-/...), for
             `handler!~"$monitoring"`: Prometheus' own scrapes and health probes are not
             traffic. With traffic.include_monitoring it matches nothing (every route counts).
  $$         a literal `$` (label_replace's `$1` is written `$$1`)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

PLACEHOLDERS = frozenset({"scope", "window", "today", "by", "local", "loopback", "ref", "ref_in", "ref_out",
                          "monitoring"})
LOOPBACK_RE = r"https?://(localhost|127\\.[0-9.]+|\\[::1\\]|0\\.0\\.0\\.0)([:/].*)?"
# Routes that monitoring itself calls: scrapes, health, readiness and liveness probes, and the
# /-/healthy style of Prometheus-family servers. A route label is matched whole (PromQL anchors).
MONITORING_ROUTES = ("/metrics", "/metrics/.*", "/health", "/health/.*", "/healthz", "/ready", "/ready/.*",
                     "/readyz", "/readiness", "/live", "/live/.*", "/livez", "/liveness", "/liveliness", "/-/.*")
MATCH_NOTHING = ".^"  # RE2 and Python: one character, then start of text: never matches, not even ""
_PH = re.compile(r"\$(\$|\w+)")
_BY = re.compile(r"\bby\s*\(([^()]*)\)\s*")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class TemplateError(ValueError):
    """A template that cannot be rendered (unknown placeholder, missing value)."""


def placeholders(template: str) -> set[str]:
    return set(_PH.findall(template)) - {"$"}


def duration(seconds: float) -> str:
    """Seconds as a Prometheus duration: 30 -> "30s", 90 -> "1m30s", 0.5 -> "500ms"."""
    if not math.isfinite(seconds) or seconds <= 0:
        raise TemplateError(f"a window must be a positive duration, got {seconds!r}")
    ms = int(round(seconds * 1000))
    if ms % 1000:
        return f"{ms}ms"
    s = ms // 1000
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size:
            parts.append(f"{s // size}{unit}")
            s %= size
    return "".join(parts)


def rate_interval(step: float, scrape_interval: float) -> float:
    """Grafana's $__rate_interval: max(4 x scrape interval, step + scrape interval).

    Why: rate() needs at least two samples inside the window; four scrapes survive one missed
    scrape, and step + scrape keeps consecutive range points from skipping samples.
    """
    return max(4 * scrape_interval, step + scrape_interval)


MIN_NOW_WINDOW = 60.0


def now_window(scrape_interval: float) -> float:
    """The window of a "now" value (the dashboard's Now row, `llmwatch doctor`): $__rate_interval
    for an instant (4 scrape intervals) and at least a minute, so a low rate does not jitter with
    each new sample (at 2 s scrapes an 8 s window moved cost by 17 % between refreshes)."""
    return max(rate_interval(0.0, scrape_interval), MIN_NOW_WINDOW)


def quote(value: str) -> str:
    """A PromQL double-quoted string literal body (backslash and quote escaped)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def regex_alternation(values: Sequence[str]) -> str:
    """`a|b\\.c` for a label regex: each value matched literally. Empty input matches nothing."""
    if not values:
        return "$^"  # RE2: matches no non-empty string; label regexes are anchored
    return "|".join(quote(re.escape(v)) for v in values)


def scope_matchers(scope: Mapping[str, str]) -> str:
    return ", ".join(f'{k}="{quote(v)}"' for k, v in sorted(scope.items()))


@dataclass(frozen=True)
class RenderContext:
    """Everything a template may refer to, fixed for one evaluation round."""

    window: float
    scope: Mapping[str, str] = field(default_factory=dict)
    today: float | None = None          # seconds since local midnight; None -> the window
    local_providers: tuple[str, ...] = ()
    ref_model: str | None = None
    ref_in: float | None = None         # USD per token
    ref_out: float | None = None
    monitoring: str = "|".join(MONITORING_ROUTES)   # MATCH_NOTHING: monitoring routes count as traffic

    def values(self, by: Sequence[str]) -> dict[str, str]:
        vals = {
            "scope": scope_matchers(self.scope),
            "window": duration(self.window),
            "today": duration(max(float(math.floor(self.today or 0.0)), self.window)),
            "by": ", ".join(by),
            "local": regex_alternation(self.local_providers),
            "loopback": LOOPBACK_RE,
            "monitoring": quote(self.monitoring),
        }
        if self.ref_model is not None:
            vals["ref"] = quote(self.ref_model)
        if self.ref_in is not None:
            vals["ref_in"] = _number(self.ref_in)
        if self.ref_out is not None:
            vals["ref_out"] = _number(self.ref_out)
        return vals


def _number(x: float) -> str:
    return repr(float(x))  # shortest round-trip form, e.g. 3e-06; PromQL accepts it


def render(template: str, ctx: RenderContext, by: Sequence[str] = ()) -> str:
    """The template with every placeholder filled and by-clauses and matchers tidied."""
    for label in by:
        if not _LABEL.match(label):
            raise TemplateError(f"bad breakdown label {label!r}")
    vals = ctx.values(by)

    def sub(m: re.Match) -> str:
        name = m.group(1)
        if name == "$":
            return "$"  # `$$1` in a template is label_replace's `$1`
        if name not in vals:
            if name in PLACEHOLDERS:
                raise TemplateError(f"${name} needs a value the config does not give")
            raise TemplateError(f"unknown placeholder ${name}")
        return vals[name]

    text = _PH.sub(sub, _SPACES.sub(" ", template).strip())
    return tidy(text)


def _tidy_by(m: re.Match) -> str:
    labels: list[str] = []
    for part in m.group(1).split(","):
        part = part.strip()
        if part and part not in labels:
            labels.append(part)
    return f"by ({', '.join(labels)}) " if labels else ""


_EMPTY_MATCHER = re.compile(r"\{\s*,\s*")
_TRAILING_COMMA = re.compile(r",\s*\}")
_DOUBLE_COMMA = re.compile(r",\s*,")
_EMPTY_BRACES = re.compile(r"(?<=[a-zA-Z0-9_:])\{\s*\}")
_SPACES = re.compile(r"[ \t\r\n]+")


def tidy(text: str) -> str:
    """Remove what empty placeholders leave behind: `by ()`, `{, x}`, `{x, }`, `x{}`.

    Runs after substitution but only touches structure an empty $by or $scope can produce;
    whitespace is normalised in the template before values go in, so label values keep theirs.
    """
    text = _BY.sub(_tidy_by, text)
    prev = None
    while prev != text:
        prev = text
        text = _DOUBLE_COMMA.sub(",", text)
        text = _EMPTY_MATCHER.sub("{", text)
        text = _TRAILING_COMMA.sub("}", text)
    return _EMPTY_BRACES.sub("", text).strip()
