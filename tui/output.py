"""The one way out: every byte llmwatch writes to a terminal, a pipe or a report file passes here.

Everything a server sends is untrusted (versions, labels, annotations, silence ids, bodies, error
texts, log lines), and it reaches us through many paths. Instead of trusting each renderer to
remember, the exits themselves are guarded:

- `install()` (the first thing tui/cli.py main() does) wraps sys.stdout and sys.stderr. Whatever
  a command writes there, with click.echo, print or rich, goes through `safe()`: every escape
  sequence removed except our own SGR colours, control and bidi characters neutralised
  (probes.textsafe.terminal_safe), and every registered secret scrubbed (probes.redact).
- `write_file()`: report files (`--output`), atomically, through the same filter.
- `text()` / `markup()`: the only ways a server string becomes a Rich Text or a markup string
  for Textual (the dashboard draws through Textual's driver, not sys.stdout): cleaned, secrets
  scrubbed and, for markup, escaped, so `[bold red]` or `[link=...]` stay text.
- `dumps()`: JSON with C0/C1, DEL, bidi and separator characters as \\uXXXX, NaN/Inf as null.

One path writes bytes as stored, on purpose: `write_raw()` for `llmwatch logs` to a pipe or
file (grep and jq want the line as Loki holds it; the README says so). Never to a terminal.
tests/test_output_paths.py fails when a module writes around this one.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from probes import redact
from probes.textsafe import NewlineMode, clean, json_escape, terminal_safe

__all__ = ["install", "safe", "text", "markup", "dumps", "write_file", "write_raw", "echo_error"]


def safe(data: str, *, colour: bool = True) -> str:
    """A whole output made safe for a terminal: secrets scrubbed, controls neutralised."""
    return terminal_safe(redact.scrub(data), keep_sgr=colour)


class GuardedStream(io.TextIOBase):
    """A text stream that filters every write through `safe()` before the real stream sees it.

    `buffer` is hidden on purpose: click writes bytes to a stream's buffer when it distrusts the
    text layer, and that would go around the filter."""

    def __init__(self, stream: TextIO):
        self._stream = stream

    def write(self, data: str) -> int:
        if not isinstance(data, str):
            raise TypeError(f"write() argument must be str, not {type(data).__name__}")
        self._stream.write(safe(data))
        return len(data)

    def write_unfiltered(self, data: str) -> None:
        self._stream.write(data)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True

    @property
    def buffer(self) -> None:  # type: ignore[override]
        return None

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8") or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._stream, "errors", None)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def install() -> None:
    """Guard sys.stdout and sys.stderr for the rest of the process (idempotent)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, GuardedStream):
            setattr(sys, name, GuardedStream(stream))


def write_raw(data: str) -> None:
    """Bytes as stored, for `llmwatch logs` to a pipe or file only: refused on a terminal."""
    out = sys.stdout
    if out.isatty():
        out.write(data)  # a terminal always gets the filtered form
    elif isinstance(out, GuardedStream):
        out.write_unfiltered(redact.scrub(data))
    else:
        out.write(redact.scrub(data))
    out.flush()


def echo_error(message: str) -> None:
    """One line on stderr: `llmwatch: <message>`, made safe (used by main()'s handlers)."""
    line = clean(message, 2000, newlines="space")
    sys.stderr.write(f"llmwatch: {safe(line, colour=False)}\n")
    sys.stderr.flush()


# -- Rich and Textual --------------------------------------------------------------------------

def plain(value: Any, max_len: int | None = 1000, newlines: NewlineMode = "space") -> str:
    """A server string as safe plain text (no markup meaning anywhere): cleaned and scrubbed."""
    return clean(redact.scrub(value if isinstance(value, str) else "" if value is None else str(value)),
                 max_len, newlines=newlines)


def text(value: Any, style: str = "", max_len: int | None = 1000, newlines: NewlineMode = "space"):
    """A rich Text of a server string. Text never parses markup, so only cleaning is needed."""
    from rich.text import Text

    return Text(plain(value, max_len, newlines), style=style)


def markup(value: Any, max_len: int | None = 1000, newlines: NewlineMode = "space") -> str:
    """A server string for a Textual API that parses markup (border titles, notifications):
    cleaned, scrubbed, and EVERY `[` escaped. Not rich/textual's escape(): it skips a `[` with
    no `]` before the next `[` ("[link=http://x… [+41 chars]" after truncation), which Textual's
    parser still reads as a tag and rejects with MarkupError (the panel then never showed its
    error). tests/test_properties.py checks the round trip through Textual's parser."""
    return plain(value, max_len, newlines).replace("[", "\\[")


# -- JSON and files ----------------------------------------------------------------------------

def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def dumps(doc: Any, *, indent: int | None = 2, sort_keys: bool = False, compact: bool = False) -> str:
    """JSON that is safe on a terminal and still valid: NaN/Inf become null, and every character
    a terminal could obey or that reorders text is written as a \\uXXXX escape."""
    seps = (",", ":") if compact else None
    raw = json.dumps(_finite(doc), indent=indent, sort_keys=sort_keys, ensure_ascii=False, allow_nan=False,
                     separators=seps, default=str)
    return redact.scrub(json_escape(raw))


def write_file(path: str | os.PathLike, data: str) -> None:
    """Write a report via a temp file in the same directory and rename, so readers never see half
    a file; the content is filtered like the terminal's (no colour codes in files)."""
    body = safe(data, colour=False)
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=str(target.parent or "."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body if body.endswith("\n") else body + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
