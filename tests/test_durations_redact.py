from __future__ import annotations

import pytest

from probes.durations import DurationError, format_duration, parse_duration
from probes.redact import display_url, scrub, webhook_display
from probes.status import Status, worst


@pytest.mark.parametrize("text, seconds", [
    ("500ms", 0.5), ("5s", 5), ("1m30s", 90), ("2h", 7200), ("7d", 604800), ("1w", 604800),
    ("1.5s", 1.5), (" 10s ", 10), ("15", 15), (3, 3.0), (2.5, 2.5),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "5x", "s", "1m 30s", "-5s", "5s3", "ms", True, None, [1], -1])
def test_parse_duration_rejects(bad):
    with pytest.raises(DurationError):
        parse_duration(bad)


@pytest.mark.parametrize("seconds, text", [(0.25, "250ms"), (5, "5s"), (90, "1m30s"), (3600, "1h"), (86400 * 7, "1w")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)


def test_display_url_hides_userinfo_and_secret_params():
    assert display_url("https://user:pw@host:9090/x") == "https://***@host:9090/x"
    assert "s3cret" not in display_url("http://h/api?token=s3cret&q=up")
    assert "q=up" in display_url("http://h/api?token=s3cret&q=up")
    assert webhook_display("https://hooks.slack.com/services/T0/B0/XYZSECRET") == "https://hooks.slack.com/***"


def test_scrub():
    assert scrub("auth failed for hunter2pass", ["hunter2pass", ""]) == "auth failed for ***"
    assert scrub("abc", ["ab"]) == "abc"  # too short to be a secret worth masking


def test_worst_status_order():
    assert worst([]) is Status.OK
    assert worst([Status.OK, Status.UNKNOWN]) is Status.UNKNOWN
    assert worst([Status.UNKNOWN, Status.WARNING]) is Status.WARNING
    assert worst([Status.WARNING, Status.CRITICAL, Status.UNKNOWN]) is Status.CRITICAL
    assert [int(s) for s in Status] == [0, 1, 2, 3]
