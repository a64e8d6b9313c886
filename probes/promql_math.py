"""Go float64 semantics for PromQL arithmetic: the operators, the math functions, Kahan sums.

Why: Python's floats are IEEE doubles like Go's, but Python raises where Go answers (1/0,
math.pow(0, -1), math.floor(inf)) and its max()/min() ignore NaN where Go's math.Max/Min
return it. Prometheus 2.42's answers are Go's, so each helper here says which Go function
(promql/engine.go, promql/functions.go, the math package) it stands for.
"""

from __future__ import annotations

import math
from typing import Sequence

from probes.promql_ast import COMPARISONS, PromQLError

__all__ = ["inf_mean_holds", "arith", "compare", "go_floor", "go_max", "go_min", "kahan_inc", "kahan_sum", "MATH", "DROPS_NAME", "sqrt", "COMPARISONS"]


def kahan_inc(inc: float, total: float, c: float) -> tuple[float, float]:
    """promql/functions.go kahanSumInc (Neumaier's variant); never raises on overflow."""
    t = total + inc
    if abs(total) >= abs(inc):
        c += (total - t) + inc
    else:
        c += (inc - t) + total
    return t, c


def kahan_sum(vals: Sequence[float]) -> float:
    """sum_over_time: a compensated sum; +-Inf when it overflows, as in Prometheus 2.42."""
    total = c = 0.0
    for v in vals:
        total, c = kahan_inc(v, total, c)
    return total if math.isinf(total) else total + c


def go_floor(v: float) -> float:
    return v if not math.isfinite(v) else float(math.floor(v))


def go_max(a: float, b: float) -> float:
    """Go's math.Max: +Inf wins, then NaN, and +0 over -0."""
    if math.isinf(a) and a > 0 or math.isinf(b) and b > 0:
        return math.inf
    if math.isnan(a) or math.isnan(b):
        return math.nan
    if a == 0 and b == 0:
        return b if math.copysign(1.0, a) < 0 else a
    return a if a > b else b


def go_min(a: float, b: float) -> float:
    """Go's math.Min: -Inf wins, then NaN, and -0 over +0."""
    if math.isinf(a) and a < 0 or math.isinf(b) and b < 0:
        return -math.inf
    if math.isnan(a) or math.isnan(b):
        return math.nan
    if a == 0 and b == 0:
        return a if math.copysign(1.0, a) < 0 else b
    return a if a < b else b


def _round(v: float, to: float = 1.0) -> float:
    """funcRound: floor(v * (1/to) + 0.5) / (1/to), with Go's float division (1/0 = +Inf)."""
    inv = arith("/", 1.0, to)
    return arith("/", go_floor(v * inv + 0.5), inv)


def sqrt(v: float) -> float:
    return math.nan if v < 0 or math.isnan(v) else math.sqrt(v)


def _sgn(v: float) -> float:
    return v if math.isnan(v) or v == 0 else math.copysign(1.0, v)


def _safe(fn):
    def run(v: float, *rest: float) -> float:
        try:
            return fn(v, *rest)
        except ValueError:
            return math.nan
        except OverflowError:
            return math.inf
    return run


MATH = {
    "abs": abs, "ceil": lambda v: v if not math.isfinite(v) else float(math.ceil(v)),
    "floor": go_floor,
    "sqrt": sqrt, "exp": _safe(math.exp),
    "ln": _safe(lambda v: -math.inf if v == 0 else math.log(v)),
    "log2": _safe(lambda v: -math.inf if v == 0 else math.log2(v)),
    "log10": _safe(lambda v: -math.inf if v == 0 else math.log10(v)),
    "sgn": _sgn, "round": _round,
}


def compare(op: str, a: float, b: float) -> bool:
    return {"==": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


def arith(op: str, a: float, b: float) -> float:
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        if op == "%":
            return math.fmod(a, b)
        if op == "^":
            return _pow(a, b)
        if op == "atan2":
            return math.atan2(a, b)
    except ZeroDivisionError:  # Go float semantics: x/0 = +-Inf, 0/0 = NaN
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    except ValueError:
        return math.nan
    except OverflowError:
        return math.inf
    raise PromQLError(f"unknown operator {op}")


#: engine.go shouldDropMetricName: comparisons and atan2 keep the metric name
DROPS_NAME = frozenset({"+", "-", "*", "/", "^", "%"})


def _pow(a: float, b: float) -> float:
    """Go's math.Pow where Python's raises: Pow(+-0, y<0) is +Inf (-Inf for -0 and an odd y)."""
    try:
        return math.pow(a, b)
    except ValueError:
        if a == 0 and b < 0:
            odd = b.is_integer() and int(b) % 2 == 1
            return -math.inf if odd and math.copysign(1.0, a) < 0 else math.inf
        return math.nan


def inf_mean_holds(mean: float, v: float) -> bool:
    """The avg/avg_over_time guard: an infinite running mean stays as it is when the next value is
    the same infinity or any finite number (Inf - Inf would turn it into NaN)."""
    if not math.isinf(mean):
        return False
    if math.isinf(v):
        return (mean > 0) == (v > 0)
    return not math.isnan(v)
