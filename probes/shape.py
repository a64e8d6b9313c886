"""Checking the shape of a decoded JSON answer before using it.

Why: proxies, caches and half-compatible servers answer with a string where an object belongs,
null where a list belongs, a number as a label value. Reading such a document with `.get()` and
`[...]` fails far from the cause (AttributeError in a panel) or, worse, quietly yields nonsense
(a tuple of characters from a string). Every decoder reads through these helpers instead: each
says where it is (`data.activeTargets[3].labels`) and raises ShapeError naming the place and what
was there, which the clients report as "unexpected answer from Prometheus ...: <that>".
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["ShapeError", "obj", "arr", "text", "labels", "strs", "kind_of"]


class ShapeError(ValueError):
    """A decoded document that is not the shape the API documents; the message says where."""


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)


def obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ShapeError(f"{where}: expected an object, got {kind_of(value)}")
    return value


def arr(value: Any, where: str, *, null_ok: bool = True) -> list[Any]:
    """A list; null (Go's nil slice) reads as empty unless null_ok is False."""
    if value is None and null_ok:
        return []
    if not isinstance(value, list):
        raise ShapeError(f"{where}: expected a list, got {kind_of(value)}")
    return value


def text(value: Any, where: str, default: str = "") -> str:
    """A string field; numbers and booleans are shown as text, null is `default`."""
    if value is None:
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)):
        return str(value)
    raise ShapeError(f"{where}: expected a string, got {kind_of(value)}")


def labels(value: Any, where: str) -> dict[str, str]:
    """A label set: an object of strings (numbers turned to text); null is no labels."""
    if value is None:
        return {}
    return {str(k): text(v, f"{where}.{k}") for k, v in obj(value, where).items()}


def strs(value: Any, where: str) -> tuple[str, ...]:
    """A list of strings (silence ids, receivers' names)."""
    return tuple(text(v, f"{where}[{i}]") for i, v in enumerate(arr(value, where)))
