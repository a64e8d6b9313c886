"""clean(): nothing from outside may move the cursor or change terminal state, and cuts are visible."""

from __future__ import annotations

import json
import re
import time

import pytest

from probes.textsafe import ELLIPSIS, NEWLINE_SYMBOL, clean, one_line, truncate
from tests.harness.paths import FIXTURES as FIXTURES_ROOT

HOSTILE = FIXTURES_ROOT / "loki" / "query_range_hostile.json"

# Anything a terminal would act on: C0 controls except nothing (tabs and newlines are converted
# in one-line modes), DEL, C1 controls (8-bit CSI/OSC), bidi overrides.
_ACTIVE = re.compile("[\x00-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_inert(text: str) -> None:
    assert not _ACTIVE.search(text), f"control characters survived: {text!r}"


def hostile_lines() -> list[str]:
    data = json.loads(HOSTILE.read_text())
    return [line for stream in data["data"]["result"] for _, line in stream["values"]]


def test_fixture_has_the_attacks_we_test_against():
    lines = hostile_lines()
    assert any("\x1b[2J" in line for line in lines)
    assert any("\x1b]0;" in line for line in lines)
    assert any("\x1b[31m" in line for line in lines)


@pytest.mark.parametrize("line", hostile_lines())
def test_recorded_hostile_loki_lines_are_inert(line):
    out = clean(line)
    assert_inert(out)


def test_screen_clear_and_cursor_home_removed_text_kept():
    assert clean("\x1b[2J\x1b[H screen clear attempt") == " screen clear attempt"


def test_osc_title_change_removed_with_payload():
    out = clean("\x1b]0;pwned title\x07 title change")
    assert out == " title change"
    assert "pwned" not in out


def test_osc8_hyperlink_and_osc52_clipboard_removed():
    out = clean("a\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\ b\x1b]52;c;ZXZpbA==\x07c")
    assert out == "alink bc"


def test_colour_codes_removed():
    assert clean("\x1b[31mred alert\x1b[0m injected colour") == "red alert injected colour"


def test_unterminated_osc_loses_its_introducer_but_text_stays_visible():
    out = clean("before\x1b]0;never terminated")
    assert_inert(out)
    assert out.startswith("before") and "never terminated" in out


def test_other_escapes_and_8bit_controls():
    out = clean("x\x1bc\x1b(B\x1b7y\x9b2Jz\x9d0;t\x07w")
    assert_inert(out)
    assert out.startswith("xy") and "z" in out and out.endswith("w")


def test_lone_controls_become_visible_pictures():
    assert clean("bell\x07 nul\x00 del\x7f esc\x1b") == "bell␇ nul␀ del␡ esc␛"


def test_carriage_return_cannot_overwrite_the_line():
    assert clean("ok\rFAKE") == "ok␍FAKE"
    assert clean("a\r\nb") == f"a{NEWLINE_SYMBOL}b"


@pytest.mark.parametrize("mode, expected", [
    ("symbol", f"one{NEWLINE_SYMBOL}two{NEWLINE_SYMBOL}three"),
    ("space", "one two three"),
    ("keep", "one\ntwo\nthree\n"),
])
def test_newline_modes(mode, expected):
    assert clean("one\ntwo\u2028three\n", newlines=mode) == expected


def test_trailing_newlines_dropped_in_one_line_modes():
    assert clean("log line\n\n") == "log line"


def test_tabs_become_spaces():
    assert clean("a\tb", tabsize=4) == "a   b"
    assert "\t" not in clean("\t\t")


def test_bidi_overrides_removed_and_lone_surrogates_replaced():
    out = clean("admin\u202etxt.exe \ud800 end")
    assert_inert(out)
    assert out == "admintxt.exe \ufffd end"
    out.encode("utf-8")  # would raise on a surrogate


def test_unicode_survives():
    text = "模型 🚀 naïve — Ünïcödé"
    assert clean(text) == text


def test_combining_mark_floods_are_capped():
    out = clean("e" + "\u0301" * 200)
    assert len(out) == 5


def test_bytes_and_none_accepted():
    assert clean(b"caf\xc3\xa9 \xff") == "café \ufffd"
    assert clean(None) == ""


def test_long_line_cut_with_counted_marker():
    text = "x" * 20480
    out = clean(text, max_len=100)
    assert len(out) <= 100
    kept = out.split(ELLIPSIS)[0]
    dropped = int(re.search(r"\[\+(\d+) chars\]$", out).group(1))
    assert len(kept) + dropped == 20480


@pytest.mark.parametrize("max_len", [1, 5, 12, 15, 16, 17, 30, 99, 100, 1000])
def test_truncate_never_exceeds_max_len(max_len):
    for n in (max_len + 1, max_len * 3, 10**5):
        out = truncate("y" * n, max_len)
        assert len(out) <= max_len
        assert out.endswith(ELLIPSIS) or out.endswith("chars]")


def test_short_text_untouched_and_no_limit():
    assert truncate("short", 10) == "short"
    assert clean("z" * 5000, None) == "z" * 5000


def test_truncation_counts_cleaned_text_not_escape_bytes():
    out = clean("\x1b[31m" * 1000 + "ok", max_len=50)
    assert out == "ok"


def test_one_line_squeezes_blanks():
    assert one_line("  a \n\n b\t c  ") == "a b c"


def test_hostile_megabytes_stay_fast():
    start = time.monotonic()
    assert_inert(clean("\x1b]" * 300_000))
    assert_inert(clean("\x1b]" + "a" * 3_000_000, max_len=80))
    assert_inert(clean("\x1b[" + "1;" * 500_000))
    assert time.monotonic() - start < 3.0
