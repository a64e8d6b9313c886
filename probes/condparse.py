"""Parsing of Gatus-style conditions into operands; see probes.conditions for the language.

Separate from evaluation so each half reads in one sitting. Errors are ValueError with a
message that says what to write instead; probes.conditions turns them into malformed conditions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDERS = ("STATUS", "BODY", "RESPONSE_TIME", "CONNECTED", "CERTIFICATE_EXPIRATION", "IP", "HEADER")
OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
FUNCTIONS = ("len", "has", "pat", "any")
_FUNC = re.compile(r"([A-Za-z_]+)\((.*)\)", re.S)
_PLACEHOLDER = re.compile(r"\[([A-Za-z_]+)\]")
_PLACEHOLDER_LIKE = re.compile(r"\[[A-Za-z_][A-Za-z_.]*\]")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass(frozen=True)
class Operand:
    kind: str  # placeholder | literal | len | has | pat | any
    text: str  # as written
    name: str = ""  # placeholder name, upper case
    path: tuple[str | int, ...] = ()  # [BODY] JSON path; [HEADER] lower-case name
    values: tuple[str, ...] = ()  # literal value, pat() pattern, any() options
    inner: "Operand | None" = None  # argument of len() / has()


def split_condition(text: str) -> tuple[str, str, str]:
    """Find the one comparison operator outside brackets, parentheses and quotes."""
    if not text:
        raise ValueError("empty condition")
    sq = par = 0
    quote = ""
    prev = ""  # last significant character outside quotes
    ops: list[tuple[int, str]] = []
    lone_equals = False
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote, prev = "", c
            i += 1
            continue
        if c in "\"'" and prev in ("", "=", "<", ">", "(", ",", "["):
            quote = c
        elif c == "[":
            sq += 1
        elif c == "]":
            sq -= 1
            if sq < 0:
                raise ValueError("unbalanced ']'")
        elif c == "(":
            par += 1
        elif c == ")":
            par -= 1
            if par < 0:
                raise ValueError("unbalanced ')'")
        elif sq == 0 and par == 0 and c in "=!<>":
            two = text[i:i + 2]
            if two in ("==", "!=", "<=", ">="):
                ops.append((i, two))
                prev = two[1]
                i += 2
                continue
            if c in "<>":
                ops.append((i, c))
            elif c == "=":
                lone_equals = True
        if not c.isspace():
            prev = c
        i += 1
    if quote:
        raise ValueError(f"unterminated {quote} quote")
    if sq:
        raise ValueError("unclosed '['")
    if par:
        raise ValueError("unclosed '('")
    if not ops:
        hint = "; '=' is not one, use '=='" if lone_equals else ""
        raise ValueError(f"no comparison operator (use ==, !=, <, <=, >, >=){hint}")
    if len(ops) > 1:  # prefer the Gatus form with spaces around the operator
        spaced = [(i, op) for i, op in ops if text[i - 1:i] == " " and text[i + len(op):i + len(op) + 1] == " "]
        if len(spaced) != 1:
            raise ValueError("more than one comparison operator (quote text that contains < > = !)")
        ops = spaced
    pos, op = ops[0]
    left, right = text[:pos].strip(), text[pos + len(op):].strip()
    if not left:
        raise ValueError(f"nothing left of {op!r}")
    if not right:
        raise ValueError(f"nothing right of {op!r}")
    return left, op, right


def _unquote(s: str) -> str:
    s = s.strip()
    if len(s) >= 2 and s[0] in "\"'" and s[-1] == s[0]:
        body = s[1:-1]
        return re.sub(r"\\(.)", r"\1", body)
    if s[:1] in ("\"", "'") and s[-1:] != s[:1]:
        raise ValueError(f"unterminated quote in {s!r}")
    return s


def parse_operand(s: str) -> Operand:
    s = s.strip()
    if s[:1] in ("\"", "'"):
        return Operand("literal", s, values=(_unquote(s),))
    m = _FUNC.fullmatch(s)
    if m:
        fn, arg = m.group(1).lower(), m.group(2).strip()
        if fn in ("len", "has"):
            if not arg:
                raise ValueError(f"{fn}() needs an argument, e.g. {fn}([BODY].models)")
            inner = parse_operand(arg)
            if inner.kind != "placeholder" and inner.kind != "literal":
                raise ValueError(f"{fn}() takes a placeholder, not {inner.text}")
            return Operand(fn, s, inner=inner)
        if fn == "pat":
            pattern = _unquote(arg)
            if not pattern:
                raise ValueError("pat() needs a pattern, e.g. pat(heal*)")
            return Operand("pat", s, values=(pattern,))
        if fn == "any":
            options = tuple(_unquote(o) for o in _split_commas(arg))
            if not arg or not options:
                raise ValueError("any() needs values, e.g. any(ok, healthy)")
            return Operand("any", s, values=options)
        raise ValueError(f"unknown function {m.group(1)}() (known: len, has, pat, any; quote literal text)")
    if _PLACEHOLDER_LIKE.match(s):  # "[NAME]..."; other bracketed text (a JSON list) is a literal
        return _placeholder(s)
    return Operand("literal", s, values=(s,))


def _split_commas(arg: str) -> list[str]:
    parts, cur, quote = [], "", ""
    for c in arg:
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'" and not cur.strip():
            quote = c
        elif c == ",":
            parts.append(cur)
            cur = ""
            continue
        cur += c
    parts.append(cur)
    return [p.strip() for p in parts]


def _placeholder(s: str) -> Operand:
    m = _PLACEHOLDER.match(s)
    name = m.group(1).upper() if m else ""
    if not m or name not in PLACEHOLDERS:
        shown = m.group(0) if m else s.split("]")[0] + "]"
        raise ValueError(f"unknown placeholder {shown} (known: {', '.join('[' + p + ']' for p in PLACEHOLDERS)})")
    rest = s[m.end():]
    if name == "BODY":
        return Operand("placeholder", s, name, _json_path(rest))
    if name == "HEADER":
        if not rest.startswith(".") or not _HEADER_NAME.fullmatch(rest[1:]):
            raise ValueError("[HEADER] needs a header name, e.g. [HEADER].Content-Type")
        return Operand("placeholder", s, name, (rest[1:].lower(),))
    if rest:
        raise ValueError(f"[{name}] takes no path, got {rest!r}")
    return Operand("placeholder", s, name)


def _json_path(rest: str) -> tuple[str | int, ...]:
    """`.a.b[0]["c.d"]` -> ("a", "b", 0, "c.d")."""
    path: list[str | int] = []
    i = 0
    while i < len(rest):
        if rest[i] == ".":
            j = i + 1
            while j < len(rest) and rest[j] not in ".[":
                j += 1
            if j == i + 1:
                raise ValueError(f"empty key in JSON path {rest!r}")
            path.append(rest[i + 1:j])
            i = j
        elif rest[i] == "[":
            j = rest.find("]", i)
            if j < 0:
                raise ValueError(f"unclosed '[' in JSON path {rest!r}")
            inner = rest[i + 1:j].strip()
            if re.fullmatch(r"-?\d+", inner):
                path.append(int(inner))
            elif inner[:1] in ("\"", "'"):
                path.append(_unquote(inner))
            else:
                raise ValueError(f"bad index [{inner}] in JSON path (use [0] or [\"key\"])")
            i = j + 1
        else:
            raise ValueError(f"bad JSON path {rest!r} (use [BODY].a.b[0])")
    return tuple(path)
