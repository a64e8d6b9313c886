"""A Loki-HTTP-API-compatible server over the synthetic stack's log lines (for `llmwatch demo`).

No Loki can be installed here, so the demo serves the stack's own log rings through the parts of
the Loki 2.6.1 API llmwatch uses, answering as the recorded Loki does (shared/fixtures/loki):
nanosecond *string* timestamps in "streams", float seconds in "matrix"/"vector", a `stats`
object of the recorded shape, start inclusive / end exclusive, `limit` across all streams,
backward = newest first, and errors as plain text with status 400 (content type still JSON, as
recorded). Each service's lines form one stream per level, labelled {job, service, level,
instance}; equal timestamps within a service get +1 ns each, so "follow" (start = last + 1)
never skips or repeats a line. The LogQL subset is in probes/synthetic/logql.py.

Routes: /ready, /loki/api/v1/query_range (GET or POST form), /loki/api/v1/query,
/loki/api/v1/labels, /loki/api/v1/label/<name>/values. Never imports tui.
"""

from __future__ import annotations

import json
import math
import time
from bisect import bisect_left, bisect_right
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote

from probes.synthetic.logql import (LogQLError, LogQuery, MetricQuery, parse_duration_s, parse_logql,
                                    parse_time_ns)
from probes.synthetic.serve import HOST, LoopbackServer
from probes.synthetic.service import Reply, Request

__all__ = ["SyntheticLoki", "LogQLError", "parse_logql", "LogQuery", "MetricQuery"]

JSON = "application/json"
JSON_UTF8 = "application/json; charset=UTF-8"
TEXT = "text/plain; charset=utf-8"
MAX_POINTS = 11_000



def _step_s(value: str | None, start_ns: int, end_ns: int) -> float:
    if not value:  # Loki's default: 250 points over the range, at least 1 s
        return max(math.ceil((end_ns - start_ns) / 1e9 / 250), 1)
    try:
        step = float(value)
    except ValueError:
        step = parse_duration_s(value) or -1.0
        if step < 0:
            raise LogQLError(f'cannot parse "{value}" to a valid duration') from None
    if step <= 0:
        raise LogQLError("zero or negative query resolution step widths are not accepted. "
                         "Try a positive integer")
    return step


def _num(v: float) -> str:
    """Go's FormatFloat(v, 'f', -1): shortest round-trip, never an exponent."""
    return str(int(v)) if v.is_integer() else format(Decimal(repr(v)), "f")


def _ts(t_ms: int) -> int | float:
    return t_ms // 1000 if t_ms % 1000 == 0 else t_ms / 1000


