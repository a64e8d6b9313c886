"""The demo's first frame as a new user sees it (issue 11, defects 8, 9, 10): in direct-scrape mode
(no Prometheus needed), rendered by the same code as `llmwatch snapshot`.

- every chart spans its range at once (an hour of history in the store, not data at the edge);
- the time axis reads clock times (HH:MM), not minutes ago;
- no text run together: the plain text keeps its separators, and no SVG text element starts
  with spaces (librsvg drops them and draws "Logs  snapshot" as "Logssnapshot");
- `?` is in the footer at 80x24; the cost panel names its windows.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from probes.demo import Demo
from tests.harness.screen import axis_labels, chart_coverage
from tui.cmd_demo import build_context
from tui.cmd_snapshot import render
from tui.svgtext import braille_runs, leading_space_runs

pytestmark = pytest.mark.tui
CHARTS = ("Latency P50/P95/P99", "Requests/s by label", "Error rate")


@pytest.fixture(scope="module")
def demo():
    d = Demo("default", with_prometheus=False, seed=21).start()
    try:
        yield d
    finally:
        d.stop()


def _render(demo, fmt: str, size=(160, 48), screen: str = "dashboard", query: str | None = None) -> str:
    out, loaded = asyncio.run(render(build_context(demo), screen, size, fmt, 30.0, query))
    assert loaded
    return out


def test_history_is_in_the_store_before_the_first_scrape(demo):
    assert demo.backfill is not None and demo.backfill.end <= time.time()
    assert demo.backfill.end - demo.backfill.start == pytest.approx(3600)
    ctx = build_context(demo)
    store = ctx.prometheus.store
    up = store.select("up", [("job", "=", "api-gateway")])
    assert len(up) == 1 and up[0].ts[0] / 1000 <= time.time() - 3590
    assert len(up[0].ts) >= 700  # 15 min at every 2 s scrape, the 45 before at 10 s


def test_first_frame_charts_span_the_range_with_clock_axes(demo):
    text = _render(demo, "text")
    for title in CHARTS:
        covered, first_fifth = chart_coverage(text, title)
        assert covered > 0.9 and first_fifth > 0.9, (title, covered, first_fifth, text)
        labels = axis_labels(text, title)
        assert len(labels) >= 2, (title, text)
    assert " ago" not in text


def test_nothing_runs_together(demo):
    text = _render(demo, "text")
    for words in ("series in s", "series in req/s", "series in %", "% cloud", "today since 00:00"):
        assert words in text, (words, text)
    svg = _render(demo, "svg")
    assert leading_space_runs(svg) == [] and braille_runs(svg) == []
    logs = _render(demo, "svg", (160, 40), "logs", '{job="api-gateway"}')
    assert leading_space_runs(logs) == []


def test_help_key_visible_at_80x24(demo):
    text = _render(demo, "text", (80, 24))
    footer = text.rstrip("\n").splitlines()[-1]
    assert footer.startswith("? help") and "a alerts" in footer, footer


def test_cost_panel_names_each_window(demo):
    text = _render(demo, "text")
    assert "last 15m $" in text and "today since 00:00 $" in text and "range $" not in text
