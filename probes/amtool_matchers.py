"""Silence matchers read exactly as amtool 0.25 reads them (`amtool silence add ARG...`).

Why a port: a matcher a person copies from an amtool habit must mean the same silence here, and
Alertmanager stores what the client sends, so a different reading silences different alerts.
The rules, from alertmanager v0.25.0 pkg/labels/parse.go (ParseMatcher, ParseMatchers) and
cli/silence_add.go:

- `name op value`, op one of = != =~ !~, spaces around each part ignored; the name as amtool's
  regex allows it, Alertmanager then refuses what is not a label name (we refuse it first);
- the value may be double-quoted; inside, and without quotes too, `\\"` is a quote, `\\n` a
  newline, `\\\\` a backslash, and any other backslash stays as it is (`gw-\\d+` is the regex
  gw-\\d+); an unescaped `"` inside the value is an error; `'` is an ordinary character;
- a regex must compile as Go's `^(?:value)$` (probes/re2match.py);
- the first argument, if it does not parse, is the alert name (`HighLatency` = alertname="HighLatency").

One deliberate extension: an argument written as a brace list, `{a="b", c=~"d"}`, is read with
Alertmanager's own ParseMatchers (its config and API syntax): commas outside quotes separate,
a trailing comma is allowed, an empty element (`{,}`) is an error. amtool 0.25 refuses such an
argument (or takes `{,}` as an alert name); tests/test_matchers_differential.py checks the rest
against amtool and the real Alertmanager.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from probes.re2match import RegexError, check

__all__ = ["Matcher", "MatcherError", "parse_matcher", "parse_matchers", "parse_brace_list", "split_args"]

_WS = "[\t\n\f\r ]"  # Go RE2's \s
_MATCHER = re.compile(rf"^{_WS}*([a-zA-Z_:][a-zA-Z0-9_:]*){_WS}*(=~|=|!=|!~){_WS}*([\s\S]*?){_WS}*\Z")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")  # Alertmanager's model.LabelName.IsValid
_OPS = {"=": (False, True), "!=": (False, False), "=~": (True, True), "!~": (True, False)}


class MatcherError(ValueError):
    """A matcher amtool would refuse; the message says why."""


@dataclass(frozen=True)
class Matcher:
    """One label matcher, as Alertmanager stores it; str() is amtool's own rendering."""

    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    @property
    def op(self) -> str:
        return {v: k for k, v in _OPS.items()}[(self.is_regex, self.is_equal)]

    def to_api(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "isRegex": self.is_regex, "isEqual": self.is_equal}

    def __str__(self) -> str:  # labels.Matcher.String(): openMetricsEscape, reads back the same
        value = self.value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        return f'{self.name}{self.op}"{value}"'


def _unescape(raw: str, text: str) -> str:
    """ParseMatcher's value loop: \\n \\" \\\\ decoded, other backslashes kept, bare quotes refused."""
    quoted = raw.startswith('"')
    if quoted:
        raw = raw[1:]
    out: list[str] = []
    escaped = False
    last = len(raw) - 1
    for i, ch in enumerate(raw):
        if escaped:
            escaped = False
            out.append({"n": "\n", '"': '"', "\\": "\\"}.get(ch, "\\" + ch))
        elif ch == "\\":
            if i < last:
                escaped = True
            else:
                out.append("\\")  # a backslash as the last character is literal
        elif ch == '"':
            if not quoted or i < last:
                raise MatcherError(f"bad matcher {text!r}: the value holds an unescaped double quote "
                                   f'(write \\" inside the value)')
            quoted = False
        else:
            out.append(ch)
    if quoted:
        raise MatcherError(f"bad matcher {text!r}: the value's opening double quote is never closed")
    return "".join(out)


def parse_matcher(text: str) -> Matcher:
    """One amtool matcher: 'alertname=Foo', 'severity!="info"', 'instance=~"gw-\\d+"'."""
    m = _MATCHER.match(text)
    if not m:
        raise MatcherError(f"bad matcher {text!r}: expected name=value, name!=value, name=~regex or name!~regex")
    name, op, raw = m.groups()
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise MatcherError(f"bad matcher {text!r}: the value is not valid UTF-8") from None
    value = _unescape(raw, text)
    is_regex, is_equal = _OPS[op]
    if is_regex:
        try:
            check(value)
        except RegexError as exc:
            raise MatcherError(f"bad matcher {text!r}: {exc}") from None
    return Matcher(name=name, value=value, is_regex=is_regex, is_equal=is_equal)


def parse_brace_list(text: str) -> list[Matcher]:
    """Alertmanager's ParseMatchers: '{a="b", c=~"x,y"}' (braces optional, trailing comma allowed)."""
    body = text[1:] if text.startswith("{") else text
    body = body[:-1] if body.endswith("}") else body
    tokens, cur, quoted, escaped = [], [], False, False
    for ch in body:
        if ch == "," and not quoted:
            tokens.append("".join(cur))
            cur = []
            continue
        if ch == '"':
            if not escaped:
                quoted = not quoted
            else:
                escaped = False
        elif ch == "\\":
            escaped = not escaped
        else:
            escaped = False
        cur.append(ch)
    last = "".join(cur).strip(" \t\n\f\r\v")
    if last:
        tokens.append(last)
    return [parse_matcher(token) for token in tokens]


def _label_ok(m: Matcher) -> Matcher:
    if not _LABEL.match(m.name):
        raise MatcherError(f"bad matcher {str(m)!r}: {m.name!r} is not a valid label name "
                           f"(letters, digits and _, not starting with a digit; Alertmanager refuses it)")
    return m


def parse_matchers(args: Iterable[str]) -> list[Matcher]:
    """amtool silence add's argument list; a first argument that is no matcher is the alert name."""
    out: list[Matcher] = []
    for i, arg in enumerate(args):
        if arg.strip().startswith("{") and arg.strip().endswith("}"):
            out += parse_brace_list(arg.strip())
            continue
        try:
            out.append(parse_matcher(arg))
        except MatcherError:
            if i != 0:
                raise
            out.append(parse_matcher(f"alertname={arg}"))  # cli/silence_add.go
    return [_label_ok(m) for m in out]


def split_args(text: str) -> list[str]:
    """A line of matchers as typed in the TUI form -> arguments: whitespace outside double quotes
    separates (\\" does not end a quote); a '{...}' line is one brace-list argument."""
    text = text.strip()
    if text.startswith("{"):
        return [text]
    args, cur, quoted, escaped = [], [], False, False
    for ch in text:
        if not quoted and ch in " \t":
            if cur:
                args.append("".join(cur))
                cur = []
            continue
        if ch == '"' and not escaped:
            quoted = not quoted
        escaped = ch == "\\" and not escaped
        cur.append(ch)
    if cur:
        args.append("".join(cur))
    return args
