"""Bucket resolution of histogram quantiles: which bucket a P95 fell in, and what that allows.

Why: histogram_quantile() interpolates linearly inside the bucket that holds the quantile's rank,
so with OpenTelemetry's doubling buckets a P95 "1.19 s" only says "somewhere in 0.64-1.28 s"
(no request may have taken more than 0.8 s). Every quantile signal therefore carries the bucket
it fell in; where the bucket is wide (its upper bound at least 1.5 x its lower one, or open at
0 or +Inf) the views print "<= 1.28 s" with "bucket 0.64-1.28 s" instead of the interpolated
value, and an SLO decides on the bucket, never on the interpolation:

  bucket upper bound <= target   OK        (every request of the quantile is within the target)
  bucket lower bound >= target   CRITICAL  (at least the quantile's share took longer)
  target inside the bucket       OK, and the message says the buckets cannot tell (add a bucket
                                 boundary at the target to decide it)

The bounds come from one `count by (le)` query per histogram and job, cached for a few minutes
(bucket layouts change with a deploy, not between refreshes).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import replace
from typing import Sequence

from probes.units import format_value

WIDE_RATIO = 1.5
CACHE_S = 300.0
_HIST = re.compile(r"histogram_quantile\(\s*[0-9.]+\s*,.*?\b([a-zA-Z_:][a-zA-Z0-9_:]*)_bucket(\{[^{}]*\})?")
_cache: dict[tuple[int, str], tuple[float, tuple[float, ...]]] = {}


def bounds_query(query: str) -> str | None:
    """`count by (le) (X_bucket{...})` for the histogram a quantile query reads, or None."""
    m = _HIST.search(query)
    if not m:
        return None
    return f"count by (le) ({m.group(1)}_bucket{m.group(2) or ''})"


def bucket_of(value: float, bounds: Sequence[float]) -> tuple[float, float] | None:
    """(lower, upper] of the bucket an interpolated quantile lies in (0 below the first bound)."""
    if not bounds or not math.isfinite(value):
        return None
    lo = 0.0
    for b in sorted(bounds):
        if value <= b:
            return (lo, b)
        lo = b
    return (lo, math.inf)


def is_wide(bucket: tuple[float, float] | None) -> bool:
    if bucket is None:
        return False
    lo, hi = bucket
    return lo <= 0 or math.isinf(hi) or hi / lo >= WIDE_RATIO


def _pair(lo: float, hi: float, unit: str) -> str:
    """"0.64-1.28 s", "25-50 ms": both bounds on the upper bound's scale."""
    if unit != "s":
        return f"{format_value(lo, unit)}-{format_value(hi, unit)}"
    scale, suffix = (1.0, "s") if hi >= 1 else (1000.0, "ms")
    return f"{lo * scale:.4g}-{hi * scale:.4g} {suffix}"


def bucket_text(bucket: tuple[float, float], unit: str) -> str:
    lo, hi = bucket
    if math.isinf(hi):
        return f"bucket above {format_value(lo, unit)}"
    return f"bucket {_pair(lo, hi, unit)}"


def bound_text(bucket: tuple[float, float], unit: str) -> str:
    """What a wide bucket allows one to say: "<= 1.28 s" (or "> 10.0 s" for the +Inf bucket)."""
    lo, hi = bucket
    return f"> {format_value(lo, unit)}" if math.isinf(hi) else f"<= {format_value(hi, unit)}"


def slo_verdict(bucket: tuple[float, float] | None, value: float, target: float) -> str:
    """"ok", "breach" or "cannot_tell" for a quantile against an SLO target (see module doc)."""
    if bucket is None:
        return "breach" if value > target else "ok"
    lo, hi = bucket
    if hi <= target:
        return "ok"
    if lo >= target:
        return "breach"
    return "cannot_tell"


def _parse_le(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


async def annotate(client, values: Sequence, at: float | None = None, timeout: float | None = None) -> list:
    """The values, each ok histogram quantile with .bucket set (one bounds query per histogram)."""
    import asyncio

    wanted = {}
    for v in values:
        if v.method == "histogram" and v.state == "ok" and v.value is not None:
            q = bounds_query(v.query)
            if q:
                wanted[q] = None
    now = time.monotonic()
    todo = [q for q in wanted if not ((hit := _cache.get((id(client), q))) and now - hit[0] < CACHE_S)]
    results = await asyncio.gather(*(client.query(q, at=at, timeout=timeout) for q in todo), return_exceptions=True)
    for q, res in zip(todo, results):
        if isinstance(res, BaseException) or not res.ok:
            continue
        les = tuple(sorted(x for s in res.samples if (x := _parse_le(s.labels.get("le", ""))) is not None))
        _cache[(id(client), q)] = (now, les)
    out = []
    for v in values:
        q = bounds_query(v.query) if v.method == "histogram" and v.state == "ok" and v.value is not None else None
        hit = _cache.get((id(client), q)) if q else None
        out.append(replace(v, bucket=bucket_of(v.value, hit[1])) if hit and hit[1] else v)
    return out
