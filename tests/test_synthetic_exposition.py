"""Unit tests of the hand-written exposition dialects, the strict parser and the truth maths."""

from __future__ import annotations

import math

import pytest

from probes.synthetic import truth
from probes.synthetic.exposition import (GO, NODE, PYTHON, Registry, go_float, js_float, python_float,
                                         rust_float)
from probes.synthetic.model import Event, Ring
from probes.synthetic.parse import ExpositionError, check_histograms, parse, sample_names


@pytest.mark.parametrize("value,py,go,js", [
    (0, "0.0", "0", "0"), (1, "1.0", "1", "1"), (1523, "1523.0", "1523", "1523"),
    (0.005, "0.005", "0.005", "0.005"), (81559, "81559.0", "81559", "81559"),
    (1.7e9, "1.7e+09", "1.7e+09", "1700000000"), (math.inf, "+Inf", "+Inf", "+Inf"),
])
def test_number_formats_follow_each_client_library(value: float, py: str, go: str, js: str) -> None:
    assert (python_float(value), go_float(value), js_float(value)) == (py, go, js)


def test_rust_float_never_uses_exponent() -> None:
    assert rust_float(1e-7) == "0.0000001"
    assert rust_float(0.0001 * 1.5) == "0.00015000000000000001"


def test_python_dialect_counter_has_total_and_created_families() -> None:
    reg = Registry(PYTHON)
    c = reg.counter("foo_total", "Foo things", ["a"])
    c.inc({"a": "x"}, 2)
    fams = parse(reg.render())
    assert fams["foo_total"].kind == "counter"
    assert fams["foo_created"].kind == "gauge"
    assert [s.value for s in fams["foo_total"].samples] == [2.0]


def test_node_dialect_puts_le_first_and_has_no_created() -> None:
    reg = Registry(NODE)
    h = reg.histogram("lat_seconds", "Latency", ["route"], [0.1, 1])
    h.observe({"route": "/a"}, 0.5)
    text = reg.render()
    assert 'lat_seconds_bucket{le="1",route="/a"} 1' in text
    assert "_created" not in text
    check_histograms(parse(text))


def test_labelless_counter_and_histogram_exist_at_zero() -> None:
    reg = Registry(GO)
    reg.counter("c_total", "c")
    reg.histogram("h", "h", (), [1])
    assert sample_names(parse(reg.render())) == {"c_total", "h_bucket", "h_count", "h_sum"}


@pytest.mark.parametrize("bad", [
    "foo{a=\"x} 1\n",                                   # unterminated label
    "foo 1\nbar 2\nfoo 3\n",                            # family not contiguous
    "# TYPE foo countr\nfoo 1\n",                       # unknown type
    "foo{a=\"1\",a=\"2\"} 1\n",                         # duplicate label
    "foo 1\nfoo 2\n",                                   # duplicate series
    "foo abc\n",                                        # bad value
])
def test_parser_rejects_invalid_exposition(bad: str) -> None:
    with pytest.raises(ExpositionError):
        parse(bad)


def test_histogram_invariants_are_enforced() -> None:
    base = "# TYPE h histogram\n"
    with pytest.raises(ExpositionError, match="cumulative"):
        check_histograms(parse(base + 'h_bucket{le="1"} 5\nh_bucket{le="+Inf"} 3\nh_count 3\nh_sum 1\n'))
    with pytest.raises(ExpositionError, match="_count"):
        check_histograms(parse(base + 'h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 3\nh_count 4\nh_sum 1\n'))
    with pytest.raises(ExpositionError, match="Inf"):
        check_histograms(parse(base + 'h_bucket{le="1"} 1\nh_count 1\nh_sum 1\n'))


def _ev(seq: int, t: float, latency: float, error: bool = False, **labels: str) -> Event:
    return Event(seq, t, "svc", "request", labels, latency, error, 10, 20, 0.5, "m", labels.get("backend", ""))


def test_truth_functions_on_known_events() -> None:
    evs = [_ev(i, float(i), latency=i / 10, error=(i % 4 == 0), backend="local" if i % 2 else "cloud")
           for i in range(1, 11)]
    assert truth.count(evs, 0, 10) == 10
    assert truth.count(evs, 5, 10) == 5              # (start, end]
    assert truth.request_rate(evs, 0, 10) == 1.0
    assert truth.error_ratio(evs, 0, 10) == 0.2      # events 4 and 8
    assert truth.error_ratio(evs, 20, 30) is None
    assert truth.quantile(evs, 0.5, 0, 10) == 0.5    # nearest rank: 5th of 10
    assert truth.quantile(evs, 0.95, 0, 10) == 1.0
    assert truth.tokens_per_second(evs, 0, 10, "out") == 20.0
    assert truth.cost_per_hour(evs, 0, 10) == pytest.approx(0.5 * 10 / 10 * 3600)
    assert truth.share_by(evs, "backend", 0, 10) == {"cloud": 0.5, "local": 0.5}
    assert truth.bucket_bounds(0.3, [0.1, 0.25, 0.5]) == (0.25, 0.5)
    assert truth.bucket_bounds(0.5, [0.1, 0.25, 0.5]) == (0.25, 0.5)   # le is inclusive
    assert truth.bucket_bounds(9, [0.1, 1]) == (1.0, math.inf)


def test_ring_drops_by_age_and_count() -> None:
    ring: Ring[Event] = Ring(max_age_s=10, max_count=5)
    for i in range(8):
        ring.append(_ev(i, float(i), 0.1))
    assert [e.seq for e in ring.between()] == [3, 4, 5, 6, 7]
    ring.append(_ev(99, 30.0, 0.1))
    assert [e.seq for e in ring.between()] == [99]
