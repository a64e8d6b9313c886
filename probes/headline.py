"""The stat row, cost and routing headlines: which systems each number covers, each request once.

Why a module of its own: "the stack's req/s" is a decision, not a sum. A gateway forwards to the
engines behind it, so adding both counts a request twice; an engine nobody fronts (a Code LLM API
beside the gateway) must count, or the headline misses its traffic. So a request counts once:
  - gateways always count; an engine counts unless a gateway already reports its requests:
    `[traffic] behind_gateway` names it, or a gateway routes to a model the engine serves;
  - a signal no counted gateway exports (tokens/s, TTFT, KV cache, queue: engine-only signals)
    comes from the engines behind the gateways too;
  - generic HTTP servers count only when no gateway or engine is detected.
Each Stat's detail says which systems it covers (and which are DOWN). The routing split is the
stack-wide local share (each system's share weighted by its request rate) plus each system's own,
with bars by provider or model, never by HTTP route.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from probes.dashboard_model import (
    DEFAULT_THRESHOLDS, STATS, Bar, Stat, bars, combine, front_door, level_for, stat_text, weighted_ratio,
)
from probes.signals import SignalValue
from probes.units import format_value

Key = tuple[str, str | None]
MODEL_KEYS = ("model", "model_name", "requested_model", "gen_ai_request_model", "litellm_model_name")
SPLIT_KEYS = ("provider", "backend", "api_provider", "gen_ai_provider_name", "gen_ai_system", *MODEL_KEYS)


def _key(v: SignalValue) -> Key:
    return (v.system, v.job)


def normal_model(name: str) -> str:
    """"ollama/llama3:latest" -> "llama3": how a gateway and an engine name the same model."""
    base = name.strip().lower().rsplit("/", 1)[-1]
    return base.split(":", 1)[0]


def models_of(values: Iterable[SignalValue]) -> dict[Key, set[str]]:
    """The model names each system's breakdowns mention."""
    out: dict[Key, set[str]] = {}
    for v in values:
        for part in v.breakdown:
            for k, val in part.labels:
                if k in MODEL_KEYS and val:
                    out.setdefault(_key(v), set()).add(normal_model(val))
    return out


def fronted_engines(values: Sequence[SignalValue], kinds: Mapping[Key, str],
                    behind_gateway: Iterable[str] = ()) -> frozenset[Key]:
    """Engines whose requests a gateway already reports: named in config, or serving a model a
    gateway routes to."""
    named = set(behind_gateway)
    models = models_of(values)
    routed = set().union(*(m for k, m in models.items() if kinds.get(k) == "gateway")) if models else set()
    out = set()
    for key, kind in kinds.items():
        if kind == "engine" and (key[1] in named or models.get(key, set()) & routed):
            out.add(key)
    return frozenset(out)


def covers(values: Sequence[SignalValue]) -> str:
    """"Hybrid AI Stack + Code LLM API; vLLM DOWN": the systems behind one headline number."""
    live = list(dict.fromkeys(v.title for v in values if v.state not in ("down", "not_exported")))
    down = list(dict.fromkeys(v.title for v in values if v.state == "down"))
    text = " + ".join(live)
    if down:
        text += ("; " if text else "") + ", ".join(down) + " DOWN"
    return text


