"""Display precision per unit, defined once.

Why one place: the dashboard, `llmwatch check` and `llmwatch doctor` must print the very same
text for the same number ("12.3 req/s" on screen and in the cron mail), and no NaN or Inf may
ever reach a person. Values are stored in base units (seconds, bytes, ratios 0-1, USD) and only
turned into text here. Output is ASCII apart from nothing: cron mail and poor terminals read it.
"""

from __future__ import annotations

import math

#: unit -> short human description (doctor and help text use it).
UNITS: dict[str, str] = {
    "req/s": "requests per second",
    "tok/s": "tokens per second",
    "s": "seconds",
    "ratio": "share 0-1, printed as a percentage",
    "$/h": "US dollars per hour",
    "$": "US dollars",
    "bytes": "bytes, printed in binary units",
    "req": "requests",
    "C": "degrees Celsius",
    "W": "watts",
    "count": "a count",
    "/s": "events per second",
    "state": "a small enumerated state",
}

#: Text for a missing value (None or NaN). One dash: a number-shaped gap, never "nan".
NO_VALUE = "-"

#: Words for the non-ok signal states, shared by every view.
STATE_TEXT: dict[str, str] = {
    "ok": "ok",
    "not_exported": "not exported",
    "no_traffic": "no traffic",
    "no_data": "no data",
    "error": "error",
    "down": "DOWN",
}


def _num(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    return "0" if text.strip("-0.") == "" else text


def _sig3(value: float) -> str:
    """About three significant digits, no exponent: 0.00421, 0.0421, 4.21, 42.1, 421, 4210."""
    a = abs(value)
    if a == 0:
        return "0"
    if a >= 100:
        return _num(value, 0)
    if a >= 10:
        return _num(value, 1)
    if a >= 1:
        return _num(value, 2)
    digits = min(6, 2 - int(math.floor(math.log10(a))))
    return _num(value, digits)


def _seconds(v: float) -> str:
    a = abs(v)
    if a == 0:
        return "0 s"
    if a < 0.001:
        return f"{_sig3(v * 1e6)} us"
    if a < 1:
        return f"{_sig3(v * 1000)} ms"
    if a < 100:
        return f"{_num(v, 2)} s"
    return f"{_num(v, 0)} s"


def _percent(v: float) -> str:
    p = v * 100
    a = abs(p)
    if a == 0:
        return "0 %"
    if a < 10:
        return f"{_num(p, 2)} %"
    return f"{_num(p, 1)} %"


def _dollars(v: float) -> str:
    a = abs(v)
    sign = "-" if v < 0 else ""
    if a == 0:
        return "$0.00"
    if a < 0.01:  # two significant digits: $0.0042, not $0.00
        return f"{sign}${_num(a, min(8, 1 - int(math.floor(math.log10(a)))))}"
    return f"{sign}${a:,.2f}"


def _bytes(v: float) -> str:
    a = abs(v)
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if a >= size:
            return f"{_num(v / size, 1)} {unit}"
    return f"{_num(v, 0)} B"


def format_value(value: float | None, unit: str) -> str:
    """A value in its unit as people read it: "12.3 req/s", "1.85 s", "0.42 %", "$1.27/h", "23.4 GiB".

    None and NaN print as NO_VALUE; +/-Inf as "+Inf"/"-Inf" with the unit (never "inf").
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_VALUE
    value = float(value)
    if math.isinf(value):
        text = "+Inf" if value > 0 else "-Inf"
        return f"{text} {unit}".rstrip() if unit not in ("ratio", "$", "$/h") else text
    if unit == "s":
        return _seconds(value)
    if unit == "ratio":
        return _percent(value)
    if unit == "$/h":
        return f"{_dollars(value)}/h"
    if unit == "$":
        return _dollars(value)
    if unit == "bytes":
        return _bytes(value)
    if unit in ("req", "count"):
        text = _num(value, 0) if float(value).is_integer() else _sig3(value)
        return text if unit == "count" else f"{text} req"
    if unit == "C":
        return f"{_num(value, 0)} C"
    if unit == "W":
        return f"{_sig3(value)} W"
    if unit == "state":
        return _num(value, 0)
    return f"{_sig3(value)} {unit}".rstrip()


def format_state(state: str, value: float | None, unit: str) -> str:
    """The text a view prints for a signal: its value when ok, else the state in words."""
    if state == "ok":
        return format_value(value, unit)
    return STATE_TEXT.get(state, state.replace("_", " "))


def clean(value: float | None) -> float | None:
    """None for NaN, else the value: data structures handed to views carry no NaN."""
    if value is None or math.isnan(value):
        return None
    return value
