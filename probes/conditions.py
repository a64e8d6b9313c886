"""Health-check conditions in Gatus' language: `[STATUS] == 200`, `[BODY].checks.redis.status == healthy`.

Why Gatus: it is the most-liked config-as-code checker, so its users can paste their
conditions unchanged. A condition is compiled once (`compile_condition`) and evaluated against
every probe's `Observation`. Compiling never raises: a malformed condition carries its error
and evaluates to UNKNOWN with a message naming it, so one typo cannot crash a dashboard.

Grammar: `operand OP operand`, OP one of == != < <= > >=.
  operand   [STATUS] [BODY] [BODY].a.b[0].c [RESPONSE_TIME] [CONNECTED] [CERTIFICATE_EXPIRATION]
            [IP] [HEADER].Name | len(x) has(x) pat(glob) any(a, b, c) | "quoted" | bare words
Comparison as in Gatus (config/endpoint/condition.go isEqual): == and != compare as integers
when both sides are integers the way Go's strconv.ParseInt(s, 0, 64) reads them (so "0x1",
"0o1", "0b1" and "1" are equal, and "010" is 8), else as text. < <= > >= need numbers (the same
integers first, then decimals); durations like 48h, 1m30s, 500ms count as milliseconds (the
unit of [RESPONSE_TIME] and [CERTIFICATE_EXPIRATION]). len() is Gatus' (probes/gatus_text.py):
items of a JSON array, bytes of a string, bytes of the JSON text of an object (json.Marshal:
keys sorted, no spaces), and len([BODY]) of anything but an array body is the body's byte length.
Deliberate differences from Gatus, each to avoid a silent pass or a check that can never pass:
a missing JSON path or a non-JSON body fails the condition (Gatus compares the text
"(INVALID)"), non-numbers in < > fail (Gatus uses 0), decimals in < > keep their fraction (Gatus
truncates both sides to integers, so `[BODY].load < 1.5` fails at 1.2), unknown placeholders and
functions are malformed (Gatus compares them as literal text), a JSON number keeps its plain
text (Gatus prints 1000000 as 1e+06, and `== 1000000` fails there). `true`/`false` compare
case-insensitively; a body that is one JSON string ("I'm alive!") resolves [BODY] to the string.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cached_property
from typing import Any, Iterable, Mapping

from probes.condparse import FUNCTIONS, OPERATORS, PLACEHOLDERS, Operand, parse_operand, split_condition
from probes.durations import DurationError, format_duration, parse_duration
from probes.gatus_text import body_len, go_parse_int, value_len
from probes.status import Status
from probes.textsafe import one_line

__all__ = ["FUNCTIONS", "OPERATORS", "PLACEHOLDERS", "Condition", "ConditionResult", "Observation", "Operand",
           "compile_all", "compile_condition", "evaluate_all"]

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_VALUE_WIDTH = 60


@dataclass(frozen=True)
class Observation:
    """What one probe saw; the facts conditions are evaluated against."""

    status: int = 0
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-case
    response_time_ms: float = 0.0
    connected: bool = False
    certificate_expires_in_ms: float | None = None
    ip: str = ""
    body_error: str = ""  # why the body is unavailable ("body over the 1 MB limit"), if it is

    @cached_property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace").strip()

    @cached_property
    def json(self) -> tuple[bool, Any]:
        """(True, value) when the body is JSON; parsed once however many conditions read it."""
        if self.body_error or not self.body.strip():
            return False, None
        try:
            return True, json.loads(self.body.decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            return False, None


@dataclass(frozen=True)
class ConditionResult:
    """One condition's verdict. actual: the resolved value(s); message: why it failed ("" if ok)."""

    text: str
    ok: bool
    actual: str = ""
    message: str = ""
    status: Status = Status.OK  # OK, CRITICAL (failed) or UNKNOWN (malformed)


class _Unresolved(Exception):
    """A placeholder with no value here (missing path, body not JSON): the condition fails."""


