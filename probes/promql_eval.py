"""Evaluate the PromQL subset (probes/promql_parse.py) over the direct-scrape store.

Why: see probes/scrape.py. Semantics follow Prometheus 2.42's engine (promql/engine.go): instant
selectors look back 5 m and honour stale markers; range selectors take [t - range, t]; binary
operators match on all labels but __name__ (or on/ignoring), arithmetic drops the metric name,
comparisons filter unless `bool`; `or`/`and`/`unless` compare label sets without __name__;
aggregations keep only the `by` labels. Errors are PromQLError with Prometheus' own wording
where it matters (duplicate matches), so a broken rule reads the same in both modes.
"""

from __future__ import annotations

import math
from typing import Any

from probes.promql_aggr import aggregate_group, topk_k
from probes.promql_funcs import OVER_TIME, drop_name, extrapolated_rate, histogram_quantile, instant_value, label_key, \
    label_replace, over_time, quantile, vector_scalar
from probes.promql_math import DROPS_NAME, MATH, arith, compare, go_max, go_min
from probes.promql_parse import COMPARISONS, SET_OPS, Agg, Binary, Call, MatrixSel, Number, PromQLError, \
    Selector, String, Unary, Unsupported
from probes.re2match import RegexError
from probes.scrape_store import LOOKBACK_MS, Store

__all__ = ["Evaluator", "Matrix", "SUPPORTED_FUNCTIONS", "NEEDS_PROMETHEUS"]

NEEDS_PROMETHEUS = "not supported in direct-scrape mode (needs Prometheus)"
SAME_LABELSET = "vector cannot contain metrics with the same labelset"


class Matrix(list):
    """A range vector: [(labels, ts array, values array)]."""


_RANGE_FUNCS = {"rate": (True, True), "increase": (True, False), "delta": (False, False)}
SUPPORTED_FUNCTIONS = frozenset({*_RANGE_FUNCS, "irate", "idelta", *OVER_TIME, "quantile_over_time",
                                 "histogram_quantile", "label_replace", "scalar", "vector", "time", "clamp",
                                 "clamp_min", "clamp_max", *MATH, "sort", "sort_desc", "absent"})


