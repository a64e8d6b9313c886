"""Nagios threshold ranges: `10`, `10:`, `~:10`, `10:20`, `@10:20`.

A range [@]start:end alerts when the value is OUTSIDE start..end (inclusive), or INSIDE it when
the range starts with `@`. `start` defaults to 0, `~` is minus infinity, an empty end is infinity.
(monitoring-plugins development guidelines, "Threshold and ranges".) As the C library's
parse_range_string (lib/utils_base.c) reads numbers with strtod, a trailing `%` is ignored
(`1:12%` is 1..12, lib/tests/test_utils.c); an empty range is "not set" (Monitoring::Plugin's
Threshold.pm _inflate), which config.py maps to None. Deliberate difference: other text after a
number (`10abc`) is refused, where strtod would silently read 10 (and `abc` as 0).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from probes.status import Status

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^(?P<at>@)?(?:(?:(?P<start>~|{_NUM})%?)?:)?(?:(?P<end>{_NUM})%?)?$")


class ThresholdError(ValueError):
    pass


@dataclass(frozen=True)
class Range:
    start: float
    end: float
    inside: bool  # True for @ ranges: alert when start <= v <= end
    text: str

    def alerts(self, value: float) -> bool:
        if math.isnan(value):
            return False
        within = self.start <= value <= self.end
        return within if self.inside else not within


def parse_range(text: str) -> Range:
    raw = str(text).strip()
    m = _RANGE.match(raw)
    if not raw or not m or (m.group("start") is None and m.group("end") is None and ":" not in raw):
        raise ThresholdError(f"bad threshold range {text!r} (use 10, 10:, ~:10, 10:20, @10:20 or 1:12%)")
    has_colon = ":" in raw
    start_s, end_s = m.group("start"), m.group("end")
    if not has_colon:
        start, end = 0.0, float(end_s)
    else:
        start = -math.inf if start_s == "~" else (float(start_s) if start_s is not None else 0.0)
        end = float(end_s) if end_s is not None else math.inf
    if start > end:
        raise ThresholdError(f"bad threshold range {text!r}: start {start:g} is above end {end:g}")
    return Range(start=start, end=end, inside=bool(m.group("at")), text=raw)


def evaluate(value: float, warn: str | Range | None, crit: str | Range | None) -> Status:
    """CRITICAL if the crit range alerts, else WARNING if the warn range alerts, else OK."""
    crit_r = parse_range(crit) if isinstance(crit, str) else crit
    warn_r = parse_range(warn) if isinstance(warn, str) else warn
    if crit_r is not None and crit_r.alerts(value):
        return Status.CRITICAL
    if warn_r is not None and warn_r.alerts(value):
        return Status.WARNING
    return Status.OK


def perfdata_bound(r: str | Range | None) -> str:
    """The range as it belongs in perfdata's warn/crit field (the text without `%`, or empty)."""
    if r is None:
        return ""
    return (r.text if isinstance(r, Range) else str(r).strip()).replace("%", "")
