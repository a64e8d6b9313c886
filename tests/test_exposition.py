"""probes.exposition: the text format and OpenMetrics as real exporters write them, and bad input."""

from __future__ import annotations

import math

import pytest

from probes.exposition import SeriesError, parse, parse_series

VLLM_PAGE = """\
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 12.0
# HELP vllm:e2e_request_latency_seconds Histogram of e2e request latency in seconds.
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{engine="0",le="0.3",model_name="m"} 4.0
vllm:e2e_request_latency_seconds_bucket{engine="0",le="+Inf",model_name="m"} 9.0
vllm:e2e_request_latency_seconds_count{engine="0",model_name="m"} 9.0
vllm:e2e_request_latency_seconds_sum{engine="0",model_name="m"} 3.25
# TYPE vllm:request_success_total counter
vllm:request_success_total{finished_reason="stop",model_name="m"} 7.0
vllm:request_success_created{finished_reason="stop",model_name="m"} 1.7e+09
"""


def test_plain_text_page_keeps_every_sample_with_raw_series_text():
    p = parse(VLLM_PAGE, "text/plain; version=0.0.4")
    assert p.malformed == 0 and not p.openmetrics
    raws = [s[0] for s in p.samples]
    assert raws[0] == 'vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"}'
    assert p.samples[0][1:] == (12.0, None)
    assert p.types["vllm:e2e_request_latency_seconds"] == "histogram"
    # text 0.0.4: a _created line is an ordinary sample (prometheus_client writes it as a gauge)
    assert any(r.startswith("vllm:request_success_created") for r in raws)
    assert len(p.samples) == 7


def test_openmetrics_eof_created_exemplars_and_float_timestamps():
    page = """# TYPE http_requests counter
http_requests_total{code="200"} 1027 1395066363.5
http_requests_created{code="200"} 1395066000.0
# TYPE lat histogram
lat_bucket{le="0.5"} 8 # {trace_id="KOO5S4vxi0o"} 0.2 1395066363.1
lat_bucket{le="+Inf"} 9
lat_created 1395066000.0
lat_count 9
# EOF
"""
    p = parse(page, "application/openmetrics-text; version=1.0.0; charset=utf-8")
    assert p.openmetrics and p.eof and p.malformed == 0
    got = {r: (v, t) for r, v, t in p.samples}
    assert got['http_requests_total{code="200"}'] == (1027.0, 1395066363500)
    assert got['lat_bucket{le="0.5"}'] == (8.0, None)  # the exemplar is not a timestamp
    assert not any("_created" in r for r in got)


def test_eof_alone_switches_to_openmetrics_and_data_after_it_is_malformed():
    p = parse("a 1\n# EOF\nb 2\n")
    assert p.eof and [s[0] for s in p.samples] == ["a"] and p.malformed == 1


def test_special_values_timestamps_and_escapes():
    page = ('a{path="C:\\\\dir",msg="say \\"hi\\"\\nnext",x="{}, ="} NaN 1700000000000\n'
            "b +Inf\nc -Inf\nd 1e-3\ne -0\n")
    p = parse(page)
    assert p.malformed == 0
    raw, value, ts = p.samples[0]
    assert math.isnan(value) and ts == 1700000000000
    name, labels = parse_series(raw)
    assert name == "a" and labels == {"path": "C:\\dir", "msg": 'say "hi"\nnext', "x": "{}, ="}
    assert [s[1] for s in p.samples[1:]] == [math.inf, -math.inf, 0.001, 0.0]


def test_malformed_lines_are_counted_and_reported_never_raised():
    page = ("good 1\n"
            "no_value\n"
            "bad_value{a=\"b\"} twelve\n"
            "python_only 1_000\n"
            "infinity Infinity\n"
            '{a="b"} 1\n'
            "bad_ts 1 12.5.3\n"
            "good2 2\n"
            "\x00\x01 junk\n")
    p = parse(page)
    assert [s[0] for s in p.samples] == ["good", "good2"]
    assert p.malformed == 7
    assert len(p.problems) == 5 and p.problems[0].startswith("line 2:")


def test_whitespace_crlf_comments_and_empty_label_sets():
    p = parse("# a free comment\n#\n  spaced{} 3  \r\nx{a=\"1\",} 4\r\n\n")
    assert p.malformed == 0
    assert [(r, v) for r, v, _ in p.samples] == [("spaced{}", 3.0), ('x{a="1",}', 4.0)]
    assert parse_series('x{a="1",}') == ("x", {"a": "1"})
    assert parse_series("spaced{}") == ("spaced", {})


@pytest.mark.parametrize("raw", ['x{a="1",a="2"}', 'x{a=1}', 'x{a="1" b="2"}', 'x{1a="x"}'])
def test_bad_label_sets_raise_series_error(raw):
    with pytest.raises(SeriesError):
        parse_series(raw)


def test_html_page_yields_no_samples():
    p = parse("<!doctype html>\n<html><body>Login</body></html>\n", "text/html")
    assert not p.samples and p.malformed == 2


def test_ten_thousand_lines_parse_completely():
    """Speed is measured by bench/bench_scrape.py (target 50 ms), not asserted here."""
    page = "".join(f'm_bucket{{le="{i % 20}",model_name="meta-llama/Llama-3.1-8B",h="/v{i}"}} {i}.5\n'
                   for i in range(10_000))
    samples = parse(page).samples
    assert len(samples) == 10_000 and samples[-1][1] == 9999.5
