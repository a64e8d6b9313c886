"""PromQL functions and the histogram quantile, computed exactly as Prometheus 2.42 does.

Why exact copies rather than "a rate": a number in direct-scrape mode must equal the one the
user's Prometheus shows for the same samples. The sources followed are promql/functions.go
(extrapolatedRate, instantValue, the *_over_time family, label_replace) and promql/quantile.go
(bucketQuantile: coalesce equal bounds, force monotonic counts, NaN without +Inf or count 0,
linear interpolation inside the bucket, the lowest bucket starting at 0 unless its bound is <= 0).
Times are integer milliseconds, as in Prometheus, so window edges and extrapolation agree.
"""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

from probes.promql_ast import PromQLError
from probes.promql_math import DROPS_NAME, COMPARISONS, arith, compare, inf_mean_holds, kahan_inc, kahan_sum, sqrt
from probes.re2match import RegexError, anchored

__all__ = ["extrapolated_rate", "instant_value", "over_time", "bucket_quantile", "quantile", "expand_template",
           "OVER_TIME", "vector_scalar", "histogram_quantile", "label_replace", "drop_name", "label_key"]


def extrapolated_rate(ts: Sequence[int], vals: Sequence[float], range_start: int, range_end: int,
                      range_ms: int, is_counter: bool, is_rate: bool) -> float | None:
    """rate() / increase() / delta() over the points in [range_start, range_end] (ms)."""
    n = len(ts)
    if n < 2:
        return None
    result = vals[-1] - vals[0]
    if is_counter:
        prev = vals[0]
        for v in vals[1:]:
            if v < prev:
                result += prev  # a counter reset: the counter restarted from 0
            prev = v
    to_start = (ts[0] - range_start) / 1000
    to_end = (range_end - ts[-1]) / 1000
    sampled = (ts[-1] - ts[0]) / 1000
    avg_step = sampled / (n - 1)
    if is_counter and result > 0 and vals[0] >= 0:
        # Counters cannot go below zero: do not extrapolate the start past the zero point.
        to_zero = sampled * (vals[0] / result)
        if to_zero < to_start:
            to_start = to_zero
    threshold = avg_step * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else avg_step / 2
    interval += to_end if to_end < threshold else avg_step / 2
    factor = interval / sampled  # one factor, multiplied once: the same rounding as Prometheus
    if is_rate:
        factor /= range_ms / 1000
    return result * factor


def instant_value(ts: Sequence[int], vals: Sequence[float], is_rate: bool) -> float | None:
    """irate() / idelta(): the last two points only."""
    if len(ts) < 2:
        return None
    last, prev = vals[-1], vals[-2]
    if is_rate and last < prev:
        result = last  # counter reset
    else:
        result = last - prev
    dt = ts[-1] - ts[-2]
    if dt == 0:
        return None
    if is_rate:
        result /= dt / 1000
    return result


def _avg(vals: Sequence[float]) -> float:
    # Prometheus 2.42 avg_over_time: an incremental, compensated mean (keeps large values from overflowing).
    mean = count = c = 0.0
    for v in vals:
        count += 1
        if inf_mean_holds(mean, v):
            continue
        mean, c = kahan_inc(v / count - mean / count, mean, c)
    return mean if math.isinf(mean) else mean + c


def _stdvar(vals: Sequence[float]) -> float:
    count = mean = c_mean = aux = c_aux = 0.0
    for v in vals:
        count += 1
        delta = v - (mean + c_mean)
        mean, c_mean = kahan_inc(delta / count, mean, c_mean)
        aux, c_aux = kahan_inc(delta * (v - (mean + c_mean)), aux, c_aux)
    return (aux + c_aux) / count


def _max(vals: Sequence[float]) -> float:
    out = vals[0]
    for v in vals:
        if v > out or math.isnan(out):
            out = v
    return out


def _min(vals: Sequence[float]) -> float:
    out = vals[0]
    for v in vals:
        if v < out or math.isnan(out):
            out = v
    return out


OVER_TIME = {
    "avg_over_time": _avg,
    "sum_over_time": kahan_sum,
    "count_over_time": lambda vals: float(len(vals)),
    "min_over_time": _min,
    "max_over_time": _max,
    "last_over_time": lambda vals: vals[-1],
    "present_over_time": lambda vals: 1.0,
    "stdvar_over_time": _stdvar,
    "stddev_over_time": lambda vals: sqrt(_stdvar(vals)),
}


