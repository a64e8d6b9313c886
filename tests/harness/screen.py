"""Reading a rendered screen as a person does: which panel is where, how much of a chart is drawn.

Used on the plain text of `llmwatch snapshot --format text`, a pyte screen of the real app in a
pty, or a Pilot app's compositor output: the same helpers, whatever drew the screen.
"""

from __future__ import annotations

import re

CLOCK = re.compile(r"\b([01]\d|2[0-3]):[0-5]\d\b")
_BRAILLE_OR_MARK = re.compile(r"[\u2801-\u28ff*+ox#@%&.]")


def panel_lines(text: str, title: str) -> list[str]:
    """The rows inside the box whose top border carries `title` (its columns only)."""
    rows = text.splitlines()
    for y, row in enumerate(rows):
        at = row.find(f" {title} ")
        if at < 0:
            continue
        left = max(row.rfind("╭", 0, at), row.rfind("┏", 0, at), row.rfind("+", 0, at))
        right_candidates = [i for i in (row.find("╮", at), row.find("┓", at), row.find("+", at + len(title))) if i > 0]
        if left < 0 or not right_candidates:
            continue
        right = min(right_candidates)
        out = []
        for below in rows[y + 1:]:
            inner = below[left:right + 1]
            if not inner or inner[0] in "╰┗" or inner.startswith("+-"):
                break
            out.append(inner[1:-1])
        return out
    raise AssertionError(f"no panel titled {title!r} on screen:\n{text}")


def chart_coverage(text: str, title: str) -> tuple[float, float]:
    """(share of the plot's columns that hold a point, share of its first fifth that does) for the
    chart panel `title`: about 1.0 for a chart spanning its range, about 0.05 for data only at the
    right edge."""
    plot = [line for line in panel_lines(text, title) if "┤" in line or "│" in line[:8] or "|" in line[:8]]
    rows = []
    for line in plot:
        axis = min(i for i in (line.find("┤"), line.find("│"), line.find("|")) if i >= 0)  # the y axis
        body = line[axis + 1:].rstrip().rstrip("│|").rstrip()
        rows.append(body)
    width = max((len(r) for r in rows), default=0)
    if not width:
        return 0.0, 0.0
    filled = [any(i < len(r) and _BRAILLE_OR_MARK.match(r[i]) for r in rows) for i in range(width)]
    fifth = max(1, width // 5)
    return sum(filled) / width, sum(filled[:fifth]) / fifth


def axis_labels(text: str, title: str) -> list[str]:
    """The clock labels (HH:MM) under the chart panel `title`."""
    return [m.group(0) for line in panel_lines(text, title) for m in CLOCK.finditer(line)]
