"""Details a new user reads on the dashboard (issue 11, defects 8-10): clock-time axes, marks
beside over-threshold values (NO_COLOR and --ascii too), alerts coloured by severity from the
theme, and SVG exports whose text runs never start with spaces."""

from __future__ import annotations

import os
import time

import pytest
from textual.color import Color

from tests.test_dashboard_pilot import screen_text
from tests.test_dashboard_snapshots import fixed_app, inject
from tui.svgtext import braille_runs, keep_leading_spaces, leading_space_runs
from tui.widgets.chart import clock_ticks
from tui.widgets.glyphs import level_mark

pytestmark = pytest.mark.tui


@pytest.fixture
def tz(monkeypatch):
    def set_tz(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()
    yield set_tz
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("span, width, step, fmt_len", [
    (900, 50, 300, 5), (3600, 50, 600, 5), (3600, 160, 300, 5), (6 * 3600, 50, 3600, 5),
    (86400, 50, 21600, 5), (7 * 86400, 50, 2 * 86400, 5), (300, 50, 60, 5),
])
def test_clock_ticks_are_round_local_times_that_fit(tz, span, width, step, fmt_len):
    tz("UTC")
    end = 1_795_323_600.0 + 437.0  # 05:07:17 UTC
    ticks, labels = clock_ticks(end - span, end, width)
    assert 2 <= len(ticks) <= width // 8
    assert all(end - span <= t <= end for t in ticks)
    assert all(int(t) % step == 0 for t in ticks) and len(set(len(x) for x in labels)) == 1
    assert all(len(x) == fmt_len for x in labels)
    if step < 86400:
        assert all(x == time.strftime("%H:%M", time.gmtime(t)) for t, x in zip(ticks, labels))
    else:
        assert all(x == time.strftime("%m-%d", time.gmtime(t)) for t, x in zip(ticks, labels))


def test_clock_ticks_round_in_local_time(tz):
    tz("Asia/Kolkata")  # UTC+05:30: local quarter hours are not UTC quarter hours
    end = 1_795_323_600.0
    ticks, labels = clock_ticks(end - 3600, end, 40)   # room for 5 labels: quarter hours
    assert all(label.endswith(("00", "15", "30", "45")) for label in labels), labels
    assert labels == [time.strftime("%H:%M", time.localtime(t)) for t in ticks]


def test_level_marks_never_rely_on_colour():
    assert level_mark("warning") == "▲" and level_mark("critical") == "✖" and level_mark("ok") == ""
    assert level_mark("warning", ascii=True) == "!" and level_mark("critical", ascii=True) == "!!"


@pytest.mark.parametrize("no_color, ascii_", [(True, False), (True, True), (False, False)])
async def test_over_threshold_values_carry_a_mark(monkeypatch, no_color, ascii_):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    app = fixed_app(ascii_=ascii_)
    async with app.run_test(size=(160, 48)) as pilot:
        await inject(pilot)
        assert app.no_color is no_color
        text = screen_text(app)
        warn, crit = ("!", "!!") if ascii_ else ("▲", "✖")
        assert f"2.40 % {warn}" in text            # errors above the 1 % warning threshold
        assert f"1 {crit}" in text                 # a firing alert
        assert "1.85 s " + warn not in text        # P95 under its threshold: no mark


async def test_alerts_are_coloured_by_severity_from_the_theme():
    app = fixed_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await inject(pilot)
        panel = app.screen.query_one("#panel-alerts")
        theme = app.current_theme
        crit = panel.get_component_rich_style("alert--critical")
        warn = panel.get_component_rich_style("alert--warning")
        for style, want in ((crit, theme.error), (warn, theme.warning)):
            got, target = style.color.triplet, Color.parse(want).rgb
            assert max(abs(a - b) for a, b in zip(got, target)) <= 2, (got, want)
        body = panel.render()
        firing = [span for span in body.spans if body.plain[span.start:span.end].startswith("firing")]
        assert firing and firing[0].style == crit


def test_svg_text_runs_never_start_with_spaces():
    svg = ('<text class="r2" x="12.2" y="20" textLength="48.8" clip-path="url(#l0)">Logs</text>'
           '<text class="r3" x="61" y="20" textLength="122" clip-path="url(#l0)">&#160;&#160;snapshot</text>'
           '<text class="r3" x="183" y="20" textLength="24.4" clip-path="url(#l0)">&#160;&#160;</text>'
           '<text class="r1" x="0" y="44" textLength="36.6" clip-path="url(#l1)">a&amp;b</text>')
    assert len(leading_space_runs(svg)) == 2
    fixed = keep_leading_spaces(svg)
    assert leading_space_runs(fixed) == []
    assert 'x="85.4" y="20" textLength="97.6" clip-path="url(#l0)">snapshot</text>' in fixed
    assert "a&amp;b</text>" in fixed and fixed.count("<text") == 3  # the spaces-only run is dropped
    assert os.environ.get("TZ") != "Asia/Kolkata"


def test_svg_braille_runs_become_one_element_per_cell():
    svg = '<text class="r4" x="100" y="20" textLength="48.8" clip-path="url(#l0)">\u28c0\u2800\u2824\u2812</text>'
    assert len(braille_runs(svg)) == 1
    fixed = keep_leading_spaces(svg)
    assert braille_runs(fixed) == [] and fixed.count("<text") == 3  # the blank braille cell is not drawn
    assert 'x="100" ' in fixed and 'x="124.4" ' in fixed and 'x="136.6" ' in fixed
