"""Label regexes with the semantics Prometheus 2.42 and Alertmanager 0.25 give them: Go RE2, fully anchored.

Why not Python's `re`: the syntaxes differ where users notice. `((?i)PRO).*` (a flag inside a
group) is an error in `re`; `\\d`, `\\w`, `\\s` and `\\b` are ASCII in RE2 and Unicode in `re`;
`.` does not match a newline in RE2 (Prometheus 2.42 compiles `^(?:re)$` without `(?s)`);
`\\pL`, `[[:alpha:]]` and `\\z` exist only in RE2; backreferences and look-arounds only in `re`.
So we use RE2 itself (the google-re2 binding): tests/test_promql_differential.py checks a table
of such patterns against the real Prometheus. The binding is C++ RE2, which accepts two things
Go 1.19's regexp/syntax refuses, `(?<name>...)` and `\\C`; `_go_only` refuses them the same way.

Matching a value goes through a per-pattern memo: label values repeat on every refresh, and
the binding costs ~2 us a call against ~0.1 us for a dict hit (bench numbers in the commit).
"""

from __future__ import annotations

from functools import lru_cache

import re2

__all__ = ["RegexError", "Anchored", "anchored", "check"]

_MEMO_MAX = 4096
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print parse errors of untrusted patterns on stderr


class RegexError(ValueError):
    """A pattern Go's regexp package refuses; the message is RE2's reason."""


class Anchored:
    """One compiled pattern, matched against whole strings only (as `^(?:re)$`)."""

    __slots__ = ("pattern", "_rx", "_memo")

    def __init__(self, pattern: str):
        _go_only(pattern)
        try:
            self._rx = re2.compile(pattern, _OPTIONS)
        except re2.error as exc:
            raise RegexError(_reason(exc)) from None
        self.pattern = pattern
        self._memo: dict[str, bool] = {}

    def matches(self, value: str) -> bool:
        memo = self._memo
        hit = memo.get(value)
        if hit is None:
            if len(memo) >= _MEMO_MAX:
                memo.clear()
            hit = memo[value] = self._rx.fullmatch(value) is not None
        return hit

    def fullmatch(self, value: str):
        """The match object (groups for label_replace), or None."""
        return self._rx.fullmatch(value)


@lru_cache(maxsize=1024)
def anchored(pattern: str) -> Anchored:
    """The compiled pattern (cached: the same selectors come back every refresh)."""
    return Anchored(pattern)


def check(pattern: str) -> None:
    """Raise RegexError when Prometheus/Alertmanager would refuse the pattern."""
    anchored(pattern)


def _reason(exc: Exception) -> str:
    msg = exc.args[0] if exc.args else str(exc)
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", errors="replace")
    return f"error parsing regexp: {msg}"


def _go_only(pattern: str) -> None:
    """Refuse what C++ RE2 accepts and Go 1.19 does not: `(?<name>` groups and the `\\C` escape."""
    i, n, in_class = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1:i + 2]
            if nxt == "Q":  # \Q...\E is literal text
                end = pattern.find("\\E", i + 2)
                i = n if end < 0 else end + 2
                continue
            if nxt == "C":
                raise RegexError("error parsing regexp: invalid escape sequence: `\\C`")
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            i += 1
            if pattern[i:i + 1] == "^":
                i += 1
            if pattern[i:i + 1] == "]":  # a leading ] is literal
                i += 1
            continue
        elif pattern.startswith("(?<", i):
            raise RegexError("error parsing regexp: invalid or unsupported Perl syntax: `(?<`")
        i += 1
