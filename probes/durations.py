"""Durations as people write them: "500ms", "5s", "1m30s", "2h", "7d", "1w" (Prometheus style)."""

from __future__ import annotations

import math
import re

MAX_DURATION_S = 100 * 31536000.0  # beyond a century a duration is a typo (or "inf"), not a plan
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "y": 31536000.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")


class DurationError(ValueError):
    pass


def parse_duration(value: str | int | float) -> float:
    """Seconds from a duration string or a bare number of seconds. Raises DurationError.

    NaN, infinity ("inf", 1e999) and anything over MAX_DURATION_S are errors: every duration
    llmwatch uses ends up in a sleep, a deadline or a label, where they would hang or crash."""
    seconds = _parse(value)
    if not math.isfinite(seconds):
        raise DurationError(f"duration must be a finite number of seconds, got {_short(value)}")
    if seconds > MAX_DURATION_S:
        raise DurationError(f"duration {_short(value)} is longer than 100 years")
    return seconds


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _parse(value: str | int | float) -> float:
    if isinstance(value, bool):
        raise DurationError(f"expected a duration like '5s', got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise DurationError(f"duration must not be negative, got {_short(value)}")
        try:
            return float(value)
        except OverflowError:  # an int beyond float range
            return math.inf
    if not isinstance(value, str):
        raise DurationError(f"expected a duration like '5s', got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise DurationError("empty duration")
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if number < 0:
            raise DurationError(f"duration must not be negative, got {value!r}")
        return number
    pos = 0
    total = 0.0
    for m in _PART.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text) or pos == 0:
        raise DurationError(f"bad duration {value!r} (use e.g. 500ms, 5s, 1m30s, 2h, 7d)")
    return total


def format_duration(seconds: float) -> str:
    """Compact Prometheus-style duration: 90 -> '1m30s', 3600 -> '1h', 0.25 -> '250ms'.

    Total: NaN and infinities (never produced by parse_duration) print as NaN / +Inf."""
    if not math.isfinite(seconds):
        return "NaN" if math.isnan(seconds) else ("+Inf" if seconds > 0 else "-Inf")
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds > MAX_DURATION_S:
        return f"{seconds:.3g}s"
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    rest = int(round(seconds))
    out = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out) or "0s"
