"""Nagios threshold ranges (monitoring-plugins guidelines): what alerts and what does not."""

from __future__ import annotations

import math

import pytest

from probes.status import Status
from probes.thresholds import Range, ThresholdError, evaluate, parse_range, perfdata_bound

INF = math.inf


@pytest.mark.parametrize("text, start, end, inside", [
    ("10", 0, 10, False),
    ("10:", 10, INF, False),
    ("~:10", -INF, 10, False),
    ("10:20", 10, 20, False),
    ("@10:20", 10, 20, True),
    ("0.5:1.5", 0.5, 1.5, False),
    ("-5:-1", -5, -1, False),
    ("-10:", -10, INF, False),
    ("1e3", 0, 1000, False),
    (".25", 0, 0.25, False),
    ("@~:0", -INF, 0, True),
    (" 10:20 ", 10, 20, False),
])
def test_parse(text, start, end, inside):
    r = parse_range(text)
    assert (r.start, r.end, r.inside) == (start, end, inside)
    assert r.text == text.strip()


@pytest.mark.parametrize("text, alerting, quiet", [
    # 10: alert when < 0 or > 10
    ("10", [-1, 10.001, 11], [0, 5, 10]),
    # 10: alert when < 10
    ("10:", [9.99, -1], [10, 1e9]),
    # ~:10 alert when > 10
    ("~:10", [10.5, 11], [-1e9, 10]),
    # 10:20 alert when outside 10..20 (inclusive ends)
    ("10:20", [9, 21], [10, 15, 20]),
    # @10:20 alert when inside 10..20 (inclusive ends)
    ("@10:20", [10, 15, 20], [9.99, 20.01]),
    ("0.5:1.5", [0.49, 1.51], [0.5, 1.5]),
    ("-5:-1", [-6, 0], [-5, -3, -1]),
])
def test_alerts(text, alerting, quiet):
    r = parse_range(text)
    for v in alerting:
        assert r.alerts(v), f"{text} should alert on {v}"
    for v in quiet:
        assert not r.alerts(v), f"{text} should not alert on {v}"


def test_nan_never_alerts():
    assert not parse_range("10").alerts(math.nan)
    assert not parse_range("@0:100").alerts(math.nan)


@pytest.mark.parametrize("bad", ["", "  ", "abc", "10:20:30", "@", "~", "1O", "10::", "20:10", "--5", "@@1:2",
                                 "10-20", "~:~"])
def test_bad_input(bad):
    with pytest.raises(ThresholdError) as info:
        parse_range(bad)
    assert "threshold" in str(info.value)


def test_start_above_end_message_names_both():
    with pytest.raises(ThresholdError, match="start 20 is above end 10"):
        parse_range("20:10")


def test_threshold_error_is_a_value_error():
    assert issubclass(ThresholdError, ValueError)


@pytest.mark.parametrize("value, warn, crit, expected", [
    (5, "10", "20", Status.OK),
    (15, "10", "20", Status.WARNING),
    (25, "10", "20", Status.CRITICAL),
    (10, "10", "20", Status.OK),          # ends are inclusive
    (-1, "10", "20", Status.CRITICAL),    # below 0 is outside 0..20 as well
    (0.95, "0.9:", "0.8:", Status.OK),    # availability-style: alert when below
    (0.85, "0.9:", "0.8:", Status.WARNING),
    (0.5, "0.9:", "0.8:", Status.CRITICAL),
    (15, "@10:20", None, Status.WARNING),
    (15, None, None, Status.OK),
    (100, None, "~:50", Status.CRITICAL),
    (math.nan, "10", "20", Status.OK),
])
def test_evaluate(value, warn, crit, expected):
    assert evaluate(value, warn, crit) == expected


def test_evaluate_accepts_parsed_ranges():
    assert evaluate(15, parse_range("10"), parse_range("20")) == Status.WARNING


def test_evaluate_rejects_bad_strings():
    with pytest.raises(ThresholdError):
        evaluate(1, "nope", None)


def test_perfdata_bound():
    assert perfdata_bound(None) == ""
    assert perfdata_bound(" 10:20 ") == "10:20"
    assert perfdata_bound(parse_range("@1:2")) == "@1:2"


