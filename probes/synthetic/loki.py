"""A Loki-HTTP-API-compatible server over the synthetic stack's log lines (for `llmwatch demo`).

No Loki can be installed here, so the demo serves the stack's own log rings through the parts of
the Loki 2.6.1 API llmwatch uses, answering as the recorded Loki does (shared/fixtures/loki):
nanosecond *string* timestamps in "streams", float seconds in "matrix"/"vector", a `stats`
object of the recorded shape, start inclusive / end exclusive, `limit` across all streams,
backward = newest first, and errors as plain text with status 400 (content type still JSON, as
recorded). Each service's lines form one stream per level, labelled {job, service, level,
instance}; equal timestamps within a service get +1 ns each, so "follow" (start = last + 1)
never skips or repeats a line.

LogQL subset: `{a="b", c=~"d"}` with = != =~ !~ on any label; line filters |= != |~ !~ chained;
`count_over_time(<log query> [d])`, `rate(<log query> [d])`, optionally wrapped in
`sum(...)` or `sum by (l, ...) (...)` (or `sum (...) by (l)`). Anything else is a 400 in Loki's
words ("parse error ..."). Never imports tui.
"""

from __future__ import annotations

import codecs
import json
import math
import re
import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote

from probes.synthetic.serve import HOST, LoopbackServer
from probes.synthetic.service import Reply, Request

__all__ = ["SyntheticLoki", "LogQLError", "parse_logql", "LogQuery", "MetricQuery"]

JSON = "application/json"
JSON_UTF8 = "application/json; charset=UTF-8"
TEXT = "text/plain; charset=utf-8"
MAX_POINTS = 11_000
_DUR = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_DUR_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RANGE_FUNCS = ("count_over_time", "rate")
_NO_SELECTOR = ("parse error : queries require at least one regexp or equality matcher that does not have an "
                'empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will')


