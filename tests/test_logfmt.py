"""tui.logfmt: message first, level detection, pretty JSON, hostile text made safe, long lines cut."""

from __future__ import annotations

import json

import pytest

from tui.logfmt import cut, detect_level, human_bytes, json_as_kv, labels_text, pretty, rfc3339_nano, show
from tests.harness.paths import FIXTURES as FIXTURES_ROOT

FIXTURES = FIXTURES_ROOT / "loki"


def recorded_lines(name: str):
    doc = json.loads((FIXTURES / name).read_text())
    return [(item["stream"], line) for item in doc["data"]["result"] for _, line in item["values"]]


def test_json_line_message_first_then_key_values():
    line = '{"timestamp": "t", "level": "ERROR", "message": "upstream error", "model": "phi2", "duration_ms": 642,' \
           ' "tags": {"a": [1, 2]}, "note": "two words"}'
    s = show(line)
    assert s.is_json and s.level == "error"
    assert s.text == 'upstream error timestamp=t model=phi2 duration_ms=642 tags={"a":[1,2]} note="two words"'


@pytest.mark.parametrize("key", ["msg", "message", "log", "text"])
def test_message_keys(key):
    assert json_as_kv({"a": 1, key: "hello"}) == "hello a=1"


@pytest.mark.parametrize("line,labels,level", [
    ('{"lvl": "warning", "msg": "x"}', {}, "warn"),
    ('{"severity": "DEBUG"}', {}, "debug"),
    ("level=error msg=boom", {}, "error"),
    ("ERROR cuda out of memory", {}, "error"),
    ("[WARN] slow", {}, "warn"),
    ("2026-11-22 05:00:01 INFO ready", {}, "info"),
    ("an error occurred", {}, None),
    ('{"message": "no level"}', {}, None),
    ("plain", {"level": "Warning"}, "warn"),
    ('{"level": "info"}', {"detected_level": "error"}, "error"),
])
def test_detect_level(line, labels, level):
    assert detect_level(line, labels) == level


def test_recorded_lines_levels_agree_with_the_stream_label():
    for stream, line in recorded_lines("query_range_streams.json"):
        assert detect_level(line) == stream["level"]  # from the JSON body alone


def test_hostile_recorded_lines_are_safe_and_markup_stays_text():
    for _, line in recorded_lines("query_range_hostile.json"):
        s = show(line)
        assert "\x1b" not in s.text and "\x07" not in s.text
        if "not markup" in line:
            assert "[bold red]not markup[/]" in s.text  # text, for a Text renderable
    assert show("\x1b]0;pwned title\x07 title change").text == " title change"


def test_long_line_cut_with_byte_count_marker():
    line = "x" * 39_000
    s = show(line)
    assert len(s.text) == 20_000 and s.cut == "… [+19 kB]"
    kept, marker = cut("é" * 30, 10)  # bytes, not characters
    assert kept == "é" * 10 and marker == "… [+40 B]"
    big_json = json.dumps({"message": "m", "blob": "y" * 30_000})
    s = show(big_json)
    assert not s.is_json and s.cut.startswith("… [+") and len(s.text) == 20_000


def test_pretty_json_and_plain_multiline():
    assert pretty('{"a": 1, "b": [1]}') == '{\n  "a": 1,\n  "b": [\n    1\n  ]\n}'
    assert pretty("Traceback:\n  File x\x1b[2J") == "Traceback:\n  File x"


def test_labels_text_and_times():
    assert labels_text({"level": "x\x1b[31m", "job": 'a"b'}) == '{job="a\\"b", level="x"}'
    assert rfc3339_nano(1795325075567484609) == "2026-11-22T05:24:35.567484609Z"
    assert rfc3339_nano(1795325075000000001) == "2026-11-22T05:24:35.000000001Z"
    assert human_bytes(999) == "999 B" and human_bytes(19_000) == "19 kB" and human_bytes(2_500_000) == "2 MB"
