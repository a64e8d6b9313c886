"""Log volume: lines per time step, stacked by level, over the logs screen's window.

Fed with the series of `sum by (level) (count_over_time(<query> [<step>s]))`; it does no I/O.
A level the shipper did not label (no `level` stream label) is counted as "other".
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from probes.durations import format_duration
from probes.logql import LEVELS, level_of_word
from tui.output import plain

ORDER = (*LEVELS, "other")  # bottom to top
BLOCKS = " ▁▂▃▄▅▆▇█"


def effective_step(series: Iterable, step: float) -> float:
    """The step the server really used: Loki widens a step that would give too many points."""
    stamps = sorted({t for s in series for t, _ in s.points})
    gaps = [b - a for a, b in zip(stamps, stamps[1:]) if b > a]
    return max(step, min(gaps)) if gaps else step


def bin_counts(series: Iterable, start: float, end: float, step: float) -> dict[str, list[float]]:
    """level -> counts per step bucket over [start, end)."""
    n = max(1, math.ceil((end - start) / step))
    out: dict[str, list[float]] = {}
    for s in series:
        level = level_of_word(s.labels.get("level")) or "other"
        bins = out.setdefault(level, [0.0] * n)
        for t, v in s.points:
            if v is None or not math.isfinite(v):
                continue
            # count_over_time at t counts (t - step, t]: that is the bucket ending at t.
            i = min(n - 1, max(0, int(math.ceil((t - start) / step)) - 1))
            bins[i] += v
    return out


def fmt_count(v: float) -> str:
    if v >= 10_000:
        return f"{v / 1000:.0f}k"
    if v >= 1000:
        return f"{v / 1000:.1f}k"
    return f"{v:.0f}"


class LogVolume(Widget):
    """A stacked bar chart: one column per time bucket, the legend with totals below."""

    COMPONENT_CLASSES = {"log-volume--error", "log-volume--warn", "log-volume--info", "log-volume--debug",
                         "log-volume--other", "log-volume--legend", "log-volume--message"}

    def __init__(self, *, ascii: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ascii = ascii
        self._bins: dict[str, list[float]] = {}
        self._message = "loading log volume…"
        self._step = 0.0

    def set_series(self, series: Iterable, start: float, end: float, step: float) -> None:
        series = list(series)
        self._step = effective_step(series, step)
        self._bins = bin_counts(series, start, end, self._step)
        self._message = "" if any(any(b) for b in self._bins.values()) else "no lines in this window"
        self.refresh()

    def set_message(self, message: str) -> None:
        self._bins = {}
        self._message = plain(message, 300)
        self.refresh()

    @property
    def totals(self) -> Mapping[str, float]:
        return {level: sum(b) for level, b in self._bins.items()}

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"log-volume--{name}", partial=True)

    def render(self) -> Text:
        width, height = self.size.width, max(1, self.size.height)
        if self._message or not self._bins:
            return Text(self._message, style=self._style("message"), no_wrap=True, overflow="ellipsis")
        bar_rows = max(1, height - 1)
        n = len(next(iter(self._bins.values())))
        columns = []
        for c in range(width):  # column -> buckets it covers (merge when buckets > columns)
            lo, hi = c * n // width, max(c * n // width + 1, (c + 1) * n // width)
            columns.append({lv: sum(self._bins.get(lv, [0] * n)[lo:hi]) for lv in ORDER})
        top = max((sum(col.values()) for col in columns), default=0) or 1
        text = Text(no_wrap=True, overflow="crop")
        eighths_full = bar_rows * 8
        for r in range(bar_rows - 1, -1, -1):
            for col in columns:
                total = sum(col.values())
                filled = round(total / top * eighths_full) if total else 0
                if total and filled == 0:
                    filled = 1  # a column with any line is never invisible
                cell = max(0, min(8, filled - r * 8))
                if cell == 0:
                    text.append(" ")
                    continue
                # the level covering most of this cell's filled part, stacked error-first
                lo_e, hi_e, acc, best, best_amt = r * 8, r * 8 + cell, 0.0, "other", -1.0
                for lv in ORDER:
                    size = col[lv] / total * filled
                    overlap = max(0.0, min(hi_e, acc + size) - max(lo_e, acc))
                    if overlap > best_amt:
                        best, best_amt = lv, overlap
                    acc += size
                char = "#" if self.ascii else BLOCKS[cell]
                text.append(char, style=self._style(best))
            text.append("\n")
        legend = Text(no_wrap=True, overflow="ellipsis")
        for lv in ORDER:
            total = self.totals.get(lv)
            if total is None:
                continue
            legend.append("#" if self.ascii else "■", style=self._style(lv))
            legend.append(f" {lv} {fmt_count(total)}  ", style=self._style("legend"))
        peak = max((sum(b[i] for b in self._bins.values()) for i in range(n)), default=0)
        legend.append(f"peak {fmt_count(peak)} lines per {format_duration(self._step)}", style=self._style("legend"))
        text.append_text(legend)
        return text
