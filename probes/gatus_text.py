"""How Gatus turns values into numbers and lengths, for probes/conditions.py.

Why separate: these are ports of Go library behaviour that Gatus' conditions rely on
(config/endpoint/condition.go, placeholder.go, jsonpath/jsonpath.go), each small but exact:

- `go_parse_int`: strconv.ParseInt(s, 0, 64), Gatus' "both sides are integers" test for == and
  its first try for < >: `0x1F`, `0o17`, `0b101`, a leading `0` is octal (`010` is 8), `_`
  between digits, a sign; anything else (floats, `08`, out of int64) is not an integer;
- `body_len`: len([BODY]) is the number of items of a JSON array body, else the body's length in bytes;
- `value_len`: len() of a JSON path: items of an array, bytes of a string, bytes of
  json.Marshal's text for an object (keys sorted, no spaces, <>& escaped as \\u003c...).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

__all__ = ["go_parse_int", "body_len", "value_len", "go_json"]

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_INT64 = 2 ** 63


def _underscore_ok(s: str) -> bool:
    """strconv.underscoreOK: underscores only between digits (or after a base prefix)."""
    saw, i = "^", 0
    if s[:1] in ("+", "-"):
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i, saw, hexa = 2, "0", s[1].lower() == "x"
    for c in s[i:]:
        if "0" <= c <= "9" or hexa and "a" <= c.lower() <= "f":
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
    return saw != "_"


def go_parse_int(s: str) -> int | None:
    """strconv.ParseInt(s, 0, 64), or None where Go returns an error."""
    body, neg = s, False
    if body[:1] in ("+", "-"):
        neg, body = body[0] == "-", body[1:]
    if not body:
        return None
    base, digits = 10, body
    if body[0] == "0":
        prefix = body[1:2].lower()
        if len(body) >= 3 and prefix in ("b", "o", "x"):
            base, digits = {"b": 2, "o": 8, "x": 16}[prefix], body[2:]
        else:
            base, digits = 8, body[1:]
    n, underscores = 0, False
    for c in digits:
        if c == "_":
            underscores = True
            continue
        d = _DIGITS.find(c.lower()) if c.isascii() else -1
        if d < 0 or d >= base:
            return None
        n = n * base + d
    if underscores and not _underscore_ok(body):
        return None
    if n > (_INT64 if neg else _INT64 - 1):
        return None
    return -n if neg else n


def _go_float(f: float) -> str:
    """encoding/json's float64 text: fixed notation for 1e-6 <= |f| < 1e21, else exponent (e-7)."""
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        mant, _, exp = repr(f).partition("e")
        return f"{mant}e{exp[0]}{exp[1:].lstrip('0') or '0'}"
    text = format(Decimal(repr(f)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def go_json(value: Any) -> str:
    """json.Marshal of a decoded JSON value, as Gatus re-marshals an object before taking its length."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{go_json(k)}:{go_json(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, list):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return _go_float(float(value))  # Go decodes every JSON number as a float64
    text = json.dumps(str(value), ensure_ascii=False).replace("\b", "\\u0008").replace("\f", "\\u000c")
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def body_len(raw: bytes) -> int:
    """len([BODY]) as placeholder.go: a body that starts with [ and ends with ] and is JSON counts
    its items; anything else (objects too) is its length in bytes, untrimmed."""
    if raw[:1] == b"[" and raw[-1:] == b"]":
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return len(raw.strip())
        if isinstance(doc, list):
            return len(doc)
    return len(raw)


def value_len(value: Any, text: str) -> int:
    """len([BODY].path) as jsonpath.walk: items of an array, bytes of the text otherwise; an
    object's text is json.Marshal's. `text` is the value as the condition compares it."""
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict):
        return len(go_json(value).encode("utf-8"))
    return len(text.encode("utf-8"))