class LogQLError(ValueError):
    """A query Loki refuses; str() is the 400 body, in Loki's words."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str  # = != =~ !~
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op in ("=", "!="):
            return (actual == self.value) == (self.op == "=")
        return (re.fullmatch(self.value, actual) is not None) == (self.op == "=~")  # anchored, as Loki


@dataclass(frozen=True)
class LogQuery:
    matchers: tuple[Matcher, ...]
    filters: tuple[tuple[str, str], ...] = ()  # (op, value), op in |= != |~ !~

    def selects(self, labels: dict[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    def keeps(self, line: str) -> bool:
        for op, value in self.filters:
            hit = (value in line) if op in ("|=", "!=") else re.search(value, line) is not None
            if hit != (op in ("|=", "|~")):
                return False
        return True


@dataclass(frozen=True)
class MetricQuery:
    func: str                      # count_over_time | rate
    inner: LogQuery
    range_s: float
    by: tuple[str, ...] | None     # None: no aggregation (stream labels kept); (): sum()


class _Parser:
    """Recursive descent over the subset; errors carry Loki's "line 1, col N" position."""

    def __init__(self, text: str):
        self.q, self.i = text, 0

    def err(self, detail: str) -> LogQLError:
        return LogQLError(f"parse error at line 1, col {self.i + 1}: syntax error: {detail}")

    def ws(self) -> None:
        while self.i < len(self.q) and self.q[self.i].isspace():
            self.i += 1

    def eat(self, token: str) -> bool:
        self.ws()
        if self.q.startswith(token, self.i):
            self.i += len(token)
            return True
        return False

    def expect(self, token: str, expecting: str) -> None:
        if not self.eat(token):
            raise self.err(f"unexpected {self.here()}, expecting {expecting}")

    def here(self) -> str:
        self.ws()
        if self.i >= len(self.q):
            return "$end"
        m = _IDENT.match(self.q, self.i)
        return "IDENTIFIER" if m else self.q[self.i]

    def ident(self) -> str | None:
        self.ws()
        m = _IDENT.match(self.q, self.i)
        if m is None:
            return None
        self.i = m.end()
        return m.group()

    def string(self) -> str:
        self.ws()
        if self.i >= len(self.q) or self.q[self.i] not in "\"`":
            raise self.err(f"unexpected {self.here()}, expecting STRING")
        start = self.i
        if self.q[start] == "`":
            end = self.q.find("`", start + 1)
            if end < 0:
                self.i = len(self.q)
                raise self.err("unexpected $end")
            self.i = end + 1
            return self.q[start + 1:end]
        j = start + 1
        while j < len(self.q) and self.q[j] != '"':
            j += 2 if self.q[j] == "\\" else 1
        if j >= len(self.q):
            self.i = len(self.q)
            raise self.err("unexpected $end")
        self.i = j + 1
        raw = self.q[start + 1:j]
        try:  # Go string literal escapes (\" \\ \n \x1b \u00e9)
            return codecs.decode(raw.encode("latin-1", "backslashreplace"), "unicode_escape")
        except UnicodeDecodeError:
            raise self.err(f"invalid string {raw!r}") from None

    def regex(self, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise LogQLError(f"parse error : error parsing regexp: {exc}") from None
        return value

    def log_query(self) -> LogQuery:
        self.expect("{", "{")
        matchers: list[Matcher] = []
        while True:
            name = self.ident()
            if name is None:
                raise self.err(f"unexpected {self.here()}, expecting IDENTIFIER")
            self.ws()
            op = next((o for o in ("=~", "!~", "!=", "=") if self.q.startswith(o, self.i)), None)
            if op is None:
                raise self.err(f"unexpected {self.here()}, expecting = or != or =~ or !~")
            self.i += len(op)
            value = self.string()
            matchers.append(Matcher(name, op, self.regex(value) if "~" in op else value))
            if self.eat("}"):
                break
            if not self.eat(","):
                raise self.err(f"unexpected {self.here()}, expecting }} or ,")
        if not any(not m.matches({}) for m in matchers):
            raise LogQLError(_NO_SELECTOR)
        filters: list[tuple[str, str]] = []
        while True:
            self.ws()
            op = next((o for o in ("|=", "!=", "|~", "!~") if self.q.startswith(o, self.i)), None)
            if op is None:
                break
            self.i += 2
            value = self.string()
            filters.append((op, self.regex(value) if "~" in op else value))
        self.ws()
        if self.q.startswith("|", self.i):
            raise LogQLError(f"parse error at line 1, col {self.i + 1}: the synthetic Loki of llmwatch demo "
                             "supports only the line filters |= != |~ !~ (no parsers or label filters)")
        return LogQuery(tuple(matchers), tuple(filters))

    def by_clause(self) -> tuple[str, ...] | None:
        if not self.eat("by"):
            if self.q.startswith("without", self.i):
                raise self.err("unexpected without: the synthetic Loki supports only sum and sum by (...)")
            return None
        self.expect("(", "(")
        labels: list[str] = []
        while not self.eat(")"):
            name = self.ident()
            if name is None:
                raise self.err(f"unexpected {self.here()}, expecting IDENTIFIER or )")
            labels.append(name)
            self.eat(",")
        return tuple(labels)

    def range_agg(self) -> MetricQuery:
        func = self.ident()
        if func not in _RANGE_FUNCS:
            raise self.err(f"unexpected {func or self.here()}: the synthetic Loki supports count_over_time, "
                           "rate and sum of them")
        self.expect("(", "(")
        inner = self.log_query()
        self.expect("[", "[")
        end = self.q.find("]", self.i)
        text = self.q[self.i:end if end >= 0 else len(self.q)].strip()
        self.i = end + 1 if end >= 0 else len(self.q)
        rng = parse_duration_s(text)
        if end < 0 or rng is None or rng <= 0:
            raise self.err(f"unexpected {text or '$end'}, expecting RANGE")
        self.expect(")", ")")
        return MetricQuery(func, inner, rng, None)

    def query(self) -> LogQuery | MetricQuery:
        self.ws()
        if self.q.startswith("{", self.i) or self.i >= len(self.q):
            result: LogQuery | MetricQuery = self.log_query()
        elif self.q.startswith("sum", self.i) and not _IDENT.match(self.q, self.i + 3):
            self.i += 3
            by = self.by_clause()
            self.expect("(", "(")
            inner = self.range_agg()
            self.expect(")", ")")
            post = self.by_clause()
            result = MetricQuery(inner.func, inner.inner, inner.range_s, by or post or ())
        else:
            result = self.range_agg()
        self.ws()
        if self.i < len(self.q):
            raise self.err(f"unexpected {self.here()}")
        return result


def parse_logql(query: str) -> LogQuery | MetricQuery:
    return _Parser(query).query()


def parse_duration_s(text: str) -> float | None:
    """Go/Prometheus duration ("1m", "90s", "1h30m") -> seconds, None when malformed."""
    pos, total = 0, 0.0
    for m in _DUR.finditer(text):
        if m.start() != pos:
            return None
        total, pos = total + float(m.group(1)) * _DUR_S[m.group(2)], m.end()
    return total if text and pos == len(text) else None


def parse_time_ns(value: str | None, default_ns: int) -> int:
    """Loki's timestamps: float seconds, int seconds (<= 10 digits), int ns, or RFC 3339."""
    if not value:
        return default_ns
    if re.fullmatch(r"\d+\.\d*", value):
        return int(Decimal(value) * 10**9)
    if re.fullmatch(r"-?\d+", value):
        return int(value) * 10**9 if len(value.lstrip("-")) <= 10 else int(value)
    from datetime import datetime

    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise LogQLError(f'cannot parse "{value}" to a valid timestamp') from None
    frac = re.search(r"\.(\d+)", value)
    return int(parsed.replace(microsecond=0).timestamp()) * 10**9 + (int((frac.group(1) + "0" * 9)[:9]) if frac else 0)


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
