"""The direct-scrape PromQL evaluator: Prometheus 2.42 semantics, with hand-computed answers.

Each rate()/increase() case states the arithmetic of promql/functions.go extrapolatedRate:
increase = (last - first + resets) * (sampled + start_gap + end_gap) / sampled, where a gap is
extrapolated in full when shorter than 1.1 x the average sample spacing (else half a spacing),
and the start gap of a counter never reaches back past its zero point.
"""

from __future__ import annotations

import math

import pytest

from probes.config import Config, Price, Routing
from probes.detect import Detected, detection_query
from probes.profiles import builtin_profiles
from probes.promql_query import instant_query, range_query
from probes.promql_funcs import bucket_quantile
from probes.scrape_store import Store
from probes.signals import plan

T0 = 1_700_000_000_000  # ms


def store_with(series: dict[str, list[tuple[float, float]]], **labels: str) -> Store:
    """{'name{a="b"}': [(seconds after T0, value), ...]} -> a Store (job/instance added)."""
    from probes.exposition import parse_series

    st = Store(retention_s=3600)
    for raw, points in series.items():
        name, lab = parse_series(raw)
        full = {"__name__": name, "job": "j", "instance": "i:1", **lab, **labels}
        for t, v in points:
            st.add(full, T0 + int(t * 1000), v)
    return st


def one(st: Store, q: str, at: float) -> float | None:
    res = instant_query(st, q, T0 + int(at * 1000))
    assert res.ok, res.error
    if not res.samples:
        return None
    assert len(res.samples) == 1, res.samples
    return res.samples[0].value


def values(st: Store, q: str, at: float, key: str) -> dict[str, float]:
    res = instant_query(st, q, T0 + int(at * 1000))
    assert res.ok, res.error
    return {s.labels.get(key, ""): s.value for s in res.samples}


# -- rate / increase / delta -------------------------------------------------------------------

def test_rate_when_samples_cover_the_window_exactly():
    st = store_with({"c": [(t, t) for t in range(0, 61, 10)]})
    assert one(st, "rate(c[60s])", 60) == pytest.approx(1.0)
    assert one(st, "increase(c[1m])", 60) == pytest.approx(60.0)


def test_rate_extrapolates_to_both_window_edges_within_1_1_spacings():
    # samples at 5..55 s, values 10..60; window [0, 60]: result 50 over 50 s sampled,
    # gaps 5 s each side (< 11 s): 50 * 60/50 = 60; zero point 50*(10/50) = 10 s > 5 s: no clamp
    st = store_with({"c": [(5 + 10 * k, 10 + 10 * k) for k in range(6)]})
    assert one(st, "increase(c[60s])", 60) == pytest.approx(60.0)
    assert one(st, "rate(c[60s])", 60) == pytest.approx(1.0)


def test_counter_start_is_not_extrapolated_below_zero():
    # values 1..51 at 5..55 s: zero point 50*(1/50) = 1 s before the first sample, < 5 s gap:
    # 50 * (50 + 1 + 5)/50 = 56
    st = store_with({"c": [(5 + 10 * k, 1 + 10 * k) for k in range(6)]})
    assert one(st, "increase(c[60s])", 60) == pytest.approx(56.0)
    assert one(st, "rate(c[60s])", 60) == pytest.approx(56.0 / 60)


def test_far_edge_gets_half_a_spacing_and_zero_clamp_applies_to_counters_only():
    # samples at 30, 40, 50 s; window [0, 60]: start gap 30 s > 11 s -> +5 s; end gap 10 s -> +10 s
    st = store_with({"g": [(30, 100), (40, 110), (50, 120)], "z": [(30, 0), (40, 10), (50, 20)]})
    assert one(st, "delta(g[60s])", 60) == pytest.approx(20 * 35 / 20)        # 35
    assert one(st, "increase(g[60s])", 60) == pytest.approx(35.0)             # zero point 100 s away
    # z starts at 0: its zero point IS the first sample, so no start extrapolation: 20*30/20
    assert one(st, "increase(z[60s])", 60) == pytest.approx(30.0)


def test_counter_resets_add_the_value_before_the_reset():
    # 10 -> 20 (+10), reset to 5 (+5), -> 15 (+10) = 25; window [0, 30] covered exactly
    st = store_with({"c": [(0, 10), (10, 20), (20, 5), (30, 15)]})
    assert one(st, "increase(c[30s])", 30) == pytest.approx(25.0)
    assert one(st, "delta(c[30s])", 30) == pytest.approx(5.0)  # delta ignores resets
    assert one(st, "irate(c[30s])", 30) == pytest.approx(1.0)
    assert one(st, "irate(c[30s])", 20) == pytest.approx(0.5)  # reset: last value / 10 s


