"""The aggregation operators (sum, avg, min, max, count, group, stddev, stdvar, topk, bottomk, quantile)
for one group, computed the way Prometheus 2.42's engine does (promql/engine.go aggregation()).

Why a port and not `sum()`/`statistics`: the answers must be the same bits Prometheus gives.
Its sum is a plain running `+=` from the first value (no compensation, unlike sum_over_time), its
avg an incremental mean that survives huge values, stddev/stdvar Welford's update starting at
the first value, min/max let any number replace a NaN, topk/bottomk prefer numbers to NaN and
refuse a k that does not fit an int64. Members arrive in the input vector's order, which is
Prometheus' series order, so even the rounding matches.
"""

from __future__ import annotations

import math
from typing import Any

from probes.promql_funcs import quantile
from probes.promql_math import inf_mean_holds
from probes.promql_parse import PromQLError

__all__ = ["aggregate_group", "topk_k"]

_MAX_INT64 = 9.223372036854775807e18


def topk_k(param: Any, op: str) -> int:
    """k for topk/bottomk: int64(f) after engine.go's convertibleToInt64 check."""
    if not isinstance(param, float):
        raise PromQLError(f"{op}(): expected a scalar k")
    if not -_MAX_INT64 <= param <= _MAX_INT64:
        raise PromQLError(f"Scalar value {param!r} overflows int64")
    return int(param)


def _sum(vals: list[float]) -> float:
    total = vals[0]
    for v in vals[1:]:
        total += v
    return total


def _avg(vals: list[float]) -> float:
    mean, count = vals[0], 1
    for v in vals[1:]:
        count += 1
        if inf_mean_holds(mean, v):
            continue
        mean += v / count - mean / count
    return mean


def _variance(vals: list[float]) -> float:
    mean, value, count = vals[0], 0.0, 1
    for v in vals[1:]:
        count += 1
        delta = v - mean
        mean += delta / count
        value += delta * (v - mean)
    return value / count


def _extreme(vals: list[float], want_max: bool) -> float:
    value = vals[0]
    for v in vals[1:]:
        if (value < v if want_max else value > v) or math.isnan(value):
            value = v
    return value


def _select(members: list, k: int, top: bool) -> list:
    """topk/bottomk: numbers before NaN, the first-seen member wins a tie."""
    if k < 1:
        return []
    def rank(m):
        v = m[1]
        return (math.isnan(v), -v if top else v)
    return sorted(members, key=rank)[:k]


def aggregate_group(op: str, members: list, param: Any) -> list:
    """[(labels, value)] members of one group -> the values this group contributes.

    Returns [value] for the value-producing operators, or the kept members for topk/bottomk.
    """
    vals = [v for _, v in members]
    if op in ("topk", "bottomk"):
        return _select(members, topk_k(param, op), op == "topk")
    if op == "sum":
        return [_sum(vals)]
    if op == "avg":
        return [_avg(vals)]
    if op == "count":
        return [float(len(vals))]
    if op == "group":
        return [1.0]
    if op in ("min", "max"):
        return [_extreme(vals, op == "max")]
    if op == "stdvar":
        return [_variance(vals)]
    if op == "stddev":
        var = _variance(vals)
        return [math.nan if math.isnan(var) or var < 0 else math.sqrt(var)]
    if op == "quantile":
        if not isinstance(param, float):
            raise PromQLError("quantile(): expected a scalar")
        return [quantile(param, vals)]
    raise PromQLError(f"unknown aggregation {op}")
