"""Display precision per unit, defined once in probes.units and shared by every view."""

from __future__ import annotations

import math

import pytest

from probes.units import format_state, format_value


@pytest.mark.parametrize("value, unit, text", [
    (12.345, "req/s", "12.3 req/s"),
    (0.0421, "req/s", "0.0421 req/s"),
    (1234.6, "tok/s", "1235 tok/s"),
    (1.853, "s", "1.85 s"),
    (0.4207, "s", "421 ms"),
    (0.0000421, "s", "42.1 us"),
    (0.0042, "ratio", "0.42 %"),
    (0.425, "ratio", "42.5 %"),
    (0.0, "ratio", "0 %"),
    (1.2749, "$/h", "$1.27/h"),
    (0.0042, "$/h", "$0.0042/h"),
    (1234.5, "$", "$1,234.50"),
    (0.0, "$", "$0.00"),
    (23.4 * 2**30, "bytes", "23.4 GiB"),
    (512, "bytes", "512 B"),
    (3.0, "req", "3 req"),
    (9, "count", "9"),
    (64.4, "C", "64 C"),
    (352.4, "W", "352 W"),
])
def test_format_value(value, unit, text):
    assert format_value(value, unit) == text


@pytest.mark.parametrize("unit", ["req/s", "s", "ratio", "$/h", "$", "bytes", "C", "W", "count", "tok/s"])
def test_no_nan_ever_printed(unit):
    assert format_value(math.nan, unit) == "-"
    assert format_value(None, unit) == "-"
    assert "inf" not in format_value(math.inf, unit).lower().replace("+inf", "")
    assert "nan" not in format_value(-0.0, unit).lower()


def test_states_in_words():
    assert format_state("no_traffic", None, "s") == "no traffic"
    assert format_state("not_exported", None, "s") == "not exported"
    assert format_state("ok", 0.5, "s") == "500 ms"
