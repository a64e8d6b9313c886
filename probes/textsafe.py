"""Untrusted strings made safe to show as text: log lines, label values, annotations, health bodies.

Anything that reaches a terminal from the outside could carry escape sequences that clear the
screen (ESC[2J), move the cursor, retitle the window (OSC 0), plant hyperlinks (OSC 8) or write
to the clipboard (OSC 52). `clean()` removes every such sequence and makes the remaining control
characters visible, so nothing that survives can move the cursor or change terminal state.

`terminal_safe()` is the last line of defence for whole outputs (tui/output.py runs every byte
the CLI writes through it): the same neutralising, but line structure kept and, optionally, SGR
colour sequences (the only escapes our own output uses) left alone. `json_escape()` makes JSON
text safe for a terminal and still valid JSON.

Markup escaping (rich/Textual `[bold]`) is deliberately NOT done here: probes/ never knows about
the UI's markup language; tui/output.py escapes markup after calling clean().
"""

from __future__ import annotations

import re
from typing import Literal

NewlineMode = Literal["symbol", "space", "keep"]

NEWLINE_SYMBOL = "⏎"
ELLIPSIS = "…"

# Escape sequences, removed whole. Each alternative is linear: payload classes exclude the
# characters that could end them, so a hostile 5 MB string cannot trigger heavy backtracking.
_SEQUENCES = re.compile(
    r"""
      \x1b\[[0-?]*[ -/]*[@-~]                            # CSI: colours, cursor moves, ESC[2J
    | \x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)   # OSC/DCS/SOS/PM/APC with a terminator
    | \x1b[ -/]*[0-~]                                    # other ESC sequences (ESC c, ESC ( B, ...)
                                                         # and the bare introducer of an
                                                         # unterminated OSC/DCS (text stays visible)
    | \x9b[0-?]*[ -/]*[@-~]                              # 8-bit CSI
    | [\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)  # 8-bit OSC/DCS/... terminated
    """,
    re.VERBOSE,
)
# Bidirectional overrides reorder what is displayed (Trojan Source): the text shown would not be
# the text received. Lone surrogates (from JSON "\ud800") cannot be encoded for the terminal.
_INVISIBLE = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SURROGATES = re.compile("[\ud800-\udfff]")
# More than a few stacked combining marks ("zalgo") draw over neighbouring lines in some terminals.
_COMBINING_RUN = re.compile("([\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]{4})"
                            "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_NEWLINES = re.compile("\r\n|[\n\u0085\u2028\u2029]")

# Remaining C0 controls become their visible "control picture" (BEL -> ␇, ESC -> ␛, CR -> ␍);
# DEL -> ␡; C1 controls (0x80-0x9f) -> U+FFFD. Tab and newline are handled before this table.
_VISIBLE = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)}
_VISIBLE[0x7F] = 0x2421
_VISIBLE.update({c: 0xFFFD for c in range(0x80, 0xA0)})


def clean(text: str | bytes | None, max_len: int | None = 1000, *, newlines: NewlineMode = "symbol",
          tabsize: int = 4) -> str:
    """`text` made safe to display: no escape sequences, no control characters, bounded length.

    newlines: "symbol" shows each line break as ⏎ (one-line contexts where the break matters:
    a log line, a health body); "space" folds it to a space (table cells, summaries); "keep"
    leaves "\\n" for widgets that lay out lines themselves (never write that raw to a terminal).
    Trailing line breaks are dropped in the one-line modes. Tabs become spaces.
    max_len: the result is at most this many characters; a longer text is cut and ends with a
    visible marker like "… [+18432 chars]" counting what was dropped. None means no limit.
    """
    if text is None:
        return ""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    elif not isinstance(text, str):
        text = str(text)
    text = _SEQUENCES.sub("", text)
    text = _INVISIBLE.sub("", text)
    text = _SURROGATES.sub("\ufffd", text)
    text = _COMBINING_RUN.sub(r"\1", text)
    text = _NEWLINES.sub("\n", text)
    if "\t" in text:
        text = "\n".join(line.expandtabs(tabsize) for line in text.split("\n"))
    text = text.translate(_VISIBLE)
    if newlines != "keep":
        text = text.rstrip("\n")
        text = text.replace("\n", NEWLINE_SYMBOL if newlines == "symbol" else " ")
    return truncate(text, max_len)


_SGR = re.compile(r"\x1b\[[0-9;:]*m")
# For whole outputs: tab and newline stay; CR, every other C0, DEL and C1 become visible.
_OUTPUT_VISIBLE = {c: v for c, v in _VISIBLE.items() if c != 0x09}
# Characters JSON leaves raw (json escapes only C0, quote and backslash) that a terminal obeys or
# that reorder what is shown; lone surrogates cannot be encoded to UTF-8 at all.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                          "\ud800-\udfff]")


def terminal_safe(text: str, *, keep_sgr: bool = False) -> str:
    """A whole output (many lines) made safe to write to a terminal.

    Every escape sequence is removed (except SGR colours with keep_sgr: our own table colours),
    bidi controls are dropped, and the remaining control characters except tab and newline are
    shown as control pictures. Applied to text that was already cleaned it changes nothing.
    """
    if not keep_sgr:
        return _neutralise(text)
    pieces = _SGR.split(text)
    codes = _SGR.findall(text)
    out = [_neutralise(pieces[0])]
    for code, piece in zip(codes, pieces[1:]):
        out += [code, _neutralise(piece)]
    return "".join(out)


def _neutralise(text: str) -> str:
    if text.isascii() and text.isprintable():  # the common case: nothing to do
        return text
    text = _SEQUENCES.sub("", text)
    text = _INVISIBLE.sub("", text)
    text = _SURROGATES.sub("\ufffd", text)
    return text.replace("\r\n", "\n").translate(_OUTPUT_VISIBLE)


def json_escape(text: str) -> str:
    """JSON text with DEL, C1 controls, bidi controls, line/paragraph separators and lone
    surrogates written as \\uXXXX escapes. Those characters can only occur inside JSON strings,
    so the result is valid JSON that decodes to exactly the same data."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def truncate(text: str, max_len: int | None) -> str:
    """`text` cut to at most max_len characters, ending with "… [+N chars]" when it was cut.

    Why a count and not just "…": a user looking at a cut log line or body should know whether
    a few characters or 18 kB are missing.
    """
    if max_len is None or len(text) <= max_len:
        return text
    if max_len <= 0:
        return ""
    # The marker's width depends on the count it shows: try the fewest digits that can hold it.
    for digits in range(1, 20):
        keep = max_len - len(f"{ELLIPSIS} [+ chars]") - digits
        if keep < 1:
            break
        dropped = len(text) - keep
        if len(str(dropped)) <= digits:
            return f"{text[:keep]}{ELLIPSIS} [+{dropped} chars]"
    # Too narrow for a counted marker: a plain ellipsis still says "there is more".
    return text[: max_len - 1] + ELLIPSIS


def one_line(text: str | bytes | None, max_len: int | None = 200) -> str:
    """Shorthand for summaries and table cells: line breaks folded to spaces, runs of blanks squeezed."""
    return truncate(" ".join(clean(text, None, newlines="space").split()), max_len)
