"""Default health rules: reading the JSON bodies health endpoints really return.

Used when a service has no explicit conditions. The bodies this knows, from the seed documents
and the servers' sources:
  TinyCode     {"status":"healthy","checks":{"redis":{"status":"healthy",...},...}}   503 when not
  Dev-PyNode   {"status":"unhealthy","services":{"database":"connected","storage":"disconnected"}}
  Code LLM API {"status":"healthy","model_loaded":true,...}   ("unhealthy" with HTTP 200 on errors)
  LiteLLM      /health/readiness {"status":"healthy","db":"Not connected",...} without a database (its
               normal DB-less answer: "Not connected" beside a healthy status is no failure);
               /health/liveliness answers the JSON string "I'm alive!"
  llama.cpp    {"status":"ok"}; 503 {"error":{"code":503,"message":"Loading model",...}}
  TGI          503 {"error":"unhealthy","error_type":"healthcheck"}
  Spring-style {"status":"UP","components":{"db":{"status":"UP"}}}
Each nested component is reported by name, so a summary says "redis: disconnected" rather than
"unhealthy". Values are judged by vocabulary; a status field with a word we do not know is
UNKNOWN (we cannot tell), while unknown plain strings in a services map are ignored (they may be
versions or URLs, not states).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from probes.conditions import ConditionResult
from probes.status import Status
from probes.textsafe import one_line

HEALTHY_WORDS = frozenset({
    "healthy", "ok", "okay", "up", "pass", "passed", "passing", "true", "connected", "ready", "running",
    "alive", "live", "i'm alive!", "green", "available", "success", "online", "serving", "active",
    "operational",
})
WARNING_WORDS = frozenset({"degraded", "warn", "warning", "partial", "partially degraded", "yellow", "limited"})
DOWN_WORDS = frozenset({
    "unhealthy", "down", "fail", "failed", "failing", "failure", "false", "error", "errored", "disconnected",
    "not connected", "unavailable", "dead", "offline", "red", "critical", "crashed", "stopped", "not ready",
    "notready", "unreachable", "timeout", "timed out", "loading", "starting", "initializing", "warming up",
    "draining", "out of service", "not serving", "unknown",
})
STATUS_KEYS = ("status", "healthy", "state")
COMPONENT_MAPS = ("checks", "components", "services", "dependencies")
CONNECTION_WORDS = frozenset({"connected", "disconnected", "not connected"})
_READY_FLAG = re.compile(r"(?:^|_)(?:loaded|ready|healthy|alive|live|connected)$")
_MAX_COMPONENTS = 50


@dataclass(frozen=True)
class Component:
    """One nested dependency of a service (redis, database, ...) as its health body reports it."""

    name: str
    status: Status
    detail: str  # one line naming it: "redis: disconnected"


def normalize(word: str) -> str:
    return re.sub(r"[\s_-]+", " ", word.strip().lower())


def classify(value: Any) -> Status | None:
    """OK / WARNING / CRITICAL for a health word or flag; UNKNOWN for "unknown"; None if not one."""
    if isinstance(value, bool):
        return Status.OK if value else Status.CRITICAL
    if isinstance(value, int) and 100 <= value <= 599:  # {"status": 200}
        return Status.OK if value // 100 == 2 else Status.CRITICAL
    if not isinstance(value, str):
        return None
    word = normalize(value)
    if word in HEALTHY_WORDS:
        return Status.OK
    if word in WARNING_WORDS:
        return Status.WARNING
    if word == "unknown":
        return Status.UNKNOWN
    if word in DOWN_WORDS:
        return Status.CRITICAL
    return None


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return one_line(str(value), 60)


def _status_field(doc: dict) -> tuple[str, Any] | None:
    lowered = {str(k).lower(): k for k in doc}
    for key in STATUS_KEYS:
        if key in lowered:
            value = doc[lowered[key]]
            if isinstance(value, (str, bool, int)):
                return str(lowered[key]), value
    return None


def judge_top_status(doc: Any) -> ConditionResult | None:
    """The default rule for a top-level status-like field (or a body that is one JSON string)."""
    if isinstance(doc, str):  # LiteLLM liveliness: "I'm alive!"
        if normalize(doc) in HEALTHY_WORDS:
            return ConditionResult("[BODY] is a healthy word", True, _show(doc))
        return None
    if not isinstance(doc, dict):
        return None
    found = _status_field(doc)
    if found is None:
        return None
    key, value = found
    text = f"[BODY].{key} is healthy"
    verdict = classify(value)
    if verdict is None:
        if isinstance(value, int) and not isinstance(value, bool):
            return None  # a number that is not an HTTP status: not ours to judge
        return ConditionResult(text, False, _show(value), f"{key}: {_show(value)!r} is not a known health "
                               "word (add conditions for this service)", Status.UNKNOWN)
    if verdict == Status.OK:
        return ConditionResult(text, True, _show(value))
    return ConditionResult(text, False, _show(value), f"{key}: {_show(value)}", verdict)


def body_components(doc: Any) -> tuple[Component, ...]:
    """Nested components of a health body, one by one, in the body's order."""
    if not isinstance(doc, dict):
        return ()
    out: list[Component] = []
    top = _status_field(doc)
    top_ok = top is not None and classify(top[1]) == Status.OK
    for key, value in doc.items():
        lowered = str(key).lower()
        if lowered in COMPONENT_MAPS:
            if isinstance(value, dict):
                out += [c for name, v in value.items() if (c := _component(name, v)) is not None]
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, dict):
                        name = item.get("name") or item.get("id") or item.get("service") or f"{key}[{i}]"
                        if (c := _component(name, item)) is not None:
                            out.append(c)
        elif lowered in STATUS_KEYS:
            continue
        elif isinstance(value, str) and normalize(value) in CONNECTION_WORDS:  # LiteLLM "db"
            if top_ok and normalize(value) == "not connected":  # LiteLLM without a database configured
                label = one_line(str(key), 60)
                out.append(Component(label, Status.OK, f"{label}: {_show(value)} (none configured)"))
            elif (c := _component(key, value)) is not None:
                out.append(c)
        elif isinstance(value, bool) and _READY_FLAG.search(lowered):  # "model_loaded": false
            out.append(Component(one_line(str(key), 60), classify(value) or Status.OK, f"{one_line(str(key), 60)}: "
                                 f"{_show(value)}"))
    return tuple(out[:_MAX_COMPONENTS])


