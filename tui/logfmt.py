"""How a log line is shown: level, message first, key=value, safe text, cut with a visible marker.

No textual/rich import here: the CLI (`llmwatch logs`) and the screen share these functions, and
the CLI must not pay for textual.

- JSON lines (most LLM servers log JSON) become `message key=value key=value`: the message is
  what a person scans for; the level is shown by colour/badge, so the level key is not repeated.
- Level: a stream label (level/detected_level/severity) wins, then the JSON or logfmt level key,
  then a level word at the start of a plain line ("ERROR ...", "[WARN] ...", "I0612 ..." no).
- Every string goes through tui.output.plain (textsafe.clean + secret scrub): no escape sequence
  and no registered secret reaches the terminal.
- Lines longer than `max_chars` are cut before cleaning (cleaning 5 MB costs more than showing
  it) and the marker says how much is missing in bytes: "… [+19 kB]".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from probes.logql import level_of_word
from tui.output import plain

MAX_LINE = 20_000  # characters kept of one line in list views
MAX_EXPANDED = 1_000_000  # in the expanded (full) view
MESSAGE_KEYS = ("msg", "message", "log", "text")
LEVEL_KEYS = ("level", "lvl", "severity", "loglevel", "log.level", "levelname")
LABEL_LEVEL_KEYS = ("level", "detected_level", "severity", "lvl")
_LOGFMT_LEVEL = re.compile(r'(?:^|\s)(?:level|lvl|severity)="?([A-Za-z]+)', re.IGNORECASE)
_LEADING_WORD = re.compile(r"^\W{0,3}([A-Za-z]{3,8})\b")
_KV_BARE = re.compile(r"^[^\s=\"]+\Z")


@dataclass(frozen=True)
class Shown:
    """One line ready to display: `text` is safe, one line; `cut` is the marker or ""."""

    text: str
    level: str | None
    is_json: bool
    cut: str = ""


def human_bytes(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    for unit in ("kB", "MB", "GB"):
        n_f = n / 1000
        if n_f < 1000 or unit == "GB":
            return f"{n_f:.0f} {unit}"
        n = int(n_f)
    return f"{n} B"  # pragma: no cover


def cut(line: str, max_chars: int) -> tuple[str, str]:
    """(kept, marker): marker is "" or "… [+19 kB]" counting the UTF-8 bytes dropped."""
    if len(line) <= max_chars:
        return line, ""
    kept = line[:max_chars]
    dropped = len(line.encode("utf-8", "replace")) - len(kept.encode("utf-8", "replace"))
    return kept, f"… [+{human_bytes(dropped)}]"


def parse_json(line: str) -> dict[str, Any] | None:
    s = line.lstrip()
    if not s.startswith("{"):
        return None
    try:
        doc = json.loads(s)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def detect_level(line: str, labels: Mapping[str, str] | None = None, doc: dict[str, Any] | None = None) -> str | None:
    """"error" | "warn" | "info" | "debug" | None."""
    for key in LABEL_LEVEL_KEYS:
        level = level_of_word((labels or {}).get(key))
        if level:
            return level
    if doc is None:
        doc = parse_json(line)
    if doc is not None:
        for key in LEVEL_KEYS:
            value = doc.get(key)
            if isinstance(value, str) and level_of_word(value):
                return level_of_word(value)
        return None
    head = line[:300]
    m = _LOGFMT_LEVEL.search(head)
    if m and level_of_word(m.group(1)):
        return level_of_word(m.group(1))
    m = _LEADING_WORD.match(head)
    if m and m.group(1).isupper() and level_of_word(m.group(1)):
        return level_of_word(m.group(1))
    for word in re.findall(r"\b[A-Z]{3,8}\b", head[:120]):  # "2026-11-22 10:00:01 WARN gpu hot"
        if level_of_word(word):
            return level_of_word(word)
    return None


def _value(v: Any) -> str:
    if isinstance(v, str):
        return v if v and _KV_BARE.match(v) else json.dumps(v, ensure_ascii=False)
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def json_as_kv(doc: dict[str, Any]) -> str:
    """message first, then key=value for the rest (level key left out: the colour says it)."""
    parts: list[str] = []
    msg_key = next((k for k in MESSAGE_KEYS if isinstance(doc.get(k), str)), None)
    if msg_key is not None:
        parts.append(doc[msg_key])
    for key, value in doc.items():
        if key == msg_key or key in LEVEL_KEYS:
            continue
        parts.append(f"{key}={_value(value)}")
    return " ".join(parts)


def show(line: str, labels: Mapping[str, str] | None = None, max_chars: int = MAX_LINE) -> Shown:
    """The list view's one-line rendering of a log line."""
    kept, marker = cut(line, max_chars)
    doc = parse_json(line) if not marker else None  # a cut JSON line is not JSON any more
    level = detect_level(kept, labels, doc)
    if doc is not None:
        text, marker = cut(json_as_kv(doc), max_chars)
        return Shown(plain(text, None, newlines="symbol"), level, True, marker)
    return Shown(plain(kept, None, newlines="symbol"), level, False, marker)


def pretty(line: str, max_chars: int = MAX_EXPANDED) -> str:
    """The expanded view: indented JSON, or the line with its own line breaks; safe."""
    kept, marker = cut(line, max_chars)
    doc = parse_json(kept) if not marker else None
    if doc is not None:
        text = json.dumps(doc, indent=2, ensure_ascii=False)
    else:
        text = kept
    return plain(text, None, newlines="keep") + (("\n" + marker) if marker else "")


def labels_text(labels: Mapping[str, str], max_chars: int = 400) -> str:
    """`{job="x", level="error"}` with keys sorted and values made safe."""
    body = ", ".join(f"{plain(k, 100, newlines='space')}={json.dumps(plain(v, 200, newlines='space'), ensure_ascii=False)}"
                     for k, v in sorted(labels.items()))
    return plain("{" + body + "}", max_chars, newlines="space")


def rfc3339_nano(ts_ns: int) -> str:
    """2026-11-22T05:24:35.567484609Z, exact to the nanosecond (datetime keeps only µs)."""
    secs, frac = divmod(ts_ns, 1_000_000_000)
    base = datetime.fromtimestamp(secs, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac:09d}Z"


def local_time(ts_ns: int, with_date: bool = False, millis: bool = True) -> str:
    t = datetime.fromtimestamp(ts_ns / 1e9).astimezone()
    text = t.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")
    return text + (f".{(ts_ns // 1_000_000) % 1000:03d}" if millis else "")


def rfc3339_local(ts_ns: int) -> str:
    """2026-11-22T06:24:35.567+01:00 (logcli's default output uses the local zone)."""
    t = datetime.fromtimestamp(ts_ns // 1_000_000_000).astimezone()
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{(ts_ns // 1_000_000) % 1000:03d}" + t.strftime("%z")[:3] + \
        ":" + t.strftime("%z")[3:]