def test_range_is_frozen():
    r = parse_range("10")
    assert isinstance(r, Range)
    with pytest.raises(Exception):
        r.start = 5  # type: ignore[misc]


# -- the C library's own cases: monitoring-plugins lib/tests/test_utils.c (parse_range_string,
#    check_range, _set_thresholds/get_status), each checked here as the library asserts it ----------

@pytest.mark.parametrize("text, start, end, inside", [
    ("6", 0, 6, False),                       # "'6' is valid range"
    ("1:12%", 1, 12, False),                  # "'1:12%%' is valid - percentages are ignored"
    ("-7:23", -7, 23, False),
    (":5.75", 0, 5.75, False),
    ("~:-95.99", -INF, -95.99, False),
    ("12345678901234567890:", 12345678901234567890.0, INF, False),
    ("~:0", -INF, 0, False),
    ("@0:657.8210567", 0, 657.8210567, True),
    ("@1:1", 1, 1, True),
    ("1:1", 1, 1, False),
    ("10%:", 10, INF, False),                 # strtod stops at the % on the start side too
    ("@10%:20%", 10, 20, True),
])
def test_parse_range_string_cases(text, start, end, inside):
    r = parse_range(text)
    assert (r.start, r.end, r.inside) == (start, end, inside)


@pytest.mark.parametrize("text, value, alerts", [
    ("12345678901234567890:", 12345678901234567890 / 1.1, True),
    ("12345678901234567890:", 12345678901234567890.0, False),
    ("12345678901234567890:", 12345678901234567890 * 2.0, False),
    ("~:0", 0.5, True), ("~:0", -10, False), ("~:0", 0, False),
    ("@0:657.8210567", 32.88, True), ("@0:657.8210567", -2, False), ("@0:657.8210567", 657.8210567, True),
    ("@0:657.8210567", 0, True),
    ("@1:1", 0.5, False), ("@1:1", 1, True), ("@1:1", 5.2, False),
    ("1:1", 0.5, True), ("1:1", 1, False), ("1:1", 5.2, True),
])
def test_check_range_cases(text, value, alerts):
    assert parse_range(text).alerts(value) is alerts


def test_two_one_is_rejected_as_in_the_c_library():
    with pytest.raises(ThresholdError):
        parse_range("2:1")                    # "'2:1' rejected"


@pytest.mark.parametrize("warn, crit, value, status", [
    ("30", "60", 15.3, Status.OK), ("30", "60", 30.0001, Status.WARNING), ("30", "60", 69, Status.CRITICAL),
    ("-10:-2", "-30:20", -31, Status.CRITICAL), ("-10:-2", "-30:20", -29, Status.WARNING),
    ("-10:-2", "-30:20", -11, Status.WARNING), ("-10:-2", "-30:20", -10, Status.OK),
    ("-10:-2", "-30:20", -2, Status.OK), ("-10:-2", "-30:20", -1, Status.WARNING),
    ("-10:-2", "-30:20", 19, Status.WARNING), ("-10:-2", "-30:20", 21, Status.CRITICAL),
    (None, "80", 90, Status.CRITICAL), ("5:33", None, 4, Status.WARNING), (None, None, 1e9, Status.OK),
])
def test_get_status_cases(warn, crit, value, status):
    assert evaluate(value, warn, crit) is status


def test_percent_is_left_out_of_perfdata():
    assert perfdata_bound("1:12%") == "1:12" and perfdata_bound(parse_range("@10%:20%")) == "@10:20"


def test_trailing_garbage_is_refused_deliberately():
    """strtod would read `10abc` as 10 and `abc` as 0 (alert below 0 or above 0): llmwatch refuses both."""
    for text in ("10abc", "abc", "1:2:3", "%"):
        with pytest.raises(ThresholdError):
            parse_range(text)


def test_empty_warn_in_the_config_is_unset():
    """Monitoring::Plugin::Threshold->_inflate: `return ...Range->new if $value eq ""` (not set)."""
    from probes.config import parse_config

    cfg = parse_config({"rules": [{"name": "r", "promql": "up", "warn": "", "crit": " "}]})
    assert cfg.rules[0].warn is None and cfg.rules[0].crit is None
