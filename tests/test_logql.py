"""probes.logql: selectors from labels with LogQL escaping, filters pushed down, level filters,
volume queries; checked against the Loki replay's own LogQL parser and recorded lines."""

from __future__ import annotations

import pytest

from probes.config import Service
from probes.logql import (
    ANY_JOB, LEVELS, LogRequest, build_query, level_line_regex, quote, request_for_labels,
    selector_from_labels, volume_query,
)
from probes.loki import LokiClient
from tests.harness.logql import LogQLError, parse_stream_query

START, END = 1795321473000000000, 1795325080000000000


def test_quote_round_trips_through_a_go_string_parser():
    hostile = 'a"} |= "x" \\ \n\t\x1b[2J ünï 日本'
    parsed = parse_stream_query("{job=" + quote(hostile) + "}")
    assert parsed.matchers[0].value == hostile


def test_selector_keeps_only_known_labels_in_order_and_skips_empty():
    labels = {"le": "0.5", "model": "llama-3", "job": "vllm", "instance": "", "quantile": "0.9"}
    assert selector_from_labels(labels) == '{job="vllm", model="llama-3"}'


def test_selector_mapping_renames_drops_and_adds_labels():
    labels = {"job": "gw", "model": "m", "backend": "local", "pod": "p1"}
    sel = selector_from_labels(labels, {"job": "app", "pod": "", "backend": "backend_kind"})
    assert sel == '{app="gw", model="m", backend_kind="local"}'


def test_selector_escapes_values_and_fixes_names():
    sel = selector_from_labels({"job": 'x"} |= "pwn'}, {"job": "service.name"})
    assert sel == '{service_name="x\\"} |= \\"pwn"}'
    parsed = parse_stream_query(sel)
    assert [(m.name, m.value) for m in parsed.matchers] == [("service_name", 'x"} |= "pwn')]
    assert parsed.filters == ()


def test_selector_empty_when_nothing_to_select_by():
    assert selector_from_labels({"le": "1"}) == ""


def test_build_query_pushes_text_and_regex_down():
    q = build_query('{job="gw"}', text='say "hi"', regex="timeout|5\\d\\d")
    assert q == '{job="gw"} |= "say \\"hi\\"" |~ "timeout|5\\\\d\\\\d"'
    parsed = parse_stream_query(q)
    assert [(f.op, f.value) for f in parsed.filters] == [("|=", 'say "hi"'), ("|~", "timeout|5\\d\\d")]


def test_level_filter_as_stream_label_matcher():
    q = build_query('{job="gw"} |= "x"', levels=["error", "warn"])
    parsed = parse_stream_query(q)
    level = [m for m in parsed.matchers if m.name == "level"][0]
    assert level.op == "=~"
    for value, hit in (("error", True), ("ERROR", True), ("Warning", True), ("info", False), ("", False)):
        assert level.matches({"level": value}) is hit, value
    assert [(f.op, f.value) for f in parsed.filters] == [("|=", "x")]


def test_all_levels_or_none_means_no_filter():
    assert build_query('{job="gw"}', levels=LEVELS) == '{job="gw"}'
    assert build_query('{job="gw"}', levels=()) == '{job="gw"}'
    with pytest.raises(ValueError):
        build_query('{job="gw"}', levels=["loud"])


@pytest.mark.parametrize("line,levels,hit", [
    ('{"level": "ERROR", "message": "boom"}', ["error"], True),
    ('{"level": "info", "message": "no error here"}', ["error"], False),
    ("ts=1 lvl=warn msg=hot", ["warn"], True),
    ("2026-11-22 10:00:01 ERROR cuda oom", ["error"], True),
    ("request finished, 0 errors", ["error"], False),
    ("DEBUG cache hit", ["debug", "info"], True),
])
def test_level_line_regex_matches_level_keys_and_upper_words(line, levels, hit):
    q = build_query('{job="gw"}', levels=levels, level_label=False)
    parsed = parse_stream_query(q)
    assert parsed.keeps(line) is hit
    assert level_line_regex(levels) in parsed.filters[0].value


def test_volume_query_shape():
    assert volume_query('{job="gw"} |= "x"', 60) == 'sum by (level) (count_over_time({job="gw"} |= "x" [60s]))'
    assert volume_query('{job="gw"}', 0.2).endswith("[1s]))")


def test_request_for_labels_prefers_service_selector():
    services = (Service(name="gateway", url="http://gw", job="api-gateway", loki_selector='{app="gw"}'),
                Service(name="vllm", url="http://v", loki_labels={"model": "model_name"}))
    r = request_for_labels({"job": "api-gateway", "model": "x"}, 100, 200, "panel latency", services)
    assert r == LogRequest('{app="gw"}', 100.0, 200.0, "panel latency")
    r = request_for_labels({"job": "vllm", "model": "llama"}, 100, None, "alert X", services)
    assert r.selector == '{job="vllm", model_name="llama"}' and r.end is None
    r = request_for_labels({"job": "other"}, 1, 2, "", services)
    assert r.selector == '{job="other"}'
    assert request_for_labels({"le": "1"}, 1, 2, "", services).selector == ANY_JOB


def test_request_query_combines_fields():
    r = LogRequest('{job="gw"}', 0, line_filter="oom", regex="cuda", levels=("error",))
    assert r.query(level_label=True) == '{job="gw", level=~"(?i)error|err|fatal|critical|crit|panic|emerg|' \
                                        'emergency|alert"} |= "oom" |~ "cuda"'


async def test_pushed_down_filters_select_the_right_recorded_lines(loki):
    client = LokiClient(loki.endpoint)
    try:
        every = await client.query_range('{job=~".+"}', START, END, limit=5000)
        q = build_query('{job="api-gateway"}', text="upstream error", levels=["error"])
        got = await client.query_range(q, START, END, limit=5000)
        assert every.ok and got.ok, (every.error, got.error)
        expected = [e for e in every.entries if e.labels.get("job") == "api-gateway"
                    and e.labels.get("level") == "error" and "upstream error" in e.line]
        assert expected and [e.ts_ns for e in got.entries] == [e.ts_ns for e in expected]
        bad = await client.query_range(build_query('{job="api-gateway"', text="x"), START, END)
        assert not bad.ok and "parse error" in bad.error.message
    finally:
        await client.aclose()


async def test_volume_query_is_a_metric_query_for_loki(loki_requests):
    client = LokiClient(loki_requests.endpoint)
    try:
        r = await client.query_range_metric(volume_query('{job="api-gateway"}', 60), START, END, 60)
        assert r.ok and r.result_type == "matrix" and {s.labels["level"] for s in r.series} == {"error", "info"}
        assert loki_requests.last_request.params["query"].startswith("sum by (level) (count_over_time(")
    finally:
        await client.aclose()


def test_replay_parser_rejects_what_we_must_not_produce():
    with pytest.raises(LogQLError):
        parse_stream_query('{job="a"} |= "unterminated')