class Evaluator:
    """Evaluates one query (at one or many instants) over a store; caches series selection."""

    def __init__(self, store: Store, lookback_ms: int = LOOKBACK_MS):
        self.store = store
        self.lookback = lookback_ms
        self._selected: dict[Selector, list] = {}
        self.longest_range_ms = 0
        # Range queries evaluate the same series at every step: label work is memoised per
        # label-dict identity (store dicts and their name-less copies live as long as this).
        self._noname: dict[int, tuple[dict, dict]] = {}
        self._groups: dict[Agg, dict[int, tuple[dict, tuple, dict]]] = {}
        self._keys: dict[int, tuple[dict, tuple]] = {}

    def noname(self, labels: dict) -> dict:
        hit = self._noname.get(id(labels))
        if hit is None:
            hit = self._noname[id(labels)] = (labels, drop_name(labels))
        return hit[1]

    def key(self, labels: dict) -> tuple:
        hit = self._keys.get(id(labels))
        if hit is None:
            hit = self._keys[id(labels)] = (labels, label_key(labels))
        return hit[1]

    def unique(self, vec: Any) -> Any:
        """engine.go: a function, operator or unary minus result must not hold one label set twice
        (two metrics left with the same labels once __name__ is dropped)."""
        if isinstance(vec, list) and len(vec) > 1:
            seen = set()
            for lab, _ in vec:
                k = self.key(lab)
                if k in seen:
                    raise PromQLError(SAME_LABELSET)
                seen.add(k)
        return vec

    def select(self, sel: Selector) -> list:
        got = self._selected.get(sel)
        if got is None:
            try:
                got = self._selected[sel] = self.store.select(sel.name, sel.matchers)
            except RegexError as exc:
                raise PromQLError(f"invalid regular expression in a label matcher: {exc}") from None
        return got

    def eval(self, node: Any, t: int) -> Any:
        kind = type(node)
        if kind is Number:
            return node.value
        if kind is String:
            return node.value
        if kind is Selector:
            ref = t - node.offset_ms
            lb = self.lookback
            out = []
            for s in self.select(node):
                v = s.at(ref, lb)
                if v is not None:
                    out.append((s.labels, v))
            return out
        if kind is MatrixSel:
            end = t - node.sel.offset_ms
            start = end - node.range_ms
            self.longest_range_ms = max(self.longest_range_ms, node.range_ms + node.sel.offset_ms)
            out = Matrix()
            for s in self.select(node.sel):
                ts, vals = s.window(start, end)
                if ts:
                    out.append((s.labels, ts, vals))
            return out
        if kind is Binary:
            return self.unique(self.binary(node, t))
        if kind is Agg:
            return self.aggregate(node, t)
        if kind is Call:
            return self.unique(self.call(node, t))
        if kind is Unary:
            v = self.eval(node.expr, t)
            if isinstance(v, float):
                return -v
            return self.unique([(self.noname(lab), -x) for lab, x in self._vector(v, "unary minus")])
        raise Unsupported(f"{type(node).__name__} is {NEEDS_PROMETHEUS}")

    def _vector(self, v: Any, what: str) -> list:
        if isinstance(v, Matrix) or not isinstance(v, list):
            raise PromQLError(f"{what}: expected an instant vector")
        return v

    def _scalar(self, v: Any, what: str) -> float:
        if not isinstance(v, float):
            raise PromQLError(f"{what}: expected a scalar")
        return v

    # -- operators ------------------------------------------------------------------------------

    def binary(self, node: Binary, t: int) -> Any:
        lhs, rhs = self.eval(node.lhs, t), self.eval(node.rhs, t)
        op = node.op
        if isinstance(lhs, Matrix) or isinstance(rhs, Matrix) or isinstance(lhs, str) or isinstance(rhs, str):
            raise PromQLError("binary expression must contain only scalar and instant vector types")
        if isinstance(lhs, float) and isinstance(rhs, float):
            if op in SET_OPS:
                raise PromQLError(f"set operator {op!r} not allowed in binary scalar expression")
            if op in COMPARISONS and not node.bool_mod:
                raise PromQLError("comparisons between scalars must use BOOL modifier")
            if op in COMPARISONS:
                return 1.0 if compare(op, lhs, rhs) else 0.0
            return arith(op, lhs, rhs)
        if op in SET_OPS:
            if isinstance(lhs, float) or isinstance(rhs, float):
                raise PromQLError(f"set operator {op!r} not allowed in binary scalar expression")
            return self.set_op(node, lhs, rhs)
        if isinstance(rhs, float):
            return vector_scalar(op, lhs, rhs, False, node.bool_mod, self.noname)
        if isinstance(lhs, float):
            return vector_scalar(op, rhs, lhs, True, node.bool_mod, self.noname)
        return self.vector_vector(node, lhs, rhs)

    def set_op(self, node: Binary, lhs: list, rhs: list) -> list:
        m = node.matching
        sig = _signature(m.on if m else False, m.labels if m else ())
        if node.op == "or":
            seen = {sig(lab) for lab, _ in lhs}
            return lhs + [(lab, v) for lab, v in rhs if sig(lab) not in seen]
        right = {sig(lab) for lab, _ in rhs}
        if node.op == "and":
            return [(lab, v) for lab, v in lhs if sig(lab) in right]
        return [(lab, v) for lab, v in lhs if sig(lab) not in right]

    def vector_vector(self, node: Binary, lhs: list, rhs: list) -> list:
        m = node.matching
        card = m.card if m else "one-to-one"
        on, names = (m.on, m.labels) if m else (False, ())
        sig = _signature(on, names)
        swap = card == "one-to-many"
        many, one = (rhs, lhs) if swap else (lhs, rhs)
        index: dict[tuple, tuple] = {}
        for lab, v in one:
            s = sig(lab)
            if s in index:
                side = "left" if swap else "right"
                group = dict(zip(names, s)) if on else dict(s)
                raise PromQLError(f"found duplicate series for the match group {group} on the {side} hand-side "
                                  f"of the operation: many-to-many matching not allowed: matching labels must be "
                                  f"unique on one side")
            index[s] = (lab, v)
        op, is_cmp = node.op, node.op in COMPARISONS
        drop = op in DROPS_NAME or node.bool_mod
        matched: dict[tuple, int] = {}
        out, keys = [], set()
        for lab, v in many:
            s = sig(lab)
            other = index.get(s)
            if other is None:
                continue
            if card == "one-to-one":
                if s in matched:
                    raise PromQLError("multiple matches for labels: many-to-one matching must be explicit "
                                      "(group_left/group_right)")
                matched[s] = 1
            vl, vr = (other[1], v) if swap else (v, other[1])
            if is_cmp:
                keep = compare(op, vl, vr)
                if node.bool_mod:
                    value, keep = (1.0 if keep else 0.0), True
                else:
                    value = vl
                if not keep:
                    continue
            else:
                value = arith(op, vl, vr)
            res = dict(lab)
            if drop:
                res.pop("__name__", None)
            if card == "one-to-one":
                res = {k: x for k, x in res.items() if (k in names) == on} if (on or names) else res
            if m is not None:
                for name in m.include:
                    x = other[0].get(name, "")
                    if x:
                        res[name] = x
                    else:
                        res.pop(name, None)
            k = label_key(res)
            if k in keys:
                raise PromQLError("multiple matches for labels: grouping labels must ensure unique matches")
            keys.add(k)
            out.append((res, value))
        return out

    # -- aggregation ----------------------------------------------------------------------------

    def aggregate(self, node: Agg, t: int) -> list:
        vec = self._vector(self.eval(node.expr, t), f"{node.op}()")
        param = self.eval(node.param, t) if node.param is not None else None
        if node.op in ("topk", "bottomk"):
            topk_k(param, node.op)  # a bad k is an error even over an empty vector
        groups: dict[tuple, tuple[dict, list]] = {}
        grouping = node.grouping
        memo = self._groups.get(node)
        if memo is None:
            memo = self._groups[node] = {}
        for lab, v in vec:
            hit = memo.get(id(lab))
            if hit is None:
                if node.without:
                    res = {k: x for k, x in lab.items() if k not in grouping and k != "__name__"}
                    key = label_key(res)
                else:
                    key = tuple(lab.get(k, "") for k in grouping)
                    res = {k: x for k, x in zip(grouping, key) if x}
                hit = memo[id(lab)] = (lab, key, res)
            key = hit[1]
            g = groups.get(key)
            if g is None:
                g = groups[key] = (hit[2], [])
            g[1].append((lab, v))
        out = []
        for res, members in groups.values():
            got = aggregate_group(node.op, members, param)
            if node.op in ("topk", "bottomk"):
                out.extend(got)
            else:
                out.append((res, got[0]))
        return out

    # -- functions ------------------------------------------------------------------------------

    def call(self, node: Call, t: int) -> Any:
        f, args = node.func, node.args
        if f not in SUPPORTED_FUNCTIONS:
            raise Unsupported(f"function {f}() is {NEEDS_PROMETHEUS}")
        lo, hi = _ARITY.get(f, (1, 1))
        if not lo <= len(args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise PromQLError(f"expected {want} argument(s) in call to {f!r}, got {len(args)}")
        if f in _RANGE_FUNCS or f in ("irate", "idelta") or f in OVER_TIME or f == "quantile_over_time":
            arg = args[-1] if args else None
            if not isinstance(arg, MatrixSel):
                raise PromQLError(f"{f}(): expected a range vector like x[5m]")
            q = self._scalar(self.eval(args[0], t), f) if f == "quantile_over_time" else None
            out = []
            end = t - arg.sel.offset_ms
            for lab, ts, vals in self.eval(arg, t):
                if f in _RANGE_FUNCS:
                    counter, is_rate = _RANGE_FUNCS[f]
                    v = extrapolated_rate(ts, vals, end - arg.range_ms, end, arg.range_ms, counter, is_rate)
                elif f in ("irate", "idelta"):
                    v = instant_value(ts, vals, f == "irate")
                elif q is not None:
                    v = quantile(q, list(vals))
                else:
                    v = over_time(f, vals)
                if v is not None:
                    out.append((lab if f == "last_over_time" else self.noname(lab), v))  # 2.42 keeps its name
            return out
        if f == "time":
            return t / 1000
        if f == "vector":
            return [({}, self._scalar(self.eval(args[0], t), "vector()"))]
        vec = self._vector(self.eval(args[-1] if f == "histogram_quantile" else args[0], t), f"{f}()")
        if f == "histogram_quantile":
            return histogram_quantile(self._scalar(self.eval(args[0], t), f), vec)
        if f == "scalar":
            return vec[0][1] if len(vec) == 1 else math.nan
        if f == "label_replace":
            return label_replace(vec, *(self.eval(a, t) for a in args[1:]))
        if f in ("sort", "sort_desc"):
            return sorted(vec, key=lambda s: (math.isnan(s[1]), s[1] if f == "sort" else -s[1]))
        if f == "absent":
            return [] if vec else [(_absent_labels(args[0]), 1.0)]
        rest = [self._scalar(self.eval(a, t), f) for a in args[1:]]
        if f in ("clamp", "clamp_min", "clamp_max"):
            lo = rest[0] if f in ("clamp", "clamp_min") else -math.inf
            hi = rest[-1] if f in ("clamp", "clamp_max") else math.inf
            if f == "clamp" and hi < lo:
                return []
            return [(self.noname(lab), go_max(lo, go_min(hi, v))) for lab, v in vec]  # Go math.Max/Min: NaN wins
        fn = MATH[f]
        return [(self.noname(lab), fn(v, *rest)) for lab, v in vec]


_ARITY = {"time": (0, 0), "histogram_quantile": (2, 2), "quantile_over_time": (2, 2), "label_replace": (5, 5),
          "clamp": (3, 3), "clamp_min": (2, 2), "clamp_max": (2, 2), "round": (1, 2)}


def _absent_labels(arg: Any) -> dict:
    """createLabelsForAbsentFunction: the first `=` matcher of each label, dropped again by any later
    matcher on that label (`x{job="a",job="b",foo="bar"}` -> {foo="bar"})."""
    out: dict[str, str] = {}
    if not isinstance(arg, Selector):
        return out
    has: set[str] = set()
    for name, op, value in arg.matchers:
        if name == "__name__":
            continue
        if op == "=" and name not in has:
            out[name] = value
            has.add(name)
        else:
            out.pop(name, None)
    return out


def _signature(on: bool, names: tuple[str, ...]):
    if on:
        return lambda lab: tuple(lab.get(k, "") for k in names)
    skip = {"__name__", *names}
    return lambda lab: tuple(sorted((k, v) for k, v in lab.items() if k not in skip))
