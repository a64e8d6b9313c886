"""Differential test: llmwatch's PromQL subset against the real Prometheus 2.42, on the same samples.

tests/harness/promdiff.py loads one OpenMetrics page into Prometheus (promtool
create-blocks-from openmetrics) and into llmwatch's store (its own exposition parser); both answer
every expression of tests/promql_table.py at the same instants. The answers must agree exactly:
the same result type, the same label sets, the same float bits (NaN equals NaN), errors where
Prometheus errors; only exp/ln/log2/log10/^/atan2 get 4 ulps, since Go's math library and C's
differ in the last place. What the subset leaves out must say "needs Prometheus", never blame
the query. Deliberate differences (see README "direct scrape"): ln/log2/log10 of subnormal numbers
(Go's amd64 math.Log flushes them: ln(5e-324) is -709.09 there, -744.44 correctly) are kept out
of the table and checked on their own below.
"""

from __future__ import annotations

import math

import pytest

from probes.promql_query import instant_query, range_query
from tests.harness import promdiff
from tests.promql_table import OUTSIDE, REGEXES, expressions

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    from probes.synthetic.servers import PrometheusServer
    from tests.conftest import require_binary

    require_binary("prometheus")
    promtool = require_binary("promtool")
    workdir = tmp_path_factory.mktemp("promdiff")
    text = promdiff.page()
    promdiff.create_blocks(text, workdir, promtool)
    server = PrometheusServer({}, workdir=workdir)
    server.start()
    try:
        yield server.url, promdiff.llmwatch_store(text)
    finally:
        server.stop()


def ask(both, expr: str, t: float) -> tuple[tuple, tuple]:
    url, store = both
    want = promdiff.prom_answer(promdiff.prom_query(url, expr, t))
    got = promdiff.llmwatch_answer(instant_query(store, expr, round(t * 1000)))
    return want, got


def test_the_table_is_big_and_covers_every_supported_function():
    from probes.promql_eval import SUPPORTED_FUNCTIONS

    table = [e for e, _ in expressions()]
    assert len(table) > 700
    text = "\n".join(table)
    missing = [f for f in SUPPORTED_FUNCTIONS if f"{f}(" not in text]
    assert not missing, missing
    assert "SUM BY (job)" in text and "AND ON(code)" in text.replace("AND ON (code)", "AND ON(code)")


def test_every_expression_answers_as_prometheus_does(both):
    failures = []
    checked = 0
    for expr, ulps in expressions():
        for t in promdiff.INSTANTS:
            want, got = ask(both, expr, t)
            ordered = expr.lower().startswith("sort")
            diff = promdiff.differences(want, got, ordered=ordered, ulps=ulps)
            if got[0] == "unsupported" and want[0] != "error":
                diff = f"valid PromQL answered 'needs Prometheus' by llmwatch: {got[1]}"
            if diff:
                failures.append(f"{expr} @T0+{t - promdiff.T0:g}: {diff}")
            checked += 1
    assert checked > 3000
    assert not failures, f"{len(failures)} of {checked} answers differ:\n" + "\n".join(failures[:25])


def test_same_labelset_is_prometheus_error_text(both):
    for expr in ('ceil({__name__=~"http_.*",code="500"})', '-{__name__=~"http_requests_total|http_errors_total"}',
                 'histogram_quantile(0.9, {__name__=~"lat_seconds_bucket|lat2_seconds_bucket"})',
                 'label_replace(http_requests_total, "code", "", "", "")'):
        want, got = ask(both, expr, promdiff.T0 + 300)
        assert want[0] == got[0] == "error", (expr, want, got)
        assert "vector cannot contain metrics with the same labelset" in want[1]
        assert "vector cannot contain metrics with the same labelset" in got[1]


def test_every_regex_of_the_table_matches_the_same_values(both):
    """The RE2 table alone, so a regression names the pattern and why it is there."""
    for pattern, why in REGEXES:
        esc = pattern.replace("\\", "\\\\").replace('"', '\\"')
        for label in ("version", "inst"):
            want, got = ask(both, f'build_info{{{label}=~"{esc}"}}', promdiff.T0 + 300)
            assert not promdiff.differences(want, got), (pattern, why, want, got)


RANGE_EXPRS = ["rate(http_requests_total[1m])", "sum by (job) (rate(http_requests_total[5m]))", "edge", "short_lived",
               "histogram_quantile(0.9, rate(lat_seconds_bucket[2m]))", "absent(short_lived)", "time()",
               '-{__name__=~"http_requests_total|http_errors_total"}', "clamp(temp_celsius, 0, NaN)",
               "SUM(edge) BY (case)", "temp_celsius > BOOL 45", 'label_replace(edge, "c", "$1", "case", "(n.*)")']


@pytest.mark.parametrize("expr", RANGE_EXPRS)
def test_range_queries_answer_as_prometheus_does(both, expr):
    url, store = both
    start, end, step = promdiff.T0 - 60, promdiff.T0 + 960, 30
    want = promdiff.prom_answer(promdiff.prom_query(url, expr, start, end=end, step=step))
    got = promdiff.llmwatch_answer(range_query(store, expr, start * 1000, end * 1000, step * 1000))
    assert not promdiff.differences(want, got), promdiff.differences(want, got)


@pytest.mark.parametrize("expr", OUTSIDE)
def test_outside_the_subset_says_needs_prometheus(both, expr):
    want, got = ask(both, expr, promdiff.T0 + 300)
    assert want[0] != "error", f"not valid PromQL in Prometheus 2.42 either: {want}"
    assert got[0] == "unsupported", got
    assert "needs Prometheus" in got[1] and "bad_data" not in got[1]


@pytest.mark.parametrize("expr", ["Rate(http_requests_total[5m])", "nosuchfunction(temp_celsius)",
                                  "sum(", "temp_celsius{", 'temp_celsius{gpu=~"("}'])
def test_invalid_queries_are_errors_in_both_not_needs_prometheus(both, expr):
    want, got = ask(both, expr, promdiff.T0 + 300)
    assert want[0] == "error" and got[0] == "error", (want, got)


def test_ln_of_a_subnormal_is_correctly_rounded_here(both):
    """Deliberate difference: Prometheus (Go on amd64) answers ln(5e-324) = -709.0896 (log of the
    smallest normal); the true value, which llmwatch gives, is -744.4401."""
    want, got = ask(both, 'ln(edge{case="tiny"})', promdiff.T0 + 300)
    assert want[1][0][1] == pytest.approx(-709.0895657128241)
    assert got[1][0][1] == pytest.approx(math.log(5e-324)) == pytest.approx(-744.4400719213812)
