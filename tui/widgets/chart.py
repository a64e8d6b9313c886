"""Time-series charts drawn by plotext and handed to Textual as rich Text.

Why plotext: braille line plots with axes and ticks in a few ms, no terminal of its own (we
only take its built string). The x axis is labelled with local clock times at round steps
(HH:MM, or MM-DD over days), as Grafana does, so a spike reads "at 14:05", and the axis always
spans the whole range; values are scaled to the unit people read (ratio -> %, bytes -> GiB) so
tick labels are short.

Never raises, never hangs: points arrive sanitised (probes.dashboard_model.chart_points: finite,
bounded, inside the window), the plot size is bounded, anything that still does not scale to a
finite number is skipped, and an exception from plotext becomes a message on the panel.
"""

from __future__ import annotations

import math
import time
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


# Tick steps a person reads as round clock times; the first that leaves room for every label wins.
TICK_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 2 * 86400, 7 * 86400)
TICK_CELLS = 8   # a label ("14:05", "11-22") and its gap


def clock_ticks(start: float, end: float, width: int) -> tuple[list[float], list[str]]:
    """Round local clock times inside [start, end] and their labels, at most width // 8 of them."""
    span = max(end - start, 1.0)
    room = max(2, width // TICK_CELLS)
    step = next((s for s in TICK_STEPS if span / s <= room), TICK_STEPS[-1])
    offset = time.localtime(end).tm_gmtoff  # round in local time: 14:00, not 14:00 UTC
    first = math.ceil((start + offset) / step) * step - offset
    fmt = "%m-%d" if step >= 86400 else "%H:%M"
    positions = [first + i * step for i in range(int((end - first) // step) + 1)]
    return positions, [time.strftime(fmt, time.localtime(p)) for p in positions]


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


def _xy(points, start: float, end: float, factor: float) -> tuple[list[float], list[float]]:
    """Plot coordinates: finite, and clamped to the x limits. A point just outside them (the
    model allows a step of tolerance) with a steep segment made plotext's native line drawing
    abort with std::bad_alloc (found by tests/test_properties.py)."""
    xs, ys = [], []
    lo = start - end  # x is seconds before the end of the range
    for t, v in points:
        x, y = t - end, v * factor
        if math.isfinite(x) and math.isfinite(y):
            xs.append(min(max(x, lo), 0.0))
            ys.append(y)
    return xs, ys


def _render(chart: Chart, width: int, height: int, lines: Sequence[Line], ascii: bool, colour: bool,
            legend: bool) -> Text:
    factor, _ = scale_for(chart.unit)
    fig = plotext.figure
    fig.clear()
    fig.plot_size(width, height - (1 if legend else 0))
    fig.theme("colorless" if not colour else "dark")
    for i, line in enumerate(lines):
        xs, ys = _xy(line.points, chart.start, chart.end, factor)
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
    ticks, labels = clock_ticks(chart.start, chart.end, width)
    fig.ruler("x").lim(chart.start - chart.end, 0)  # the whole range, never the future
    fig.ruler("x").ticks([t - chart.end for t in ticks], labels)
    fig.legend(False)
    built = str(fig.build()).rstrip("\n")
    if ascii:
        built = to_ascii(built)
    text = _foreground_only(Text.from_ansi(built, no_wrap=True, end=""), colour)
    if legend:
        text.append("\n")
        text.append_text(legend_text(lines, ascii, colour))
    return text


def legend_text(lines: Sequence[Line], ascii: bool = False, colour: bool = True) -> Text:
    """One line under the chart: a coloured mark and the name of each series."""
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    for i, line in enumerate(lines):
        mark = ASCII_MARKERS[i % len(ASCII_MARKERS)] if ascii else "■"
        style = Style(color=Color.from_rgb(*PALETTE[i % len(PALETTE)])) if colour else Style()
        if i:
            out.append("  ")
        out.append(mark, style=style)
        out.append(" " + plain(line.name, 80))
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
