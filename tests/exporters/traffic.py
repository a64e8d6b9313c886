"""Known traffic for the real-exporter apps, and the truth it leaves behind.

Each plan is a cycle of request kinds sent at a fixed rate: any window of whole cycles holds the
kinds in exact proportion, and latencies are chosen well inside one histogram bucket of the app's
real bucket layout, so the bucket that holds each true quantile is unambiguous. Every request is
recorded as it really went (client-measured start, end, latency, HTTP status, tokens and cost from
the answer), and truth() computes each signal over any window from those records alone: the
numbers llmwatch shows are compared with what happened, not with what we meant to send.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import httpx


@dataclass(frozen=True)
class Kind:
    """One kind of request in a plan: what to send and what it stands for."""

    body: dict[str, Any]
    model: str
    provider: str
    local: bool
    tokens_in: int = 0
    tokens_out: int = 0
    price_in: float = 0.0    # USD per token (the [prices] the test config gives, or the app's own)
    price_out: float = 0.0
    error: bool = False
    seconds: float | None = None   # the app's own handling time (None: body["simulate_seconds"])

    @property
    def handling(self) -> float:
        """What the app's latency histogram observes: its stand-in model's time. The client's
        wall time adds the generator's own queueing, which no server sees."""
        return self.seconds if self.seconds is not None else float(self.body.get("simulate_seconds", 0.0))


@dataclass(frozen=True)
class Plan:
    app: str
    path: str
    rate: float                 # requests per second
    cycle: tuple[Kind, ...]
    bearer: str = ""
    method: str = "POST"


@dataclass
class Record:
    kind: Kind
    start: float
    end: float
    status: int
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0

    @property
    def latency(self) -> float:
        return self.end - self.start


@dataclass
class Log:
    plan: Plan
    records: list[Record] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def done_in(self, start: float, end: float) -> list[Record]:
        return [r for r in self.records if start < r.end <= end]

    def started_in(self, start: float, end: float) -> list[Record]:
        return [r for r in self.records if start < r.start <= end]


async def _one(client: httpx.AsyncClient, plan: Plan, kind: Kind, log: Log, base: str) -> None:
    headers = {"Authorization": f"Bearer {plan.bearer}"} if plan.bearer else {}
    t0 = time.time()
    try:
        if plan.method == "GET":
            resp = await client.get(base + plan.path, headers=headers, timeout=30.0)
        else:
            resp = await client.post(base + plan.path, json=kind.body, headers=headers, timeout=30.0)
    except httpx.HTTPError as exc:
        log.failures.append(f"{plan.app}: {type(exc).__name__}: {exc}")
        return
    t1 = time.time()
    rec = Record(kind, t0, t1, resp.status_code)
    if resp.status_code < 400:
        rec.tokens_in, rec.tokens_out = kind.tokens_in, kind.tokens_out
        try:
            usage = resp.json().get("usage") or {}
        except ValueError:
            usage = {}
        if "prompt_tokens" in usage:  # an OpenAI-style answer (LiteLLM) says what it counted
            rec.tokens_in, rec.tokens_out = int(usage["prompt_tokens"]), int(usage["completion_tokens"])
        header_cost = resp.headers.get("x-litellm-response-cost")
        if header_cost is not None:
            rec.cost = float(header_cost)
        else:
            rec.cost = rec.tokens_in * kind.price_in + rec.tokens_out * kind.price_out
            if "cost" in kind.body:
                rec.cost = float(kind.body["cost"])
    log.records.append(rec)


async def drive(plans: Sequence[tuple[Plan, str]], seconds: float) -> list[Log]:
    """Send every plan's cycle at its rate for `seconds`, all apps at once; wait for the answers."""
    logs = [Log(p) for p, _ in plans]
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:
        tasks: list[asyncio.Task] = []
        start = time.monotonic()

        async def pace(plan: Plan, base: str, log: Log) -> None:
            n = int(seconds * plan.rate)
            for i in range(n):
                delay = start + i / plan.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                kind = plan.cycle[i % len(plan.cycle)]
                tasks.append(asyncio.create_task(_one(client, plan, kind, log, base)))

        await asyncio.gather(*(pace(p, base, log) for (p, base), log in zip(plans, logs)))
        await asyncio.gather(*tasks)
    return logs


# -- truth ---------------------------------------------------------------------------------------

def rate(records: Sequence[Record], window: float) -> float:
    return len(records) / window


def bucket_of(value: float, bounds: Sequence[float]) -> tuple[float, float]:
    """(lower, upper] of the histogram bucket holding value; bounds sorted, +Inf implied."""
    i = bisect.bisect_left(bounds, value)
    lo = bounds[i - 1] if i > 0 else 0.0
    hi = bounds[i] if i < len(bounds) else math.inf
    return lo, hi


def quantile_bucket(latencies: Sequence[float], q: float, bounds: Sequence[float]) -> tuple[float, float]:
    """The bucket Prometheus' histogram_quantile interpolates in for these observations: the
    first whose cumulative count reaches rank = q * count. Any value in it is "right within
    bucket resolution"; nothing finer can be asked of a histogram."""
    counts = [0] * (len(bounds) + 1)
    for v in latencies:
        counts[bisect.bisect_left(bounds, v)] += 1
    rank = q * len(latencies)
    cum = 0
    for i, c in enumerate(counts):
        cum += c
        if cum >= rank and c:
            return (bounds[i - 1] if i > 0 else 0.0), (bounds[i] if i < len(bounds) else math.inf)
    raise ValueError("no observations")


def share(records: Sequence[Record], pred) -> float:
    return sum(1 for r in records if pred(r)) / len(records)