@dataclass(frozen=True)
class Condition:
    text: str
    op: str = ""
    left: Operand | None = None
    right: Operand | None = None
    error: str = ""  # set when malformed

    @property
    def malformed(self) -> bool:
        return bool(self.error)

    def uses(self, placeholder: str) -> bool:
        """Whether an operand reads this placeholder (e.g. skip the body when nothing needs it)."""
        def walk(o: Operand | None) -> bool:
            return o is not None and (o.name == placeholder or walk(o.inner))
        return walk(self.left) or walk(self.right)

    def evaluate(self, obs: Observation) -> ConditionResult:
        if self.error or self.left is None or self.right is None:
            return ConditionResult(self.text, False, "", f"malformed condition {self.text!r}: {self.error}",
                                   Status.UNKNOWN)
        try:
            lv = _resolve(self.left, obs)
            rv = _resolve(self.right, obs)
        except _Unresolved as exc:
            return ConditionResult(self.text, False, "", f"{self.text}: {exc}", Status.CRITICAL)
        actual = " vs ".join(_show(v, o) for o, v in ((self.left, lv), (self.right, rv))
                             if o.kind not in ("literal", "pat", "any"))
        ok, problem = _compare(self.op, self.left, lv, self.right, rv)
        if ok:
            return ConditionResult(self.text, True, actual)
        message = problem or f"{_pretty(self.left, lv)} {self.op} {_pretty(self.right, rv)} is false"
        return ConditionResult(self.text, False, actual, message, Status.CRITICAL)


def compile_condition(text: str) -> Condition:
    """Parse once; never raises (a malformed condition keeps its error for evaluation time)."""
    text = str(text).strip()
    try:
        left, op, right = split_condition(text)
        return Condition(text, op, parse_operand(left), parse_operand(right))
    except ValueError as exc:
        return Condition(text, error=str(exc))


def compile_all(texts: Iterable[str]) -> tuple[Condition, ...]:
    return tuple(compile_condition(t) for t in texts)


def evaluate_all(conditions: Iterable[Condition], obs: Observation) -> tuple[ConditionResult, ...]:
    return tuple(c.evaluate(obs) for c in conditions)


# ---------------------------------------------------------------------------------------------
# Evaluation


def _resolve(o: Operand, obs: Observation) -> Any:
    """The operand's value: a str, or for [BODY] paths the JSON value itself."""
    if o.kind in ("literal", "pat", "any"):
        return o.values[0] if o.kind == "literal" else None
    inner = o.inner
    if o.kind == "has" and inner is not None:
        try:
            value = _resolve(inner, obs)
        except _Unresolved:
            return "false"
        if inner.name == "BODY" and inner.path:
            return "true"  # the path exists (even when its value is null or "")
        return "true" if _text(value) != "" else "false"
    if o.kind == "len" and inner is not None:
        if inner.kind == "placeholder" and inner.name == "BODY" and not inner.path:
            if obs.body_error:
                raise _Unresolved(obs.body_error)
            return str(body_len(obs.body))
        value = _resolve(inner, obs)
        return str(value_len(value, _text(value)))
    name = o.name
    if name == "STATUS":
        return str(obs.status)
    if name == "RESPONSE_TIME":
        return str(round(obs.response_time_ms))
    if name == "CONNECTED":
        return "true" if obs.connected else "false"
    if name == "IP":
        if not obs.ip:
            raise _Unresolved("no IP address (no connection was made)")
        return obs.ip
    if name == "CERTIFICATE_EXPIRATION":
        if obs.certificate_expires_in_ms is None:
            raise _Unresolved("no TLS certificate (not https, or the handshake failed)")
        return str(int(obs.certificate_expires_in_ms))
    if name == "HEADER":
        value = obs.headers.get(str(o.path[0]))
        if value is None:
            raise _Unresolved(f"no {o.path[0]} header in the response")
        return value
    # BODY
    if obs.body_error:
        raise _Unresolved(obs.body_error)
    is_json, doc = obs.json
    if not o.path:
        return doc if is_json and isinstance(doc, str) else obs.text
    if not is_json:
        raise _Unresolved("body is not JSON" if obs.text else "body is empty")
    return _walk(doc, o.path)


