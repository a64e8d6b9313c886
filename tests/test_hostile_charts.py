"""Chart data from a broken exporter: NaN, +/-Inf, float64's maximum, timestamps at 0, -1, 1e12.

The issue's three cases, reproduced with a Prometheus (tests/harness/hostile.py) answering range
queries with those points: the live dashboard died (a NaN in plotext's tick labels), `snapshot
--timeout 5s` ran past 40 s (a point at timestamp 0), and the process aborted with std::bad_alloc
(a point at 1e12). Now the points are dropped before any chart sees them, the panel says how
many, and both the real `llmwatch snapshot` and the live dashboard finish within their deadlines.
"""

from __future__ import annotations

import math

import pytest

from probes.dashboard_model import MAX_POINTS, Chart, Dropped, Line, chart_points
from tests.harness.hostile import HostileServer, good_points
from tests.harness.terminal import clean_env, run_pty
from tui.widgets.chart import render_chart

MAX_FLOAT = "1.7976931348623157e+308"
CASES = {
    "max-float value": lambda s, e, st: good_points(s, e, st)[:-1] + [(e, MAX_FLOAT)],
    "timestamps 0 and -1": lambda s, e, st: [(0, "1"), (-1, "2")] + good_points(s, e, st),
    "timestamp 1e12": lambda s, e, st: good_points(s, e, st) + [(1e12, "1")],
    "NaN and infinities": lambda s, e, st: good_points(s, e, st) + [(e - 1, "NaN"), (e - 2, "+Inf"), (e - 3, "-Inf")],
}
NOW = 1_800_000_000.0


def test_chart_points_drop_and_count_what_cannot_be_drawn():
    raw = [(NOW - 60, 1.0), (NOW - 30, float("nan")), (NOW - 20, math.inf), (NOW - 10, 1.7976931348623157e308),
           (0.0, 1.0), (-1.0, 1.0), (1e12, 1.0), (NOW + 3600, 1.0), (NOW - 5, 2.0)]
    points, dropped = chart_points(raw, NOW - 3600, NOW, 60)
    assert points == ((NOW - 60, 1.0), (NOW - 5, 2.0))
    assert dropped == Dropped(non_finite=2, huge=1, outside=4)
    assert dropped.note() == "7 points not drawn: 2 non-finite, 1 too large, 4 outside the window"
    assert chart_points([(NOW, float("nan"))] * 3, NOW - 60, NOW)[1].note() == "3 points not drawn: non-finite"
    many, lost = chart_points([(NOW - i * 1e-3, 1.0) for i in range(3 * MAX_POINTS)], NOW - 3600, NOW)
    assert len(many) <= MAX_POINTS and lost.thinned == 3 * MAX_POINTS - len(many)
    assert [t for t, _ in many] == sorted(t for t, _ in many)


@pytest.mark.parametrize("unit", ["s", "ratio", "bytes", "req/s"])
def test_render_chart_with_extreme_but_finite_values_draws(unit):
    lines = (Line("a", ((NOW - 60, -1e300), (NOW - 30, 1e300))), Line("b", ((NOW - 10, 5e-324),)))
    chart = Chart("latency", "Latency", unit, lines, "ok", "", NOW - 3600, NOW, 60)
    text = render_chart(chart, 60, 12)
    assert len(text.plain.splitlines()) == 12


def _env(tmp_path):
    return clean_env(tmp_path)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", CASES)
def test_snapshot_finishes_within_its_deadline_and_says_what_was_not_drawn(case, tmp_path):
    with HostileServer("vllm", points=CASES[case]) as server:
        run = run_pty(["snapshot", "--prometheus-url", server.url, "--format", "text", "--timeout", "5s"],
                      _env(tmp_path), timeout=15)
    assert run.code == 0, (case, run.code, run.text[-2000:])
    assert run.elapsed < 15
    assert "not drawn" in run.text and "Traceback" not in run.text and "bad_alloc" not in run.text


@pytest.mark.tui
@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", ["max-float value", "timestamps 0 and -1", "timestamp 1e12"])
def test_live_dashboard_survives_and_quits_on_q(case, tmp_path):
    with HostileServer("vllm", points=CASES[case]) as server:
        run = run_pty(["--prometheus-url", server.url, "--refresh", "1s"], _env(tmp_path), timeout=30,
                      keys=[(6.0, b"q")])
    assert run.code == 0, (case, run.code, run.text[-2000:])
    assert run.elapsed < 15
    assert b"not drawn" in run.out and b"Traceback" not in run.out and b"bad_alloc" not in run.out
