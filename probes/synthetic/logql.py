"""The LogQL subset the demo's synthetic Loki understands, with Loki's own error texts.

Stream selectors `{a="b", c=~"d"}` (= != =~ !~, regexes anchored as Loki does, at least one
matcher that cannot match an empty value); line filters |= != |~ !~ chained; metric queries
`count_over_time(<log query> [d])` and `rate(...)`, optionally inside `sum(...)`,
`sum by (l, ...) (...)` or `sum (...) by (l)`. Everything else raises LogQLError whose text is
the 400 body, phrased as Loki 2.6.1 phrases it ("parse error at line 1, col N: syntax error: ...").
Times: Loki's parseTimestamp rules (float s, int s up to 10 digits, int ns, RFC 3339).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

__all__ = ["LogQLError", "LogQuery", "Matcher", "MetricQuery", "parse_logql", "parse_duration_s", "parse_time_ns"]

_DUR = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_DUR_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RANGE_FUNCS = ("count_over_time", "rate")
_NO_SELECTOR = ("parse error : queries require at least one regexp or equality matcher that does not have an "
                'empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will')


class LogQLError(ValueError):
    """A query Loki refuses; str() is the 400 body, in Loki's words."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str  # = != =~ !~
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op in ("=", "!="):
            return (actual == self.value) == (self.op == "=")
        return (re.fullmatch(self.value, actual) is not None) == (self.op == "=~")  # anchored, as Loki


