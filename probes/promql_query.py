"""Instant and range queries over the direct-scrape store, answered as probes.promtypes results.

Why separate from the evaluator: this is the API side (QueryResult shapes, Prometheus' error
texts and limits, the warning when a range outruns the retention, evaluation in time slices),
while probes/promql_eval.py is the semantics.
"""

from __future__ import annotations

import math
import time

from probes.promql_eval import Evaluator, Matrix
from probes.promql_funcs import label_key
from probes.promql_parse import PromQLError, Unsupported, parse
from probes.promtypes import ApiError, QueryResult, Sample, Series
from probes.scrape_store import Store

__all__ = ["instant_query", "range_query", "RangeEval", "MAX_POINTS"]

MAX_POINTS = 11_000  # Prometheus refuses range queries with more points per series


def _error(query: str, exc: Exception, elapsed: float) -> QueryResult:
    msg = str(exc)
    if not isinstance(exc, PromQLError):  # a shape the checks above missed: still one line, no traceback
        msg = f"cannot evaluate this expression ({type(exc).__name__}: {msg})"
    if not isinstance(exc, Unsupported):
        msg = f"bad_data: {msg}"
    return QueryResult(query=query, ok=False, error=ApiError("bad_data", f"direct scrape: {msg}", 400),
                       elapsed_s=elapsed)


def _warnings(ev: Evaluator, retention_ms: int) -> tuple[str, ...]:
    if ev.longest_range_ms > retention_ms:
        return (f"direct scrape keeps {retention_ms // 1000} s of samples; a {ev.longest_range_ms // 1000} s "
                f"range covers only those",)
    return ()


def instant_query(store: Store, query: str, t_ms: int) -> QueryResult:
    start = time.perf_counter()
    try:
        node = parse(query)
        ev = Evaluator(store)
        val = ev.eval(node, t_ms)
    except (PromQLError, RecursionError, TypeError, IndexError, ArithmeticError) as exc:
        return _error(query, exc, time.perf_counter() - start)
    warn = _warnings(ev, store.retention_ms)
    ts = t_ms / 1000
    elapsed = time.perf_counter() - start
    if isinstance(val, float):
        return QueryResult(query, True, "scalar", samples=(Sample({}, val, ts),), elapsed_s=elapsed, warnings=warn)
    if isinstance(val, str):
        return QueryResult(query, True, "string", text=val, elapsed_s=elapsed)
    if isinstance(val, Matrix):
        series = tuple(Series(dict(lab), tuple((x / 1000, y) for x, y in zip(tss, vals))) for lab, tss, vals in val)
        return QueryResult(query, True, "matrix", series=series, elapsed_s=elapsed, warnings=warn)
    return QueryResult(query, True, "vector", samples=tuple(Sample(dict(lab), v, ts) for lab, v in val),
                       elapsed_s=elapsed, warnings=warn)


class RangeEval:
    """One range query, evaluated a few steps at a time so an event loop can breathe between
    slices (ScrapeClient.query_range yields every RANGE_SLICE_S): a 1 h histogram panel over
    hundreds of bucket series is ~10^5 rate() computations in Python (bench/bench_scrape.py)."""

    def __init__(self, store: Store, query: str, start_ms: int, end_ms: int, step_ms: int):
        self.store, self.query = store, query
        self.t0 = time.perf_counter()
        self.error: Exception | None = None
        self.rows: dict[tuple, tuple[dict, list]] = {}
        self.t, self.end, self.step = start_ms, end_ms, step_ms
        try:
            if step_ms <= 0:
                raise PromQLError("zero or negative query resolution step widths are not accepted")
            if end_ms < start_ms:
                raise PromQLError("end timestamp must not be before start time")
            if (end_ms - start_ms) // step_ms > MAX_POINTS:
                raise PromQLError("exceeded maximum resolution of 11,000 points per timeseries. "
                                  "Try decreasing the query resolution (?step=XX)")
            self.node = parse(query)
        except PromQLError as exc:
            self.error = exc
        self.ev = Evaluator(store)

    @property
    def done(self) -> bool:
        return self.error is not None or self.t > self.end

    def run(self, seconds: float = math.inf) -> bool:
        """Evaluate steps for about `seconds` (at least one); True when finished."""
        rows, ev = self.rows, self.ev
        until = time.perf_counter() + seconds
        try:
            while not self.done:
                t = self.t
                val = ev.eval(self.node, t)
                if isinstance(val, float):
                    val = [({}, val)]
                elif isinstance(val, (Matrix, str)):
                    raise PromQLError("invalid expression type for range query, must be Scalar or instant Vector")
                for lab, v in val:
                    k = label_key(lab)
                    row = rows.get(k)
                    if row is None:
                        row = rows[k] = (dict(lab), [])
                    row[1].append((t / 1000, v))
                self.t += self.step
                if time.perf_counter() >= until:
                    break
        except (PromQLError, RecursionError, TypeError, IndexError, ArithmeticError) as exc:
            self.error = exc
        return self.done

    def result(self) -> QueryResult:
        if self.error is not None:
            return _error(self.query, self.error, time.perf_counter() - self.t0)
        series = tuple(Series(lab, tuple(pts)) for _, (lab, pts) in sorted(self.rows.items()))
        return QueryResult(self.query, True, "matrix", series=series, elapsed_s=time.perf_counter() - self.t0,
                           warnings=_warnings(self.ev, self.store.retention_ms))


def range_query(store: Store, query: str, start_ms: int, end_ms: int, step_ms: int) -> QueryResult:
    job = RangeEval(store, query, start_ms, end_ms, step_ms)
    job.run()
    return job.result()