def _walk(doc: Any, path: tuple[str | int, ...]) -> Any:
    cur = doc
    done = "[BODY]"
    for key in path:
        if isinstance(key, str) and isinstance(cur, list) and re.fullmatch(r"\d+", key):
            key = int(key)  # [BODY].data.0 as Gatus users sometimes write it
        if isinstance(key, int):
            if not isinstance(cur, list):
                raise _Unresolved(f"{done} is not a list")
            if not -len(cur) <= key < len(cur):
                raise _Unresolved(f"{done} has {len(cur)} items, no [{key}]")
            cur = cur[key]
            done += f"[{key}]"
        else:
            if not isinstance(cur, dict):
                raise _Unresolved(f"{done} is not an object, no .{key}")
            if key not in cur:
                raise _Unresolved(f"{done} has no key {key!r}")
            cur = cur[key]
            done += f".{key}"
    return cur


def _text(value: Any) -> str:
    """A JSON value as Gatus prints it: strings bare, true/false/null, compact JSON for the rest."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _number(s: str) -> float | None:
    s = s.strip()
    return float(s) if _NUMBER.fullmatch(s) else None


def _number_or_duration(s: str) -> float | None:
    """Go integers (0x1F, 0o17, 010) and decimals as they are; durations (48h, 1m30s, 500ms) in ms."""
    i = go_parse_int(s.strip())
    if i is not None:
        return float(i)
    n = _number(s)
    if n is not None:
        return n
    try:
        return parse_duration(s.strip()) * 1000.0
    except DurationError:
        return None


def _equal(a: str, b: str) -> bool:
    ia, ib = go_parse_int(a), go_parse_int(b)
    if ia is not None and ib is not None:
        return ia == ib
    if a.lower() in ("true", "false") and b.lower() in ("true", "false"):
        return a.lower() == b.lower()
    return a == b


def _compare(op: str, lo: Operand, lv: Any, ro: Operand, rv: Any) -> tuple[bool, str]:
    special = [o for o in (lo, ro) if o.kind in ("pat", "any")]
    if special and op not in ("==", "!="):
        return False, f"{special[0].kind}() works only with == and !="
    if len(special) == 2:
        return False, "pat()/any() on both sides: compare one of them with a value"
    if op in ("==", "!="):
        if special:
            fn = special[0]
            value = _text(rv if fn is lo else lv)
            if fn.kind == "pat":
                match = fnmatchcase(value, fn.values[0])
            else:
                match = any(_equal(value, option) for option in fn.values)
        else:
            match = _equal(_text(lv), _text(rv))
        return (match if op == "==" else not match), ""
    ln, rn = _number_or_duration(_text(lv)), _number_or_duration(_text(rv))
    for o, v, n in ((lo, lv, ln), (ro, rv, rn)):
        if n is None:
            return False, f"{o.text} ({_show(v, o)}) is not a number or duration, cannot use {op}"
    assert ln is not None and rn is not None
    ok = {"<": ln < rn, "<=": ln <= rn, ">": ln > rn, ">=": ln >= rn}[op]
    return ok, ""


def _show(value: Any, o: Operand | None = None) -> str:
    if o is not None and o.name == "CERTIFICATE_EXPIRATION" and o.kind == "placeholder":
        return format_duration(max(0.0, float(value) / 1000))  # "2d3h" reads better than 183600000
    return one_line(_text(value), _VALUE_WIDTH)


def _pretty(o: Operand, value: Any) -> str:
    """Gatus-style display: the operand as written, its resolved value in parentheses."""
    if o.kind in ("literal", "pat", "any"):
        return one_line(o.text, _VALUE_WIDTH)
    return f"{one_line(o.text, _VALUE_WIDTH)} ({_show(value, o)})"