def test_range_is_closed_on_both_ends_and_needs_two_samples():
    st = store_with({"c": [(0, 0), (10, 10), (20, 20)]})
    assert one(st, "count_over_time(c[20s])", 20) == 3.0  # 0 s and 20 s both inside [0, 20]
    assert one(st, "rate(c[5s])", 20) is None               # one sample: no rate
    assert one(st, "rate(c[10s] offset 10s)", 20) == pytest.approx(1.0)


def test_over_time_functions():
    st = store_with({"up": [(0, 1), (5, 0), (10, 1), (15, 1)]})
    assert one(st, "avg_over_time(up[15s])", 15) == pytest.approx(0.75)
    assert one(st, "min_over_time(up[15s])", 15) == 0.0
    assert one(st, "max_over_time(up[15s])", 15) == 1.0
    assert one(st, "sum_over_time(up[15s])", 15) == 3.0
    assert one(st, "last_over_time(up[15s])", 15) == 1.0
    assert one(st, "quantile_over_time(0.5, up[15s])", 15) == 1.0


# -- instant selectors: lookback and staleness --------------------------------------------------

def test_lookback_is_five_minutes_inclusive():
    st = store_with({"g": [(0, 7)]})
    assert one(st, "g", 300) == 7.0
    assert one(st, "g", 300.001) is None
    assert one(st, "g", -1) is None


def test_a_series_missing_from_a_scrape_is_stale_at_once_and_down_targets_write_up_0():
    st = Store(retention_s=3600)
    st.ingest("j", "h:1", T0, [('a{x="1"}', 1.0, None), ('a{x="2"}', 2.0, None)])
    st.ingest("j", "h:1", T0 + 5000, [('a{x="1"}', 3.0, None)])
    assert values(st, "a", 4, "x") == {"1": 1.0, "2": 2.0}
    assert values(st, "a", 6, "x") == {"1": 3.0}  # x="2" stale since 5 s, not repeated for 5 m
    st.down("j", "h:1", T0 + 10_000)
    assert values(st, "a", 11, "x") == {}
    assert one(st, 'up{job="j", instance="h:1"}', 11) == 0.0
    assert one(st, "up", 6) == 1.0
    st.ingest("j", "h:1", T0 + 15_000, [('a{x="1"}', 4.0, None)])
    assert values(st, "a", 16, "x") == {"1": 4.0}  # back after the outage


def test_page_job_and_instance_labels_become_exported():
    st = Store()
    st.ingest("j", "h:1", T0, [('m{job="other",instance="x"}', 1.0, None)])
    res = instant_query(st, "m", T0)
    assert dict(res.samples[0].labels) == {"__name__": "m", "job": "j", "instance": "h:1",
                                           "exported_job": "other", "exported_instance": "x"}


def test_series_cap_keeps_the_first_series_and_says_how_many_were_dropped():
    st = Store(max_series=3)
    st.ingest("j", "h:1", T0, [(f'm{{n="{k}"}}', 1.0, None) for k in range(5)])
    assert st.stats()["series"] == 3 + 3  # + up, scrape_duration_seconds, scrape_samples_scraped
    assert st.dropped_series == 2


def test_retention_drops_old_points_and_dead_series():
    st = Store(retention_s=10)
    st.add({"__name__": "a"}, T0, 1.0)
    st.add({"__name__": "a"}, T0 + 8000, 2.0)
    st.add({"__name__": "b"}, T0, 1.0)
    assert st.prune(T0 + 15_000) == 1
    assert st.stats()["samples"] == 1 and st.label_values("__name__") == ["a"]


# -- histogram_quantile -------------------------------------------------------------------------

def test_histogram_quantile_interpolates_like_prometheus():
    b = [(0.1, 2.0), (1.0, 8.0), (math.inf, 10.0)]
    assert bucket_quantile(0.5, b) == pytest.approx(0.55)     # rank 5 in (0.1, 1]: 0.1 + 0.9 * 3/6
    assert bucket_quantile(0.05, b) == pytest.approx(0.025)   # lowest bucket starts at 0
    assert bucket_quantile(0.95, b) == 1.0                    # rank in +Inf: highest finite bound
    assert bucket_quantile(-0.1, b) == -math.inf and bucket_quantile(1.5, b) == math.inf


@pytest.mark.parametrize("buckets", [
    [(0.1, 2.0), (1.0, 8.0)],                      # no +Inf bucket
    [(0.1, 0.0), (math.inf, 0.0)],                 # no observations
    [(math.inf, 4.0)],                             # only +Inf
])
def test_histogram_quantile_nan_cases(buckets):
    assert math.isnan(bucket_quantile(0.5, buckets))


