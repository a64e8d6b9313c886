"""Parse the PromQL subset llmwatch's profiles, checks and dashboard produce, for direct scrape.

Why a parser at all: without Prometheus, the same profile templates must still mean the same
numbers, so we evaluate them ourselves (probes/promql_eval.py) instead of keeping a second,
Python-coded definition of every signal. The subset is what rendering every signal of every
profile produces (tests/test_promql_eval.py renders them all and parses each one), plus the
common neighbours a [[rules]] author writes: selectors with = != =~ !~ and offset, range
selectors, arithmetic/comparison/set operators with bool, on/ignoring and group_left/right,
aggregations with by/without, and the functions in promql_eval.FUNCTIONS.

Anything else (subqueries, @, native-histogram functions, count_values...) raises
Unsupported, which the client turns into "not supported in direct-scrape mode (needs Prometheus)".
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from probes.promql_ast import AGGREGATORS, COMPARISONS, PARAM_AGGS, PREC, PROMETHEUS_FUNCTIONS, SET_OPS, UNITS, Agg, \
    Binary, Call, Matching, MatrixSel, Number, PromQLError, Selector, String, Unary, Unsupported
from probes.re2match import RegexError, anchored, check

__all__ = ["PromQLError", "Unsupported", "parse", "parse_duration_ms", "Number", "String", "Selector",
           "MatrixSel", "Call", "Agg", "Binary", "Unary", "Matching", "AGGREGATORS"]

# -- lexer ----------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<duration>(?:\d+(?:ms|[smhdwy]))+(?![\w.]))
  | (?P<number>(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![\w.:]))
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>=~|!~|==|!=|<=|>=|[-+*/%^<>=(){}\[\],@:])
""", re.VERBOSE)
_GO_ESC = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\",
           "'": "'", '"': '"'}
_ESC_RE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.S)


def _unquote(tok: str) -> str:
    if tok[0] == "`":
        return tok[1:-1]

    def esc(m: re.Match) -> str:
        e = m.group(1)
        if e in _GO_ESC:
            return _GO_ESC[e]
        if e[0] in "xuU":
            return chr(int(e[1:], 16))
        if e[0].isdigit() and len(e) == 3:
            return chr(int(e, 8))
        raise PromQLError(f"unknown escape sequence \\{e} in {tok[:60]}")
    return _ESC_RE.sub(esc, tok[1:-1])


