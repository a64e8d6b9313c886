"""Sparklines, bars and the ASCII fallback: the few glyphs the panels draw themselves.

Why our own: a stat card's 24-point trend and a share bar are one line of text each; a chart
library would be overkill. `--ascii` (for terminals and fonts without block or braille
characters) swaps every glyph for a 7-bit one, including the box drawing plotext emits.
"""

from __future__ import annotations

import math
from typing import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"
ASCII_LEVELS = "_.-=+*#"
_BOX = str.maketrans({
    "─": "-", "━": "-", "│": "|", "┃": "|", "┌": "+", "┐": "+", "└": "+", "┘": "+", "├": "+",
    "┤": "+", "┬": "+", "┴": "+", "┼": "+", "╭": "+", "╮": "+", "╰": "+", "╯": "+", "•": "*",
    "█": "#", "▏": "|", "▕": "|", "…": "~", "━": "-", "┏": "+", "┓": "+", "┗": "+", "┛": "+", "●": "*",
    "○": "o", "→": ">", "←": "<", "↑": "^", "↓": "v", "·": ".", "■": "#", "▲": "!", "✖": "x",
})


# Over-threshold marks beside a value, so a status never relies on colour alone (NO_COLOR,
# colour-blind readers, a monochrome mail of `llmwatch snapshot --format text`).
LEVEL_MARKS = {"warning": "▲", "critical": "✖"}
ASCII_LEVEL_MARKS = {"warning": "!", "critical": "!!"}


def level_mark(level: str, ascii: bool = False) -> str:
    """"▲" for warning, "✖" for critical ("!" / "!!" in --ascii), "" otherwise."""
    return (ASCII_LEVEL_MARKS if ascii else LEVEL_MARKS).get(level, "")


def sparkline(values: Sequence[float], width: int, ascii: bool = False) -> str:
    """The last `width` values scaled between their min and max; flat data is a flat line."""
    vals = [v for v in values if math.isfinite(v)][-width:]
    if not vals:
        return ""
    levels = ASCII_LEVELS if ascii else BLOCKS
    lo, hi = min(vals), max(vals)
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        return levels[0 if hi == 0 else len(levels) // 2] * len(vals)
    top = len(levels) - 1
    return "".join(levels[round((v - lo) / (hi - lo) * top)] for v in vals)


def hbar(fraction: float | None, width: int, ascii: bool = False) -> str:
    """A horizontal bar of `width` cells filled to `fraction` (0..1), with eighth-cell steps."""
    if width <= 0:
        return ""
    if fraction is None or not math.isfinite(fraction):
        return (" " if not ascii else ".") * width
    fraction = min(max(fraction, 0.0), 1.0)
    if ascii:
        full = round(fraction * width)
        return "#" * full + "." * (width - full)
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part] if part and full < width else ""
    return ("█" * full + partial).ljust(width)


def to_ascii(text: str) -> str:
    """Box drawing, blocks and braille replaced by ASCII (braille dots become '.')."""
    text = text.translate(_BOX)
    return "".join("." if 0x2800 < ord(ch) <= 0x28FF else (" " if ch == "\u2800" else ch) for ch in text)


def to_ascii_cells(text: str) -> str:
    """to_ascii(), then any other non-ASCII character as "?" per cell it takes (the layout keeps)."""
    from rich.cells import cell_len

    text = to_ascii(text)
    if text.isascii():
        return text
    # Other block elements are Textual's sub-cell scrollbar glyphs: its colour is the thumb.
    return "".join(ch if ch.isascii() else " " if "\u2580" <= ch <= "\u259f" else "?" * max(cell_len(ch), 0)
                   for ch in text)