class SyntheticLoki:
    """Serves `stack.logs()` as Loki; start() -> url, stop() is idempotent."""

    def __init__(self, stack: Any, port: int = 0, clock: Any = time.time_ns):
        self.stack = stack
        self.clock = clock
        self.server = LoopbackServer(self.handle, port, server_header="synthetic-loki")

    def start(self) -> str:
        self.server.start()
        return self.url

    def stop(self) -> None:
        self.server.stop()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.port}"

    # ---- the data: one stream per (service, level) ------------------------------------------
    def streams(self, start_ns: int) -> list[tuple[dict[str, str], list[int], list[str]]]:
        """[(labels, ns ascending, lines)] with every line at or after start_ns."""
        out = []
        since = start_ns / 1e9 - 1.0  # whole groups of equal t: the +k ns below stays stable
        for name in self.stack.services:
            by_level: dict[str, tuple[list[int], list[str]]] = {}
            prev_us, k = None, 0
            for ln in self.stack.logs(name, since):
                us = round(ln.t * 1e6)
                k = k + 1 if us == prev_us else 0
                prev_us = us
                ns = us * 1000 + k
                if ns >= start_ns:
                    times, lines = by_level.setdefault(ln.level, ([], []))
                    times.append(ns)
                    lines.append(ln.line)
            instance = f"{HOST}:{self.stack.port(name)}"
            for level in sorted(by_level):
                labels = {"instance": instance, "job": name, "level": level, "service": name}
                out.append((labels, *by_level[level]))
        return out

    # ---- HTTP ------------------------------------------------------------------------------
    def handle(self, req: Request) -> Reply:
        params = dict(req.query)
        if req.method == "POST" and req.body:
            params.update(parse_qsl(req.body.decode("utf-8", "replace")))
        path = req.path
        started = time.perf_counter()
        try:
            if path == "/ready":
                return Reply(200, b"ready\n", TEXT)
            if path == "/loki/api/v1/labels":
                return self._json({"status": "success", "data": self._label_names(params)})
            if path.startswith("/loki/api/v1/label/") and path.endswith("/values"):
                name = unquote(path[len("/loki/api/v1/label/"):-len("/values")])
                return self._json({"status": "success", "data": self._label_values(name, params)})
            if path in ("/loki/api/v1/query_range", "/loki/api/v1/query"):
                return self._query(path.endswith("_range"), params, started)
        except LogQLError as exc:
            return Reply(400, str(exc).encode(), JSON_UTF8)
        return Reply(404, b"404 page not found\n", TEXT)

    @staticmethod
    def _json(doc: Any, ctype: str = JSON) -> Reply:
        return Reply(200, json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode() + b"\n", ctype)

    def _window(self, params: dict[str, str], default_s: int) -> tuple[int, int]:
        end = parse_time_ns(params.get("end"), self.clock())
        if params.get("since") and not params.get("start"):
            since = parse_duration_s(params["since"])
            if since is None:
                raise LogQLError(f'cannot parse "{params["since"]}" to a valid duration')
            return end - int(since * 1e9), end
        start = parse_time_ns(params.get("start"), end - default_s * 10**9)
        if end < start:
            raise LogQLError("end timestamp must not be before or equal to start time")
        return start, end

    def _label_names(self, params: dict[str, str]) -> list[str]:
        start, end = self._window(params, 6 * 3600)
        return sorted({k for labels, ts, _ in self.streams(start) if bisect_left(ts, end) for k in labels})

    def _label_values(self, name: str, params: dict[str, str]) -> list[str]:
        start, end = self._window(params, 6 * 3600)
        return sorted({labels[name] for labels, ts, _ in self.streams(start) if name in labels and bisect_left(ts, end)})

    def _query(self, is_range: bool, params: dict[str, str], started: float) -> Reply:
        parsed = parse_logql(params.get("query", ""))
        if isinstance(parsed, LogQuery):
            if not is_range:
                raise LogQLError("log queries are not supported as an instant query type, "
                                 "please change your query to a range query type")
            return self._logs(parsed, params, started)
        if is_range:
            start, end = self._window(params, 3600)
            step = _step_s(params.get("step"), start, end)
            if (end - start) / 1e9 / step > MAX_POINTS:
                raise LogQLError("exceeded maximum resolution of 11,000 points per timeseries. "
                                 "Try increasing the value of the step parameter")
            step_ms = max(int(round(step * 1000)), 1)  # points aligned to the step, as the recording
            points = list(range(start // 10**6 // step_ms * step_ms, -(-(end // 10**6) // step_ms) * step_ms + 1,
                                step_ms))
        else:
            points = [parse_time_ns(params.get("time"), self.clock()) // 10**6]
        return self._metric(parsed, points, is_range, started)

    def _logs(self, q: LogQuery, params: dict[str, str], started: float) -> Reply:
        start, end = self._window(params, 3600)
        try:
            limit = int(params.get("limit") or 100)
        except ValueError:
            raise LogQLError(f'cannot parse "{params["limit"]}" to a valid limit') from None
        if limit <= 0:
            raise LogQLError("limit must be a positive value")
        direction = (params.get("direction") or "backward").lower()
        if direction not in ("backward", "forward"):
            raise LogQLError(f'invalid direction "{params["direction"]}"')
        hits: list[tuple[int, int, str]] = []
        scanned = nbytes = matched = 0
        chosen = [s for s in self.streams(start) if q.selects(s[0])]
        for idx, (labels, ts, lines) in enumerate(chosen):
            lo, hi = bisect_left(ts, start), bisect_left(ts, end)
            matched += hi > lo
            for i in range(lo, hi):
                scanned += 1
                nbytes += len(lines[i].encode())
                if q.keeps(lines[i]):
                    hits.append((ts[i], idx, lines[i]))
        hits.sort(key=lambda h: h[0], reverse=direction == "backward")
        result: dict[int, list[list[str]]] = {}
        for ns, idx, line in hits[:limit]:
            result.setdefault(idx, []).append([str(ns), line])
        streams = [{"stream": chosen[idx][0], "values": values} for idx, values in result.items()]
        returned = min(len(hits), limit)
        data = {"resultType": "streams", "result": streams,
                "stats": _stats(scanned, nbytes, returned, matched, time.perf_counter() - started)}
        # As recorded: plain equality selectors came back with "; charset=UTF-8", the rest without.
        plain = all(m.op == "=" for m in q.matchers) and not q.filters
        return self._json({"status": "success", "data": data}, JSON_UTF8 if plain else JSON)

    def _metric(self, q: MetricQuery, points_ms: list[int], is_range: bool, started: float) -> Reply:
        if not points_ms:
            raise LogQLError("end timestamp must not be before or equal to start time")
        range_ns = int(q.range_s * 1e9)
        first = points_ms[0] * 10**6 - range_ns
        series: dict[tuple[tuple[str, str], ...], dict[int, float]] = {}
        scanned = nbytes = matched = 0
        for labels, ts, lines in self.streams(first):
            if not q.inner.selects(labels):
                continue
            lo, hi = bisect_right(ts, first), bisect_right(ts, points_ms[-1] * 10**6)
            kept = [ts[i] for i in range(lo, hi) if q.inner.keeps(lines[i])]
            scanned, matched = scanned + hi - lo, matched + (hi > lo)
            nbytes += sum(len(lines[i].encode()) for i in range(lo, hi))
            key_labels = labels if q.by is None else {k: labels[k] for k in q.by if k in labels}
            acc = series.setdefault(tuple(sorted(key_labels.items())), {})
            for t_ms in points_ms:  # Loki's window for a point at t: (t - range, t]
                t_ns = t_ms * 10**6
                n = bisect_right(kept, t_ns) - bisect_right(kept, t_ns - range_ns)
                if n:
                    acc[t_ms] = acc.get(t_ms, 0.0) + (n / q.range_s if q.func == "rate" else n)
        result = []
        for key in sorted(k for k, v in series.items() if v):
            values = [[_ts(t), _num(v)] for t, v in sorted(series[key].items())]
            result.append({"metric": dict(key), "values": values} if is_range
                          else {"metric": dict(key), "value": values[0]})
        data = {"resultType": "matrix" if is_range else "vector", "result": result,
                "stats": _stats(scanned, nbytes, len(result), matched, time.perf_counter() - started)}
        return self._json({"status": "success", "data": data})


def _stats(lines: int, nbytes: int, returned: int, chunks: int, exec_s: float) -> dict[str, Any]:
    """Loki 2.6.1's stats object (same keys and nesting as the recording), filled with our counts."""
    exec_s = max(exec_s, 1e-9)

    def store(head_bytes: int, head_lines: int) -> dict[str, Any]:
        return {"totalChunksRef": 0, "totalChunksDownloaded": 0, "chunksDownloadTime": 0,
                "chunk": {"headChunkBytes": head_bytes, "headChunkLines": head_lines, "decompressedBytes": 0,
                          "decompressedLines": 0, "compressedBytes": 0, "totalDuplicates": 0}}

    return {"summary": {"bytesProcessedPerSecond": int(nbytes / exec_s), "linesProcessedPerSecond": int(lines / exec_s),
                        "totalBytesProcessed": nbytes, "totalLinesProcessed": lines, "execTime": round(exec_s, 9),
                        "queueTime": 0, "subqueries": 1, "totalEntriesReturned": returned},
            "querier": {"store": store(0, 0)},
            "ingester": {"totalReached": 1, "totalChunksMatched": chunks, "totalBatches": 1 if lines else 0,
                         "totalLinesSent": returned, "store": store(nbytes, lines)}}
