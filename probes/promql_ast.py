"""The PromQL subset's syntax tree, its error types and the keyword tables (no behaviour).

Separate from the parser so the evaluator and the math helpers can name nodes and errors
without importing the parser (and its RE2 checks) in a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["AGGREGATORS", "PARAM_AGGS", "PROMETHEUS_FUNCTIONS", "COMPARISONS", "SET_OPS", "PREC", "UNITS",
           "PromQLError", "Unsupported", "Number", "String", "Selector", "MatrixSel", "Call", "Agg", "Matching",
           "Binary", "Unary"]

AGGREGATORS = frozenset({"sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "topk", "bottomk",
                         "quantile", "count_values"})
PARAM_AGGS = frozenset({"topk", "bottomk", "quantile", "count_values"})
#: Every function Prometheus 2.42 knows (promql/parser/functions.go): a name outside this set is
#: the user's typo (a parse error), a name inside it but outside the subset "needs Prometheus".
PROMETHEUS_FUNCTIONS = frozenset("""abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil
    changes clamp clamp_max clamp_min cos cosh count_over_time days_in_month day_of_month day_of_week day_of_year deg
    delta deriv exp floor histogram_count histogram_sum histogram_fraction histogram_quantile holt_winters hour idelta
    increase irate label_replace label_join last_over_time ln log10 log2 max_over_time min_over_time minute month pi
    predict_linear present_over_time quantile_over_time rad rate resets round scalar sgn sin sinh sort sort_desc sqrt
    stddev_over_time stdvar_over_time sum_over_time tan tanh time timestamp vector year""".split())
COMPARISONS = frozenset({"==", "!=", "<", ">", "<=", ">="})
SET_OPS = frozenset({"and", "or", "unless"})
PREC = {"or": 1, "and": 2, "unless": 2, "==": 3, "!=": 3, "<": 3, ">": 3, "<=": 3, ">=": 3,
         "+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "atan2": 5, "^": 6}
UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000,
          "y": 31_536_000_000}


class PromQLError(ValueError):
    """A query we cannot run; kind is the Prometheus errorType it stands for (bad_data)."""

    kind = "bad_data"


class Unsupported(PromQLError):
    """Valid PromQL outside the direct-scrape subset."""


# -- nodes ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class String:
    value: str


@dataclass(frozen=True)
class Selector:
    name: str | None
    matchers: tuple[tuple[str, str, str], ...]  # (label, op, value); op in = != =~ !~
    offset_ms: int = 0


@dataclass(frozen=True)
class MatrixSel:
    sel: Selector
    range_ms: int


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Agg:
    op: str
    expr: Any
    param: Any = None
    grouping: tuple[str, ...] = ()
    without: bool = False


@dataclass(frozen=True)
class Matching:
    card: str = "one-to-one"           # one-to-one | many-to-one (group_left) | one-to-many (group_right)
    on: bool = False
    labels: tuple[str, ...] = ()
    include: tuple[str, ...] = ()


@dataclass(frozen=True)
class Binary:
    op: str
    lhs: Any
    rhs: Any
    bool_mod: bool = False
    matching: Matching | None = None


@dataclass(frozen=True)
class Unary:
    op: str
    expr: Any