def test_histogram_quantile_monotonicity_fix_coalescing_and_negative_lowest_bound():
    # a bucket scraped later than its neighbour may be lower: counts forced monotonic (3 -> 5);
    # rank 6 falls in (2, 4]: 2 + 2 * (6-5)/(10-5) = 2.4 (unfixed counts would give 2.857)
    assert bucket_quantile(0.6, [(1, 5.0), (2, 3.0), (4, 10.0), (math.inf, 10.0)]) == pytest.approx(2.4)
    # same bound twice (e.g. "1" and "1.0") is one bucket
    assert bucket_quantile(0.5, [(1, 1.0), (1.0, 1.0), (math.inf, 4.0)]) == 1.0
    assert bucket_quantile(0.1, [(-1, 5.0), (math.inf, 10.0)]) == -1


def test_histogram_quantile_over_rates_groups_by_the_other_labels():
    pts = lambda n: [(0, 0), (30, n)]  # noqa: E731
    st = store_with({'h_bucket{le="0.1",m="a"}': pts(2), 'h_bucket{le="1",m="a"}': pts(8),
                     'h_bucket{le="+Inf",m="a"}': pts(10), 'h_bucket{le="+Inf",m="b"}': pts(0),
                     'h_bucket{le="1",m="b"}': pts(0), 'h_bucket{le="oops",m="a"}': pts(3)})
    got = values(st, "histogram_quantile(0.5, sum by (le, m) (rate(h_bucket[30s])))", 30, "m")
    assert got["a"] == pytest.approx(0.55)
    assert math.isnan(got["b"])  # count 0: NaN, which signals.py reports as no traffic


# -- operators ----------------------------------------------------------------------------------

def test_arithmetic_matching_group_left_and_set_operators():
    st = store_with({'util{uuid="a"}': [(0, 0.5)], 'util{uuid="b"}': [(0, 0.25)],
                     'info{uuid="a",name="GPU0"}': [(0, 1)], 'info{uuid="b",name="GPU1"}': [(0, 1)],
                     'err{c="5"}': [(0, 3)], 'tot{c="5"}': [(0, 6)], 'tot{c="2"}': [(0, 4)]})
    got = instant_query(st, "util * on (uuid) group_left (name) info", T0)
    assert {(s.labels["name"], s.value) for s in got.samples} == {("GPU0", 0.5), ("GPU1", 0.25)}
    assert "__name__" not in got.samples[0].labels
    assert values(st, "err / tot", 0, "c") == {"5": 0.5}
    assert values(st, "(err or tot * 0) / tot", 0, "c") == {"5": 0.5, "2": 0.0}
    assert values(st, "tot unless err", 0, "c") == {"2": 4.0}
    assert values(st, "tot and err", 0, "c") == {"5": 6.0}
    assert values(st, "tot > 5", 0, "c") == {"5": 6.0}
    assert values(st, "tot > bool 5", 0, "c") == {"5": 1.0, "2": 0.0}
    assert one(st, "count(tot > 100) or vector(0)", 0) == 0.0
    assert one(st, "sum(err) / sum(err - err)", 0) == math.inf
    assert math.isnan(one(st, "sum(err - err) / sum(err - err)", 0))


def test_matching_errors_read_like_prometheus():
    st = store_with({'a{x="1",y="1"}': [(0, 1)], 'a{x="1",y="2"}': [(0, 1)], 'b{x="1"}': [(0, 1)]})
    res = instant_query(st, "b * on (x) a", T0)
    assert not res.ok and "many-to-many" in res.error.message
    res = instant_query(st, "a * on (x) b", T0)
    assert not res.ok and "group_left" in res.error.message
    assert len(instant_query(st, "a * on (x) group_left b", T0).samples) == 2


def test_aggregations_and_scalar_helpers():
    st = store_with({'m{k="a",z="1"}': [(0, 1)], 'm{k="a",z="2"}': [(0, 3)], 'm{k="b",z="1"}': [(0, 8)]})
    assert values(st, "sum by (k) (m)", 0, "k") == {"a": 4.0, "b": 8.0}
    assert values(st, "avg without (z) (m)", 0, "k") == {"a": 2.0, "b": 8.0}
    assert values(st, "max by (k) (m)", 0, "k") == {"a": 3.0, "b": 8.0}
    assert values(st, "count by (k) (m)", 0, "k") == {"a": 2.0, "b": 1.0}
    assert one(st, "topk(1, m)", 0) == 8.0
    assert one(st, "sum(m) / scalar(count(m))", 0) == 4.0
    assert one(st, "clamp_max(sum(m), 5)", 0) == 5.0
    res = instant_query(st, 'group by (job, __name__) ({__name__=~"m|n"})', T0)
    assert [dict(s.labels) for s in res.samples] == [{"job": "j", "__name__": "m"}]
    res = instant_query(st, 'label_replace(m{z="2"}, "model", "$1", "k", "(?:x/)?(.*)")', T0)
    assert res.samples[0].labels["model"] == "a"