def headline_stats(by_signal: Mapping[str, list[SignalValue]], kinds: Mapping[Key, str],
                   fronted: frozenset[Key] = frozenset()) -> tuple[Stat, ...]:
    out = []
    traffic = {_key(v): v.value or 0.0 for v in by_signal.get("request_rate", []) if v.state == "ok"}
    for key, title, signals, how, unit in STATS:
        parts = [front_door(by_signal.get(sig, []), kinds, fronted) for sig in signals]
        flat = [v for p in parts for v in p]
        if len(signals) > 1:  # tokens in + out: a sum over both signals
            value, state, detail = combine(flat, "sum")
        elif how == "weighted":
            value, state, detail = weighted_ratio(parts[0], traffic)
        else:
            value, state, detail = combine(parts[0], how)
        scope = covers(flat)
        if how == "max" and state == "ok" and len({v.title for v in flat if v.state == "ok"}) > 1:
            scope = f"worst: {detail}; of {scope}"
        if key == "cost":
            today, _, _ = combine(front_door(by_signal.get("spend_today", []), kinds, fronted), "sum")
            if today is not None:
                scope = f"today {format_value(today, '$')}; {scope}"
        text = stat_text(value, state, unit)
        worst = [v for v in flat if v.state == "ok" and v.value == value] if how == "max" else []
        if worst and worst[0].wide:  # "<= 1.28 s" and its bucket: the interpolation means little here
            text, scope = worst[0].text, f"{worst[0].note}; {scope}"
        if state in ("error", "no_data"):
            scope = detail
        out.append(Stat(key, title, unit, value, state, text,
                        level_for(value, DEFAULT_THRESHOLDS.get(key)), scope if state != "not_exported" else ""))
    return tuple(out)


def cost_stats(by_signal, kinds, fronted: frozenset[Key] = frozenset()) -> tuple[Stat, ...]:
    out = []
    for sig, title, unit in (("cost_rate", "now", "$/h"), ("spend_today", "today", "$"),
                             ("savings_rate", "local savings", "$/h")):
        vals = front_door(by_signal.get(sig, []), kinds, fronted)
        if not [v for v in vals if kinds.get(_key(v)) in ("gateway", "engine")]:
            continue
        value, state, detail = combine(vals, "sum")
        out.append(Stat(sig, title, unit, value, state, stat_text(value, state, unit), "none", detail))
    return tuple(out)


def cost_breakdown(by_signal, kinds, fronted: frozenset[Key] = frozenset()) -> tuple[Bar, ...]:
    rows: list[Bar] = []
    for v in front_door(by_signal.get("cost_rate", []), kinds, fronted):
        if v.state == "ok" and v.breakdown:
            rows += bars(v.breakdown, "$/h", v.job)
    return reshare(rows)


def routing(by_signal, kinds, fronted: frozenset[Key] = frozenset()
            ) -> tuple[SignalValue | None, tuple[SignalValue, ...], tuple[Bar, ...]]:
    """(stack-wide local share, each system's local share, bars by provider/model in req/s)."""
    shares = [v for v in front_door(by_signal.get("local_share", []), kinds, fronted)
              if v.state != "not_exported"]
    rates = {_key(v): v.value for v in by_signal.get("request_rate", []) if v.state == "ok" and v.value}
    ok = [v for v in shares if v.state == "ok" and v.value is not None and rates.get(_key(v))]
    rows: list[Bar] = []
    for v in ok:
        split = [p for p in v.breakdown if any(k in SPLIT_KEYS for k, _ in p.labels)]
        order = {k: i for i, k in enumerate(SPLIT_KEYS)}  # provider first, then the model
        parts = [type(p)(tuple(sorted(((k, x) for k, x in p.labels if k in SPLIT_KEYS), key=lambda kv: order[kv[0]])),
                         (p.value or 0.0) * rates[_key(v)]) for p in split]
        rows += bars(parts, "req/s", v.job, f"{v.title}: " if len(ok) > 1 else "")
    stack = _stack_share(ok, shares, rates)
    return stack, tuple(shares), reshare(rows)


def _stack_share(ok: Sequence[SignalValue], shares: Sequence[SignalValue], rates) -> SignalValue | None:
    if not shares:
        return None
    if not ok:
        return shares[0]
    total = sum(rates[_key(v)] for v in ok)
    value = sum(v.value * rates[_key(v)] for v in ok) / total
    return SignalValue("local_share", "stack", "stack-wide", None, "ok", value, "ratio", "ratio", "",
                       reason=f"weighted by request rate over {covers(ok)}")


def reshare(rows: Sequence[Bar]) -> tuple[Bar, ...]:
    total = sum(b.value for b in rows if b.value > 0)
    return tuple(sorted((Bar(b.label, b.value, (b.value / total) if total > 0 and b.value > 0 else 0.0,
                             b.text, b.labels, b.job) for b in rows), key=lambda b: -b.value))