@dataclass(frozen=True)
class LogQuery:
    matchers: tuple[Matcher, ...]
    filters: tuple[tuple[str, str], ...] = ()  # (op, value), op in |= != |~ !~

    def selects(self, labels: dict[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    def keeps(self, line: str) -> bool:
        for op, value in self.filters:
            hit = (value in line) if op in ("|=", "!=") else re.search(value, line) is not None
            if hit != (op in ("|=", "|~")):
                return False
        return True


@dataclass(frozen=True)
class MetricQuery:
    func: str                      # count_over_time | rate
    inner: LogQuery
    range_s: float
    by: tuple[str, ...] | None     # None: no aggregation (stream labels kept); (): sum()


class _Parser:
    """Recursive descent over the subset; errors carry Loki's "line 1, col N" position."""

    def __init__(self, text: str):
        self.q, self.i = text, 0

    def err(self, detail: str) -> LogQLError:
        return LogQLError(f"parse error at line 1, col {self.i + 1}: syntax error: {detail}")

    def ws(self) -> None:
        while self.i < len(self.q) and self.q[self.i].isspace():
            self.i += 1

    def eat(self, token: str) -> bool:
        self.ws()
        if self.q.startswith(token, self.i):
            self.i += len(token)
            return True
        return False

    def expect(self, token: str, expecting: str) -> None:
        if not self.eat(token):
            raise self.err(f"unexpected {self.here()}, expecting {expecting}")

    def here(self) -> str:
        self.ws()
        if self.i >= len(self.q):
            return "$end"
        m = _IDENT.match(self.q, self.i)
        return "IDENTIFIER" if m else self.q[self.i]

    def ident(self) -> str | None:
        self.ws()
        m = _IDENT.match(self.q, self.i)
        if m is None:
            return None
        self.i = m.end()
        return m.group()

    def string(self) -> str:
        self.ws()
        if self.i >= len(self.q) or self.q[self.i] not in "\"`":
            raise self.err(f"unexpected {self.here()}, expecting STRING")
        start = self.i
        if self.q[start] == "`":
            end = self.q.find("`", start + 1)
            if end < 0:
                self.i = len(self.q)
                raise self.err("unexpected $end")
            self.i = end + 1
            return self.q[start + 1:end]
        j = start + 1
        while j < len(self.q) and self.q[j] != '"':
            j += 2 if self.q[j] == "\\" else 1
        if j >= len(self.q):
            self.i = len(self.q)
            raise self.err("unexpected $end")
        self.i = j + 1
        raw = self.q[start + 1:j]
        try:  # Go string literal escapes (\" \\ \n \x1b \u00e9)
            return codecs.decode(raw.encode("latin-1", "backslashreplace"), "unicode_escape")
        except UnicodeDecodeError:
            raise self.err(f"invalid string {raw!r}") from None

    def regex(self, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise LogQLError(f"parse error : error parsing regexp: {exc}") from None
        return value

    def log_query(self) -> LogQuery:
        self.expect("{", "{")
        matchers: list[Matcher] = []
        while True:
            name = self.ident()
            if name is None:
                raise self.err(f"unexpected {self.here()}, expecting IDENTIFIER")
            self.ws()
            op = next((o for o in ("=~", "!~", "!=", "=") if self.q.startswith(o, self.i)), None)
            if op is None:
                raise self.err(f"unexpected {self.here()}, expecting = or != or =~ or !~")
            self.i += len(op)
            value = self.string()
            matchers.append(Matcher(name, op, self.regex(value) if "~" in op else value))
            if self.eat("}"):
                break
            if not self.eat(","):
                raise self.err(f"unexpected {self.here()}, expecting }} or ,")
        if not any(not m.matches({}) for m in matchers):
            raise LogQLError(_NO_SELECTOR)
        filters: list[tuple[str, str]] = []
        while True:
            self.ws()
            op = next((o for o in ("|=", "!=", "|~", "!~") if self.q.startswith(o, self.i)), None)
            if op is None:
                break
            self.i += 2
            value = self.string()
            filters.append((op, self.regex(value) if "~" in op else value))
        self.ws()
        if self.q.startswith("|", self.i):
            raise LogQLError(f"parse error at line 1, col {self.i + 1}: the synthetic Loki of llmwatch demo "
                             "supports only the line filters |= != |~ !~ (no parsers or label filters)")
        return LogQuery(tuple(matchers), tuple(filters))

    def by_clause(self) -> tuple[str, ...] | None:
        if not self.eat("by"):
            if self.q.startswith("without", self.i):
                raise self.err("unexpected without: the synthetic Loki supports only sum and sum by (...)")
            return None
        self.expect("(", "(")
        labels: list[str] = []
        while not self.eat(")"):
            name = self.ident()
            if name is None:
                raise self.err(f"unexpected {self.here()}, expecting IDENTIFIER or )")
            labels.append(name)
            self.eat(",")
        return tuple(labels)

    def range_agg(self) -> MetricQuery:
        func = self.ident()
        if func not in _RANGE_FUNCS:
            raise self.err(f"unexpected {func or self.here()}: the synthetic Loki supports count_over_time, "
                           "rate and sum of them")
        self.expect("(", "(")
        inner = self.log_query()
        self.expect("[", "[")
        end = self.q.find("]", self.i)
        text = self.q[self.i:end if end >= 0 else len(self.q)].strip()
        self.i = end + 1 if end >= 0 else len(self.q)
        rng = parse_duration_s(text)
        if end < 0 or rng is None or rng <= 0:
            raise self.err(f"unexpected {text or '$end'}, expecting RANGE")
        self.expect(")", ")")
        return MetricQuery(func, inner, rng, None)

    def query(self) -> LogQuery | MetricQuery:
        self.ws()
        if self.q.startswith("{", self.i) or self.i >= len(self.q):
            result: LogQuery | MetricQuery = self.log_query()
        elif self.q.startswith("sum", self.i) and not _IDENT.match(self.q, self.i + 3):
            self.i += 3
            by = self.by_clause()
            self.expect("(", "(")
            inner = self.range_agg()
            self.expect(")", ")")
            post = self.by_clause()
            result = MetricQuery(inner.func, inner.inner, inner.range_s, by or post or ())
        else:
            result = self.range_agg()
        self.ws()
        if self.i < len(self.q):
            raise self.err(f"unexpected {self.here()}")
        return result


def parse_logql(query: str) -> LogQuery | MetricQuery:
    return _Parser(query).query()


def parse_duration_s(text: str) -> float | None:
    """Go/Prometheus duration ("1m", "90s", "1h30m") -> seconds, None when malformed."""
    pos, total = 0, 0.0
    for m in _DUR.finditer(text):
        if m.start() != pos:
            return None
        total, pos = total + float(m.group(1)) * _DUR_S[m.group(2)], m.end()
    return total if text and pos == len(text) else None


def parse_time_ns(value: str | None, default_ns: int) -> int:
    """Loki's timestamps: float seconds, int seconds (<= 10 digits), int ns, or RFC 3339."""
    if not value:
        return default_ns
    if re.fullmatch(r"\d+\.\d*", value):
        return int(Decimal(value) * 10**9)
    if re.fullmatch(r"-?\d+", value):
        return int(value) * 10**9 if len(value.lstrip("-")) <= 10 else int(value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise LogQLError(f'cannot parse "{value}" to a valid timestamp') from None
    frac = re.search(r"\.(\d+)", value)
    return int(parsed.replace(microsecond=0).timestamp()) * 10**9 + (int((frac.group(1) + "0" * 9)[:9]) if frac else 0)