def _lex(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise PromQLError(f"unexpected character {text[pos]!r} at position {pos}")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append((kind, m.group()))
        pos = m.end()
    out.append(("eof", ""))
    return out


def parse_duration_ms(text: str) -> int:
    ms = 0
    for num, unit in re.findall(r"(\d+)(ms|[smhdwy])", text):
        ms += int(num) * UNITS[unit]
    if ms <= 0:
        raise PromQLError(f"bad duration {text!r}")
    return ms


# -- parser ---------------------------------------------------------------------------------------

class _Parser:
    def __init__(self, text: str):
        self.toks = _lex(text)
        self.i = 0

    def peek(self, k: int = 0) -> tuple[str, str]:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> tuple[str, str]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        kind, val = self.next()
        if val != value or kind == "string":
            raise PromQLError(f"expected {value!r}, got {val or 'end of query'!r}")

    def at(self, value: str) -> bool:
        """The next token is this operator, or this keyword in any case (Prometheus' lexer
        lower-cases keywords: `SUM BY (job)`, `AND ON (x)`, `OFFSET 5m`, `BOOL` all parse)."""
        kind, val = self.peek()
        return (kind == "op" and val == value) or (kind == "ident" and val.lower() == value)

    def keyword(self) -> str:
        return self.next()[1].lower()

    def binop(self) -> str | None:
        kind, val = self.peek()
        if kind == "op" and val in PREC:
            return val
        if kind == "ident" and val.lower() in ("and", "or", "unless", "atan2"):
            return val.lower()
        return None

    def expr(self, min_prec: int = 1) -> Any:
        lhs = self.unary()
        while True:
            op = self.binop()
            if op is None or PREC[op] < min_prec:
                return lhs
            self.next()
            bool_mod = False
            if self.at("bool"):
                if op not in COMPARISONS:
                    raise PromQLError("bool modifier can only be used on comparison operators")
                self.next()
                bool_mod = True
            matching = self.matching(op)
            nxt = PREC[op] if op == "^" else PREC[op] + 1  # ^ is right-associative
            rhs = self.expr(nxt)
            lhs = Binary(op, lhs, rhs, bool_mod, matching)

    def matching(self, op: str) -> Matching | None:
        if not (self.at("on") or self.at("ignoring")):
            if op in SET_OPS:
                return Matching(card="many-to-many")
            return None
        on = self.keyword() == "on"
        labels = self.labels()
        card, include = ("many-to-many" if op in SET_OPS else "one-to-one"), ()
        if self.at("group_left") or self.at("group_right"):
            if op in SET_OPS:
                raise PromQLError(f"no grouping allowed for {op!r} operation")
            card = "many-to-one" if self.keyword() == "group_left" else "one-to-many"
            include = self.labels() if self.at("(") else ()
        return Matching(card, on, labels, include)

    def labels(self) -> tuple[str, ...]:
        self.expect("(")
        out: list[str] = []
        while not self.at(")"):
            kind, val = self.next()
            if kind != "ident":
                raise PromQLError(f"unexpected {val!r} in label list")
            out.append(val)
            if not self.at(")"):
                self.expect(",")
        self.next()
        return tuple(out)

    def unary(self) -> Any:
        kind, val = self.peek()
        if kind == "op" and val in ("-", "+"):
            self.next()
            inner = self.expr(PREC["^"])
            if val == "+":
                return inner
            if isinstance(inner, Number):
                return Number(-inner.value)
            return Unary("-", inner)
        return self.postfix(self.primary())

    def postfix(self, node: Any) -> Any:
        while True:
            if self.at("["):
                self.next()
                kind, val = self.next()
                if kind != "duration":
                    raise PromQLError(f"bad range {val!r}: want a duration like 5m")
                if self.peek()[1].startswith(":"):
                    raise Unsupported("subqueries are not supported in direct-scrape mode (needs Prometheus)")
                self.expect("]")
                if not isinstance(node, Selector):
                    raise PromQLError("ranges only allowed for vector selectors")
                node = MatrixSel(node, parse_duration_ms(val))
            elif self.at("offset"):
                self.next()
                neg = self.at("-")
                if neg:
                    self.next()
                kind, val = self.next()
                if kind != "duration":
                    raise PromQLError(f"bad offset {val!r}")
                ms = parse_duration_ms(val) * (-1 if neg else 1)
                if isinstance(node, Selector):
                    node = Selector(node.name, node.matchers, ms)
                elif isinstance(node, MatrixSel):
                    node = MatrixSel(Selector(node.sel.name, node.sel.matchers, ms), node.range_ms)
                else:
                    raise PromQLError("offset modifier must be preceded by a selector")
            elif self.at("@"):
                raise Unsupported("the @ modifier is not supported in direct-scrape mode (needs Prometheus)")
            else:
                return node

    def primary(self) -> Any:
        kind, val = self.next()
        if kind == "number":
            return Number(float(int(val, 16)) if val[:2].lower() == "0x" else float(val))
        if kind == "string":
            return String(_unquote(val))
        if kind == "op" and val == "(":
            inner = self.expr()
            self.expect(")")
            return inner
        if kind == "op" and val == "{":
            return self.selector(None)
        if kind == "ident":
            low = val.lower()
            if low in AGGREGATORS and (self.at("(") or self.at("by") or self.at("without")):
                return self.aggregation(low)
            if self.at("("):
                if val not in PROMETHEUS_FUNCTIONS:
                    raise PromQLError(f"unknown function with name {val!r}")
                return self.call(val)
            if low in ("inf", "nan"):
                return Number(float(low))
            if self.at("{"):
                self.next()
                return self.selector(val)
            return Selector(val, ())
        raise PromQLError(f"unexpected {val or 'end of query'!r}")

    def selector(self, name: str | None) -> Selector:
        matchers: list[tuple[str, str, str]] = []
        while not self.at("}"):
            kind, label = self.next()
            if kind != "ident":
                raise PromQLError(f"unexpected {label!r} in label matching")
            okind, op = self.next()
            if op not in ("=", "!=", "=~", "!~"):
                raise PromQLError(f"unexpected {op!r} after label {label!r}")
            skind, sval = self.next()
            if skind != "string":
                raise PromQLError(f"label {label!r}: want a quoted string, got {sval!r}")
            value = _unquote(sval)
            if op in ("=~", "!~"):
                try:
                    check(value)
                except RegexError as exc:
                    raise PromQLError(str(exc)) from None
            matchers.append((label, op, value))
            if not self.at("}"):
                self.expect(",")
        self.next()
        if name is None:
            named = [v for k, o, v in matchers if k == "__name__" and o == "="]
            name = named[0] if len(named) == 1 else None
        elif any(k == "__name__" for k, _, _ in matchers):
            raise PromQLError("metric name must not be set twice")
        if name is None and all(_matches_empty(o, v) for _, o, v in matchers):
            raise PromQLError("vector selector must contain at least one non-empty matcher")
        return Selector(name, tuple(matchers))

    def aggregation(self, op: str) -> Agg:
        grouping: tuple[str, ...] = ()
        without = False
        if self.at("by") or self.at("without"):
            without = self.keyword() == "without"
            grouping = self.labels()
        self.expect("(")
        param = None
        if op in PARAM_AGGS:
            param = self.expr()
            self.expect(",")
        body = self.expr()
        self.expect(")")
        if self.at("by") or self.at("without"):
            without = self.keyword() == "without"
            grouping = self.labels()
        if op == "count_values":
            raise Unsupported("count_values is not supported in direct-scrape mode (needs Prometheus)")
        return Agg(op, body, param, grouping, without)

    def call(self, name: str) -> Call:
        self.expect("(")
        args: list[Any] = []
        while not self.at(")"):
            args.append(self.expr())
            if not self.at(")"):
                self.expect(",")
        self.next()
        return Call(name, tuple(args))


def _matches_empty(op: str, value: str) -> bool:
    if op == "=":
        return value == ""
    if op == "!=":
        return value != ""
    hit = anchored(value).matches("")
    return hit if op == "=~" else not hit


@lru_cache(maxsize=2048)
def parse(text: str) -> Any:
    """The AST of one query (cached: the dashboard asks the same queries every refresh)."""
    p = _Parser(text)
    node = p.expr()
    kind, val = p.peek()
    if kind != "eof":
        raise PromQLError(f"unexpected {val!r} after the end of the expression")
    return node
