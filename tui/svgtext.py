"""SVG screenshots that read right in every viewer, not only in browsers.

Why: Rich's SVG export writes each run of same-styled cells as one <text> at its own x, with
spaces as &#160;, and relies on textLength to keep the run on the cell grid. librsvg
(rsvg-convert, GNOME's viewers, many CI artefact previews) drops leading spaces, so a run such
as "  snapshot" after "Logs" is drawn one cell early and reads "Logssnapshot", "10.4%cloud",
"s6 series"; and it ignores textLength, so a long run of braille (a chart line, drawn from a
fallback font with wider glyphs) runs past the chart into the next panel. On screen the same
text is fine. So: a run that starts with spaces starts after them, and a run of braille becomes
one element per cell, each at its own x. Used by every SVG `llmwatch snapshot` and
scripts/screenshots.py write.
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


_ANY_TEXT = re.compile(r'(<text\b[^>]*?\bx=")([0-9.]+)("[^>]*?\btextLength=")([0-9.]+)("[^>]*>)([^<]*)</text>')
_BRAILLE = re.compile("[\u2800-\u28ff]")


def _per_cell(m: re.Match) -> str:
    head, x, mid, length, tail, text = m.groups()
    chars = re.findall(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-z]+);|.", text)
    if not chars or not _BRAILLE.search(text):
        return m.group(0)
    cell = float(length) / len(chars)
    out = []
    for i, ch in enumerate(chars):
        if ch in ("&#160;", " ", "\u2800"):
            continue
        out.append(f"{head}{float(x) + i * cell:g}{mid}{cell:g}{tail}{ch}</text>")
    return "".join(out)


def keep_leading_spaces(svg: str) -> str:
    """The same SVG with every <text> that began with spaces moved right past them, and every run
    of braille split into one element per cell."""
    return _ANY_TEXT.sub(_per_cell, _TEXT.sub(_move, svg))


def braille_runs(svg: str) -> list[str]:
    """Text elements holding more than one braille cell (drawn off the grid by librsvg)."""
    return [m.group(0) for m in _ANY_TEXT.finditer(svg) if len(_BRAILLE.findall(m.group(6))) > 1]


def leading_space_runs(svg: str) -> list[str]:
    """The text elements a viewer would draw one or more cells too early (for tests)."""
    return [m.group(0) for m in _TEXT.finditer(svg)]
