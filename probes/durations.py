"""Durations as people write them: "500ms", "5s", "1m30s", "2h", "7d", "1w" (Prometheus style)."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "y": 31536000.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")


class DurationError(ValueError):
    pass


def parse_duration(value: str | int | float) -> float:
    """Seconds from a duration string or a bare number of seconds. Raises DurationError."""
    if isinstance(value, bool):
        raise DurationError(f"expected a duration like '5s', got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise DurationError(f"duration must not be negative, got {value!r}")
        return float(value)
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
    """Compact Prometheus-style duration: 90 -> '1m30s', 3600 -> '1h', 0.25 -> '250ms'."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    rest = int(round(seconds))
    out = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out) or "0s"
