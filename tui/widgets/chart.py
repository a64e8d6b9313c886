"""Time-series charts drawn by plotext and handed to Textual as rich Text.

Why plotext: braille line plots with axes and ticks in a few ms, no terminal of its own (we
only take its built string). The x axis is time before the end of the range ("-45m" ... "0"),
which reads the same at any hour; values are scaled to the unit people read (ratio -> %,
bytes -> GiB) so tick labels are short.

Never raises, never hangs: points arrive sanitised (probes.dashboard_model.chart_points: finite,
bounded, inside the window), the plot size is bounded, anything that still does not scale to a
finite number is skipped, and an exception from plotext becomes a message on the panel.
"""

from __future__ import annotations

import math
from typing import Sequence

import plotext
from rich.color import Color
from rich.style import Style
from rich.text import Span, Text

from probes.dashboard_model import Chart, Line
from tui.output import plain
from tui.widgets.glyphs import to_ascii

# Series colours, readable on dark and light backgrounds (RGB triples for plotext).
PALETTE = [(0, 175, 255), (255, 175, 0), (0, 200, 120), (230, 80, 200), (255, 95, 95),
           (150, 150, 255), (180, 200, 0), (0, 210, 210)]
ASCII_MARKERS = "*+ox#@%&"

_SCALE = {"ratio": (100.0, "%"), "bytes": (1 / 2**30, "GiB"), "s": (1.0, "s")}


def scale_for(unit: str) -> tuple[float, str]:
    return _SCALE.get(unit, (1.0, unit))


def time_axis(range_s: float) -> tuple[float, str]:
    """Divide seconds by this to get the x unit named by the suffix."""
    if range_s > 2 * 86400:
        return 86400.0, "d"
    if range_s > 3 * 3600:
        return 3600.0, "h"
    return 60.0, "m"


def render_chart(chart: Chart, width: int, height: int, lines: Sequence[Line] | None = None,
                 ascii: bool = False, colour: bool = True, legend: bool = True) -> Text:
    """The chart as Text of exactly `height` lines (at most `width` cells wide)."""
    lines = chart.lines if lines is None else lines
    if width < 20 or height < 4:
        return Text("(too small)")
    if not lines:
        return Text("")
    span = chart.end - chart.start
    if not (math.isfinite(span) and math.isfinite(chart.end)):
        return Text("chart not drawn: the time window is not finite", style="dim")
    try:
        return _render(chart, min(width, MAX_WIDTH), min(height, MAX_HEIGHT), lines, ascii, colour, legend)
    except Exception as exc:  # noqa: BLE001 - a plotting bug must cost one panel, not the app
        return Text(f"chart not drawn ({type(exc).__name__}); the numbers are in the zoom view (Enter)",
                    style="dim")


MAX_WIDTH, MAX_HEIGHT = 400, 200


def _xy(points, start: float, end: float, div: float, factor: float) -> tuple[list[float], list[float]]:
    """Plot coordinates: finite, and clamped to the x limits. A point just outside them (the
    model allows a step of tolerance) with a steep segment made plotext's native line drawing
    abort with std::bad_alloc (found by tests/test_properties.py)."""
    xs, ys = [], []
    lo = (start - end) / div
    for t, v in points:
        x, y = (t - end) / div, v * factor
        if math.isfinite(x) and math.isfinite(y):
            xs.append(min(max(x, lo), 0.0))
            ys.append(y)
    return xs, ys


def _render(chart: Chart, width: int, height: int, lines: Sequence[Line], ascii: bool, colour: bool,
            legend: bool) -> Text:
    factor, _ = scale_for(chart.unit)
    div, suffix = time_axis(max(chart.end - chart.start, 1.0))
    fig = plotext.figure
    fig.clear()
    fig.plot_size(width, height - (1 if legend else 0))
    fig.theme("colorless" if not colour else "dark")
    for i, line in enumerate(lines):
        xs, ys = _xy(line.points, chart.start, chart.end, div, factor)
        if not xs:
            continue
        if ascii:
            mark = plotext.marker(ASCII_MARKERS[i % len(ASCII_MARKERS)],
                                  PALETTE[i % len(PALETTE)] if colour else None)
        else:
            mark = plotext.marker("braille", PALETTE[i % len(PALETTE)] if colour else None)
        sig = fig.signal(xs, ys, marker=mark)
        if len(xs) > 1:
            sig.lines()
        fig.draw(sig)
    fig.ruler("x").lim(-(chart.end - chart.start) / div, 0)  # the whole range, never the future
    fig.legend(False)
    built = str(fig.build()).rstrip("\n")
    if ascii:
        built = to_ascii(built)
    text = _foreground_only(Text.from_ansi(built, no_wrap=True, end=""), colour)
    if legend:
        text.append("\n")
        text.append_text(legend_text(lines, suffix, ascii, colour))
    return text


def legend_text(lines: Sequence[Line], suffix: str, ascii: bool = False, colour: bool = True) -> Text:
    """One line under the chart: a coloured mark and the name of each series, and the x unit."""
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    out.append(f"{suffix} ago ", style="dim")
    for i, line in enumerate(lines):
        mark = ASCII_MARKERS[i % len(ASCII_MARKERS)] if ascii else "■"
        style = Style(color=Color.from_rgb(*PALETTE[i % len(PALETTE)])) if colour else Style()
        out.append(f" {mark} ", style=style)
        out.append(plain(line.name, 80))
    return out


def _foreground_only(text: Text, colour: bool) -> Text:
    """plotext paints a background; the panel has its own. Keep series colours, dim the axes."""
    if not colour:
        return Text(text.plain, no_wrap=True, end="")
    spans = []
    for span in text.spans:
        style = span.style if isinstance(span.style, Style) else Style.parse(str(span.style))
        c = style.color
        if c is None or c.triplet is None and c.number is not None and c.number < 16:
            spans.append(Span(span.start, span.end, Style(dim=True)))
        else:
            spans.append(Span(span.start, span.end, Style(color=c)))
    text.spans = spans
    return text
