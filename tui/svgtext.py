"""SVG screenshots that read right in every viewer: no text element starts with spaces.

Why: Rich's SVG export writes each run of same-styled cells as one <text> at its own x, with
spaces as &#160;. librsvg (rsvg-convert, GNOME's viewers, many CI artefact previews) drops the
leading ones, so a run such as "  snapshot" after "Logs" is drawn one cell early and reads
"Logssnapshot", "10.4%cloud", "s6 series" -- on screen the same text is fine. Moving the x of
such a run past its leading spaces draws the same picture everywhere. Used by every SVG that
`llmwatch snapshot` and scripts/screenshots.py write.
"""

from __future__ import annotations

import re

_TEXT = re.compile(r'(<text\b[^>]*?\bx=")([0-9.]+)("[^>]*?\btextLength=")([0-9.]+)("[^>]*>)((?:&#160;)+)([^<]*)</text>')
_NBSP = "&#160;"


def _chars(escaped: str) -> int:
    return len(re.sub(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-z]+);", "x", escaped))


def _move(m: re.Match) -> str:
    head, x, mid, length, tail, spaces, rest = m.groups()
    n = len(spaces) // len(_NBSP)
    total = n + _chars(rest)
    cell = float(length) / total if total else 0.0
    if not rest:  # only spaces: nothing to draw
        return ""
    return (f"{head}{float(x) + n * cell:g}{mid}{float(length) - n * cell:g}{tail}{rest}</text>")


def keep_leading_spaces(svg: str) -> str:
    """The same SVG with every <text> that began with spaces moved right past them."""
    return _TEXT.sub(_move, svg)


def leading_space_runs(svg: str) -> list[str]:
    """The text elements a viewer would draw one or more cells too early (for tests)."""
    return [m.group(0) for m in _TEXT.finditer(svg)]