def _component(name: Any, value: Any) -> Component | None:
    label = one_line(str(name), 60)
    if isinstance(value, dict):
        found = _status_field(value)
        if found is None:
            return None
        _, state = found
        verdict = classify(state)
        if verdict is None:
            verdict = Status.UNKNOWN
        why = value.get("error") or value.get("message") or value.get("reason")
        extra = f" ({one_line(str(why), 80)})" if why and verdict != Status.OK and isinstance(why, str) else ""
        return Component(label, verdict, f"{label}: {_show(state)}{extra}")
    if isinstance(value, (str, bool)):
        verdict = classify(value)
        if verdict is None:
            return None  # a version string or URL in a services map: not a state
        return Component(label, verdict, f"{label}: {_show(value)}")
    return None


def error_detail(doc: Any) -> str:
    """The error message in a JSON error body: llama.cpp, TGI, FastAPI, OpenAI-style, ..."""
    if isinstance(doc, str):
        return one_line(doc, 80)
    if not isinstance(doc, dict):
        return ""
    err = doc.get("error")
    if isinstance(err, dict):
        err = err.get("message") or err.get("type") or err.get("code")
    for candidate in (err, doc.get("detail"), doc.get("message"), doc.get("reason")):
        if isinstance(candidate, (str, int, float)) and str(candidate).strip():
            return one_line(str(candidate), 80)
    return ""