def test_scalar_and_string_results_and_range_selectors():
    st = store_with({"c": [(0, 0), (10, 10)]})
    res = instant_query(st, "time()", T0 + 5000)
    assert res.result_type == "scalar" and res.samples[0].value == T0 / 1000 + 5
    res = instant_query(st, "c[10s]", T0 + 10_000)
    assert res.result_type == "matrix" and res.series[0].points == ((T0 / 1000, 0.0), (T0 / 1000 + 10, 10.0))


def test_range_query_evaluates_each_step():
    st = store_with({"c": [(t, 2 * t) for t in range(0, 61, 5)]})
    res = range_query(st, "rate(c[10s])", T0 + 20_000, T0 + 40_000, 10_000)
    assert res.ok and res.result_type == "matrix"
    assert [p for p in res.series[0].points] == [(T0 / 1000 + 20, 2.0), (T0 / 1000 + 30, 2.0), (T0 / 1000 + 40, 2.0)]
    assert not range_query(st, "c", T0, T0 + 20_000_000, 1000).ok  # > 11,000 points
    assert not range_query(st, "c[5s]", T0, T0 + 10_000, 1000).ok


@pytest.mark.parametrize("query, words", [
    ("rate(c[5m:1m])", "needs Prometheus"),
    ("c @ 123", "needs Prometheus"),
    ("holt_winters(c[5m], 0.5, 0.5)", "needs Prometheus"),
    ('count_values("v", c)', "needs Prometheus"),
    ("sum(c", "bad_data"),
    ('{job=""}', "non-empty matcher"),
    ('c{a=~"("}', "error parsing regexp"),
    ("c == 1 == 2 +", "bad_data"),
    ("clamp_min(c)", "argument"),
    ("scalar()", "argument"),
    ('label_replace(c, "a")', "argument"),
    ("abs(c, 1)", "argument"),
    ('sum("x")', "bad_data"),
    ("1 < 2", "BOOL"),
    ("c and 1", "set operator"),
    ("rate(c)", "range vector"),
])
def test_outside_the_subset_or_invalid_is_a_one_line_bad_data_error(query, words):
    res = instant_query(store_with({"c": [(0, 1)]}), query, T0)
    assert not res.ok and res.error.kind == "bad_data"
    assert words in res.error.message and "\n" not in res.error.message


def test_every_profile_query_is_in_the_subset():
    """Render every signal of every built-in profile (headline and breakdown, with prices and a
    cloud reference so priced signals render) and evaluate each over a store holding one
    sample of each metric name: none may fail to parse or evaluate."""
    cfg = Config(prices={"gpt-4": Price(30, 60), "claude-sonnet": Price(3, 15)},
                 routing=Routing(cloud_reference="claude-sonnet", local_providers=("ollama",)))
    profiles = builtin_profiles()
    queries = {detection_query(profiles)}
    names: set[str] = set()
    for p in profiles:
        names |= p.metric_names()
        for pl in plan(Detected(p, "j", (), None), cfg, 30.0, at=T0 / 1000):
            queries |= {q for q in (pl.query, pl.breakdown_query) if q}
    st = Store()
    for n in names:
        st.add({"__name__": n, "job": "j", "le": "+Inf"}, T0 - 10_000, 1.0)
        st.add({"__name__": n, "job": "j", "le": "+Inf"}, T0, 2.0)
    assert len(queries) > 100
    for q in sorted(queries):
        res = instant_query(st, q, T0)
        assert res.ok, f"{q}\n{res.error}"


def test_truncated_and_mangled_queries_never_raise():
    st = store_with({'c{a="1"}': [(0, 1), (10, 2)]})
    base = ('histogram_quantile(0.95, sum by (le) (rate(c{a=~"1|2"}[30s]))) / scalar(sum(c)) '
            'or label_replace(vector(1), "x", "$1", "a", "(.*)") * on (a) group_left () c offset 5s')
    for i in range(len(base)):
        for q in (base[:i], base[i:], base[:i] + ")" + base[i:], base[:i] + '"' + base[i:]):
            res = instant_query(st, q, T0 + 10_000)
            assert res.ok or (res.error and res.error.kind == "bad_data" and "\n" not in res.error.message)
