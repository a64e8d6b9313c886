"""Just enough LogQL for the Loki replay: stream selectors, line filters, time parameters.

Loki cannot be installed here, so the replay server must decide by itself which recorded lines a
query selects. This parses what llmwatch sends (a selector plus |= != |~ !~ filters), recognises
metric queries (served from recordings), and reports syntax errors in Loki's own words.
"""

from __future__ import annotations

import codecs
import re
import time
from dataclasses import dataclass, field
from datetime import datetime

METRIC_FUNCS = (
    "sum", "avg", "min", "max", "count", "topk", "bottomk", "stddev", "stdvar",
    "count_over_time", "rate", "bytes_rate", "bytes_over_time", "sum_over_time",
    "avg_over_time", "max_over_time", "min_over_time", "absent_over_time", "quantile_over_time",
)

_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)")
_DURATION_NS = {
    "ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9,
    "h": 3600 * 10**9, "d": 86400 * 10**9, "w": 7 * 86400 * 10**9, "y": 365 * 86400 * 10**9,
}


class LogQLError(ValueError):
    """A query Loki would refuse; str() is the body Loki sends (400, text)."""


class Unsupported(ValueError):
    """Valid LogQL that this replay cannot evaluate (parsers, label filters, ...)."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str  # = != =~ !~
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = re.fullmatch(self.value, actual) is not None  # Loki anchors label regexes
        return hit if self.op == "=~" else not hit

    def empty_compatible(self) -> bool:
        """True when the matcher also matches a missing label (Loki rejects such selectors)."""
        return self.matches({})


@dataclass(frozen=True)
class LineFilter:
    op: str  # |= != |~ !~
    value: str

    def matches(self, line: str) -> bool:
        if self.op in ("|=", "!="):
            hit = self.value in line
        else:
            hit = re.search(self.value, line) is not None
        return hit if self.op in ("|=", "|~") else not hit


@dataclass(frozen=True)
class StreamQuery:
    matchers: tuple[Matcher, ...]
    filters: tuple[LineFilter, ...] = field(default_factory=tuple)

    def selects(self, labels: dict[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    def keeps(self, line: str) -> bool:
        return all(f.matches(line) for f in self.filters)

    @property
    def equality_only(self) -> bool:
        return all(m.op == "=" for m in self.matchers)


def is_metric_query(query: str) -> bool:
    """A LogQL metric query starts with an aggregation or range function, not with '{'."""
    head = re.match(r"\s*([a-z_]+)\s*(\(|by\b|without\b)", query)
    return bool(head and head.group(1) in METRIC_FUNCS)


def _syntax_error(query: str, pos: int, detail: str) -> LogQLError:
    return LogQLError(f"parse error at line 1, col {pos + 1}: syntax error: {detail}")


def _read_string(query: str, pos: int) -> tuple[str, int]:
    """A Go string literal ("..." with escapes, or `raw`) starting at pos."""
    quote = query[pos]
    if quote == "`":
        end = query.find("`", pos + 1)
        if end < 0:
            raise _syntax_error(query, len(query), "unexpected $end")
        return query[pos + 1 : end], end + 1
    i = pos + 1
    while i < len(query):
        if query[i] == "\\":
            i += 2
            continue
        if query[i] == '"':
            raw = query[pos + 1 : i]
            try:
                value = codecs.decode(raw.encode("latin-1", "backslashreplace"), "unicode_escape")
            except UnicodeDecodeError as exc:
                raise _syntax_error(query, pos, f"invalid string {raw!r}") from exc
            return value, i + 1
        i += 1
    raise _syntax_error(query, len(query), "unexpected $end")


def _skip_ws(query: str, pos: int) -> int:
    while pos < len(query) and query[pos].isspace():
        pos += 1
    return pos


def parse_stream_query(query: str) -> StreamQuery:
    """Parse `{a="b", c=~"d"} |= "x" !~ "y"`; raise LogQLError or Unsupported."""
    pos = _skip_ws(query, 0)
    if pos >= len(query) or query[pos] != "{":
        raise _syntax_error(query, pos, "unexpected IDENTIFIER" if pos < len(query) else "unexpected $end")
    pos += 1
    matchers: list[Matcher] = []
    while True:
        pos = _skip_ws(query, pos)
        if pos >= len(query):
            raise _syntax_error(query, pos, "unexpected $end, expecting } or ,")
        if query[pos] == "}" and not matchers:
            raise _syntax_error(query, pos, "unexpected }")
        name_m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(query, pos)
        if not name_m:
            raise _syntax_error(query, pos, f"unexpected {query[pos]!r}, expecting IDENTIFIER")
        pos = _skip_ws(query, name_m.end())
        op_m = re.compile(r"=~|!~|!=|=").match(query, pos)
        if not op_m:
            raise _syntax_error(query, pos, "unexpected token, expecting = or != or =~ or !~")
        pos = _skip_ws(query, op_m.end())
        if pos >= len(query) or query[pos] not in "\"`":
            raise _syntax_error(query, pos, "unexpected $end, expecting STRING" if pos >= len(query) else "expecting STRING")
        value, pos = _read_string(query, pos)
        if op_m.group() in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as exc:
                raise LogQLError(f"parse error : error parsing regexp: {exc}") from exc
        matchers.append(Matcher(name_m.group(), op_m.group(), value))
        pos = _skip_ws(query, pos)
        if pos >= len(query):
            raise _syntax_error(query, pos, "unexpected $end, expecting } or ,")
        if query[pos] == ",":
            pos += 1
            continue
        if query[pos] == "}":
            pos += 1
            break
        raise _syntax_error(query, pos, "unexpected character, expecting } or ,")
    filters: list[LineFilter] = []
    while True:
        pos = _skip_ws(query, pos)
        if pos >= len(query):
            break
        op_m = re.compile(r"\|=|!=|\|~|!~").match(query, pos)
        if not op_m:
            if query[pos] == "|":
                raise Unsupported(f"pipeline stage at col {pos + 1} is not replayed: {query[pos:]!r}")
            raise _syntax_error(query, pos, f"unexpected {query[pos]!r}")
        pos = _skip_ws(query, op_m.end())
        if pos >= len(query) or query[pos] not in "\"`":
            raise _syntax_error(query, pos, "unexpected $end, expecting STRING")
        value, pos = _read_string(query, pos)
        if op_m.group() in ("|~", "!~"):
            try:
                re.compile(value)
            except re.error as exc:
                raise LogQLError(f"parse error : error parsing regexp: {exc}") from exc
        filters.append(LineFilter(op_m.group(), value))
    return StreamQuery(tuple(matchers), tuple(filters))


def parse_duration_ns(text: str) -> int:
    """Prometheus/Go style duration (1h30m, 5m, 10s) in nanoseconds."""
    total, pos = 0, 0
    for m in _DURATION_RE.finditer(text):
        if m.start() != pos:
            break
        total += int(float(m.group(1)) * _DURATION_NS[m.group(2)])
        pos = m.end()
    if pos != len(text) or not text:
        raise LogQLError(f'invalid duration "{text}"')
    return total


def parse_time_ns(value: str | None, default_ns: int) -> int:
    """Loki's parseTimestamp: float seconds, int seconds (<= 10 digits), int ns, or RFC3339."""
    if value is None or value == "":
        return default_ns
    if "." in value and re.fullmatch(r"\d+\.\d*", value):
        return int(float(value) * 10**9)
    if re.fullmatch(r"-?\d+", value):
        number = int(value)
        return number * 10**9 if len(value) <= 10 else number
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise LogQLError(f'cannot parse "{value}" to a valid timestamp') from exc
    # fromisoformat keeps only microseconds: recover nanoseconds from the fraction if present.
    frac = re.search(r"\.(\d+)", value)
    base = int(parsed.replace(microsecond=0).timestamp()) * 10**9
    return base + (int((frac.group(1) + "000000000")[:9]) if frac else 0)


def now_ns() -> int:
    return time.time_ns()
