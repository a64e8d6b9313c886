"""LogQL for the logs screen: a request (selector + window) built from the labels in hand.

The dashboard, the alerts screen and the health table all open logs the same way: they build a
LogRequest and call `app.open_logs(request)`.

Why these choices:
- Every value goes into the query as a Go string literal (Loki parses with strconv.Unquote):
  backslash, quote and control characters escaped, so a label value like `a"} |= "x` stays a
  value and cannot rewrite the query.
- Level filtering: Loki has no notion of a log level, only what the shipper made of it. When
  `level` is an indexed stream label (promtail/alloy pipelines usually set it; /labels says so)
  we filter on the label, `{..., level=~"(?i)error|err|..."}`, which Loki resolves from its
  index without reading lines. Otherwise the filter is a line filter that matches the level
  key of JSON/logfmt lines (`"level": "ERROR"`, `lvl=warn`) case-insensitively, or an
  upper-case level word in plain text (`ERROR`, `WARN`): a lower-case "error" inside a message
  does not make an info line an error line.
- `levels` lists the levels to SHOW (all four, or none: no filter). Lines with no recognisable
  level are hidden as soon as any level filter is active, as in Grafana's level filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

__all__ = [
    "LEVELS", "LogRequest", "build_query", "level_of_word", "quote", "request_for_labels",
    "selector_from_labels", "volume_query",
]

LEVELS = ("error", "warn", "info", "debug")
# Words shippers and loggers use for each level (lower case).
LEVEL_WORDS: dict[str, tuple[str, ...]] = {
    "error": ("error", "err", "fatal", "critical", "crit", "panic", "emerg", "emergency", "alert"),
    "warn": ("warn", "warning"),
    "info": ("info", "information", "informational", "notice"),
    "debug": ("debug", "trace", "dbg"),
}
_WORD_LEVEL = {w: level for level, words in LEVEL_WORDS.items() for w in words}
DEFAULT_KEEP = ("job", "instance", "service", "model", "namespace", "pod", "container")
ANY_JOB = '{job=~".+"}'
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_GO_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True)
class LogRequest:
    selector: str            # LogQL stream selector, e.g. {job="gateway"}
    start: float             # unix seconds
    end: float | None = None  # None: now (the screen may follow)
    title: str = ""          # where it came from: "panel latency", "alert GatewayHighErrorRate"
    line_filter: str = ""    # optional text filter pushed down as |= "..."
    regex: str = ""          # optional regex pushed down as |~ "..."
    levels: tuple[str, ...] = ()  # levels to show (subset of LEVELS); () = all
    limit: int = 1000        # lines per page

    def query(self, level_label: bool = True) -> str:
        return build_query(self.selector, self.line_filter or None, self.regex or None, self.levels,
                           level_label=level_label)


def level_of_word(word: str | None) -> str | None:
    """"ERROR" -> "error", "warning" -> "warn", "dbg" -> "debug"; None when not a level word."""
    if not word:
        return None
    return _WORD_LEVEL.get(word.strip().lower())


def quote(value: str) -> str:
    """`value` as a LogQL (Go) double-quoted string literal."""
    out = []
    for ch in value:
        esc = _GO_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:  # a lone surrogate cannot be sent as UTF-8
            out.append("\\ufffd")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def label_name(name: str) -> str:
    """A valid Loki label name: anything else becomes "_" (Prometheus/Loki normalisation)."""
    fixed = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return "_" + fixed if fixed[:1].isdigit() else fixed


def selector_from_labels(labels: Mapping[str, str], mapping: Mapping[str, str] | None = None,
                         keep: Sequence[str] = DEFAULT_KEEP) -> str:
    """`{job="gateway", model="llama"}` from our labels; "" when no label is left to select by.

    Only labels named in `keep` or in `mapping` are used (a panel's `le` or `quantile` is not a
    Loki label); `mapping` renames ours to Loki's (`{"service": "app"}`); a mapping to "" drops
    the label. Empty values are skipped: `x=""` in Loki means "label absent", rarely the intent.
    """
    mapping = mapping or {}
    names = list(dict.fromkeys([*keep, *mapping]))
    matchers: list[str] = []
    seen: set[str] = set()
    for ours in names:
        value = labels.get(ours)
        if value is None or str(value) == "":
            continue
        theirs = mapping.get(ours, ours)
        if not theirs:
            continue
        theirs = label_name(theirs)
        if theirs in seen:
            continue
        seen.add(theirs)
        matchers.append(f"{theirs}={quote(str(value))}")
    return "{" + ", ".join(matchers) + "}" if matchers else ""


def _level_alternation(levels: Iterable[str]) -> str:
    words = [w for level in LEVELS if level in set(levels) for w in LEVEL_WORDS[level]]
    return "|".join(words)


def level_line_regex(levels: Iterable[str]) -> str:
    """A line regex matching lines at one of `levels` (see the module docstring)."""
    words = _level_alternation(levels)
    upper = words.upper()
    return (f'(?i:\\b(?:level|lvl|severity|loglevel)"?\\s*[=:]\\s*"?(?:{words}))\\b'
            f"|\\b(?:{upper})\\b")


def _add_matcher(selector: str, matcher: str) -> str:
    """Insert `matcher` into the stream selector that starts `selector` (`{a="b"} |= "x"`)."""
    s = selector.strip()
    depth, in_str, i = 0, "", 0
    while i < len(s):
        ch = s[i]
        if in_str:
            if ch == "\\" and in_str == '"':
                i += 2
                continue
            if ch == in_str:
                in_str = ""
        elif ch in "\"`":
            in_str = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                inside = s[s.index("{") + 1:i].strip()
                joined = f"{inside}, {matcher}" if inside else matcher
                return s[:s.index("{")] + "{" + joined + "}" + s[i + 1:]
        i += 1
    raise ValueError(f"not a LogQL stream selector: {selector!r}")


def build_query(selector: str, text: str | None = None, regex: str | None = None,
                levels: Iterable[str] = (), *, level_label: bool = True) -> str:
    """selector + level filter + `|= "text"` + `|~ "regex"`, filters pushed down to Loki.

    level_label: True when `level` is an indexed stream label (then a label matcher), False for
    a line filter. Unknown level names raise ValueError.
    """
    query = selector.strip()
    wanted = [lv for lv in dict.fromkeys(levels)]
    bad = [lv for lv in wanted if lv not in LEVELS]
    if bad:
        raise ValueError(f"unknown level {bad[0]!r} (use {', '.join(LEVELS)})")
    if wanted and set(wanted) != set(LEVELS):
        if level_label:
            query = _add_matcher(query, "level=~" + quote("(?i)" + _level_alternation(wanted)))
        else:
            query += " |~ " + quote(level_line_regex(wanted))
    if text:
        query += " |= " + quote(text)
    if regex:
        query += " |~ " + quote(regex)
    return query


def volume_query(query: str, step: int | float) -> str:
    """Lines per `step` seconds by level: the log-volume bars above the lines."""
    secs = max(1, int(round(step)))
    return f"sum by (level) (count_over_time({query} [{secs}s]))"


def request_for_labels(labels: Mapping[str, str], start: float, end: float | None, title: str,
                       services: Sequence[object] = ()) -> LogRequest:
    """The logs to open for a panel/alert/health row: a configured Service's Loki selector when
    its job (or name) equals labels' job, else a selector from the labels themselves (renamed by
    that Service's loki_labels), else every job ({job=~".+"})."""
    job = labels.get("job") or labels.get("service")
    service = None
    if job:
        service = next((s for s in services if (getattr(s, "job", None) or getattr(s, "name", None)) == job), None) \
            or next((s for s in services if getattr(s, "name", None) == job), None)
    if service is not None and getattr(service, "loki_selector", None):
        selector = service.loki_selector
    else:
        mapping = dict(getattr(service, "loki_labels", {}) or {}) if service is not None else None
        selector = selector_from_labels(labels, mapping) or ANY_JOB
    return LogRequest(selector=selector, start=float(start), end=None if end is None else float(end), title=title)