def over_time(func: str, vals: Sequence[float]) -> float | None:
    if not vals:
        return None
    return OVER_TIME[func](vals)


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """histogram_quantile for one group: buckets as (upper bound, cumulative count)."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    buckets = sorted(buckets, key=lambda b: b[0])
    if not buckets or not math.isinf(buckets[-1][0]) or buckets[-1][0] < 0:
        return math.nan
    merged: list[list[float]] = []
    for bound, count in buckets:  # coalesce buckets with the same upper bound
        if merged and merged[-1][0] == bound:
            merged[-1][1] += count
        else:
            merged.append([bound, count])
    top = -math.inf
    for b in merged:  # force monotonic cumulative counts (buckets scraped at different times)
        if b[1] > top:
            top = b[1]
        elif b[1] < top:
            b[1] = top
    if len(merged) < 2:
        return math.nan
    observations = merged[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    idx = len(merged) - 1
    for i in range(len(merged) - 1):  # sort.Search over all but the +Inf bucket
        if merged[i][1] >= rank:
            idx = i
            break
    if idx == len(merged) - 1:
        return merged[-2][0]
    if idx == 0 and merged[0][0] <= 0:
        return merged[0][0]
    start, end, count = 0.0, merged[idx][0], merged[idx][1]
    if idx > 0:
        start = merged[idx - 1][0]
        count -= merged[idx - 1][1]
        rank -= merged[idx - 1][1]
    return start + (end - start) * (rank / count)


def quantile(q: float, values: list[float]) -> float:
    """The quantile() aggregator and quantile_over_time: linear interpolation between ranks."""
    if not values or math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    vals = sorted(values, key=lambda v: (not math.isnan(v), v))  # NaN first, as vectorByValueHeap.Less
    n = len(vals)
    rank = q * (n - 1)
    lower = max(0, int(math.floor(rank)))
    upper = min(n - 1, lower + 1)
    weight = rank - math.floor(rank)
    return vals[lower] * (1 - weight) + vals[upper] * weight


_VAR = re.compile(r"\$(\$|\{([a-zA-Z0-9_]+)\}|([a-zA-Z0-9_]+))")


def expand_template(template: str, m: Any) -> str:
    """Go's regexp.Expand: $1, ${1}, $name, ${name}; $$ is a literal $; unknown names are ''."""
    names = m.re.groupindex

    def sub(v: re.Match) -> str:
        if v.group(1) == "$":
            return "$"
        name = v.group(2) or v.group(3)
        index = int(name) if name.isdigit() else names.get(name, -1)
        if not 0 <= index <= m.re.groups:
            return ""
        return m.group(index) or ""
    return _VAR.sub(sub, template)


def drop_name(labels: dict) -> dict:
    if "__name__" not in labels:
        return labels
    out = dict(labels)
    del out["__name__"]
    return out


def label_key(labels: dict) -> tuple:
    return tuple(sorted(labels.items()))


def vector_scalar(op: str, vec: list, scalar: float, scalar_left: bool, bool_mod: bool, strip=None) -> list:
    """Vector-scalar operators; `strip` drops __name__ (the evaluator passes its memoised version)."""
    strip = strip or drop_name
    out = []
    is_cmp = op in COMPARISONS
    for lab, v in vec:
        a, b = (scalar, v) if scalar_left else (v, scalar)
        if is_cmp:
            keep = compare(op, a, b)
            if bool_mod:
                out.append((strip(lab), 1.0 if keep else 0.0))
            elif keep:
                out.append((lab, v))
        else:
            out.append((strip(lab) if op in DROPS_NAME else lab, arith(op, a, b)))
    return out


def histogram_quantile(q: float, vec: list) -> list:
    groups: dict[tuple, tuple[dict, list]] = {}
    for lab, v in vec:
        le = lab.get("le")
        try:
            bound = float(le) if le is not None else None
        except ValueError:
            bound = None
        if bound is None:
            continue
        # The group signature keeps __name__ (promql/functions.go: BytesWithoutLabels(le)): two
        # histograms with the same labels make two answers, which then collide without their names.
        sig = label_key({k: x for k, x in lab.items() if k != "le"})
        if sig not in groups:
            groups[sig] = ({k: x for k, x in lab.items() if k not in ("le", "__name__")}, [])
        groups[sig][1].append((bound, v))
    return [(res, bucket_quantile(q, buckets)) for res, buckets in groups.values()]


def label_replace(vec: list, dst: Any, repl: Any, src: Any, regex: Any) -> list:
    if not all(isinstance(x, str) for x in (dst, repl, src, regex)):
        raise PromQLError("label_replace(): expected string arguments")
    if not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", dst):
        raise PromQLError(f"invalid destination label name in label_replace(): {dst}")
    try:
        rx = anchored(regex)
    except RegexError:
        raise PromQLError(f"invalid regular expression in label_replace(): {regex}") from None
    out = []
    for lab, v in vec:
        m = rx.fullmatch(lab.get(src, ""))
        if m is None:
            out.append((lab, v))
            continue
        value = expand_template(repl, m)
        res = dict(lab)
        if value:
            res[dst] = value
        else:
            res.pop(dst, None)
        out.append((res, v))
    return out
