"""Benchmark: from pressing `l` (LogsScreen pushed) to the first screen of 1000 log lines drawn,
beside the Loki server's own time for the same query.

The Loki replay holds ~60 recorded lines, so this bench runs its own Loki-compatible generator:
N JSON lines (the recorded api-gateway/tinycode shapes) over the last 15 minutes in 6 streams,
answered in exactly the recorded response shape (streams with ns strings, stats.summary; matrix
for `sum by (level) (count_over_time(...))`; /labels). "Server time" is measured two ways:
inside the handler (parse + select + JSON encode + write) and as a plain httpx round trip.
Target: screen time <= 1.5 x server round trip + 100 ms.

    .venv/bin/python bench/bench_logs.py [--runs 5] [--lines 20000] [--limit 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import random
import re
import statistics
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from textual.app import App  # noqa: E402
from textual.binding import Binding  # noqa: E402

from probes.config import Config, Endpoint  # noqa: E402
from probes.logql import LogRequest  # noqa: E402
from probes.loki import LokiClient  # noqa: E402
from tui.appctx import AppContext  # noqa: E402
from tui.screens.logs import LogsScreen  # noqa: E402
from tui.widgets.log_lines import LogLines  # noqa: E402

JOBS = ("api-gateway", "tinycode", "vllm")
LEVELS = ("info", "error")
STATS = {"summary": {"bytesProcessedPerSecond": 0, "linesProcessedPerSecond": 0, "totalBytesProcessed": 0,
                     "totalLinesProcessed": 0, "execTime": 0.0, "queueTime": 0.0, "subqueries": 1,
                     "totalEntriesReturned": 0}}


class Generator:
    """`lines` log lines over [now - 15m, now), grouped into (job, level) streams."""

    server_ms: list[float]

    def __init__(self, lines: int, now_ns: int) -> None:
        rng = random.Random(7)
        start = now_ns - 900 * 10**9
        self.streams: dict[tuple[str, str], tuple[list[int], list[str]]] = {}
        for i in range(lines):
            ns = start + i * (900 * 10**9 // lines) + rng.randrange(1000)
            job, level = rng.choice(JOBS), ("error" if rng.random() < 0.2 else "info")
            model = rng.choice(("phi2", "tinyllama", "claude-sonnet"))
            line = json.dumps({"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns / 1e9)) + "Z",
                               "level": level.upper(), "message": "upstream error" if level == "error" else "completed",
                               "model": model, "backend": "local", "duration_ms": rng.randrange(20, 2000)})
            ts, texts = self.streams.setdefault((job, level), ([], []))
            ts.append(ns)
            texts.append(line)
        self.server_ms: list[float] = []

    def select(self, query: str, start: int, end: int, limit: int, forward: bool) -> list[dict]:
        jobs = set(re.findall(r'job="([^"]+)"', query)) or set(JOBS)
        hits = []
        for (job, level), (ts, texts) in self.streams.items():
            if job not in jobs:
                continue
            lo, hi = bisect.bisect_left(ts, start), bisect.bisect_left(ts, end)
            hits.extend((ts[i], job, level, texts[i]) for i in range(lo, hi))
        hits.sort(key=lambda h: h[0], reverse=not forward)
        out: dict[tuple[str, str], list] = {}
        for ns, job, level, text in hits[:limit]:
            out.setdefault((job, level), []).append([str(ns), text])
        return [{"stream": {"job": j, "level": lv, "service_name": j}, "values": v} for (j, lv), v in out.items()]

    def volume(self, start: int, end: int, step_s: int) -> list[dict]:
        """count_over_time per step, by level: bucket ending at t counts (t - step, t]."""
        step = step_s * 10**9
        result = []
        for level in LEVELS:
            ts = sorted(ns for (_, lv), (stamps, _) in self.streams.items() if lv == level for ns in stamps)
            values = []
            for t in range(start + step, end + step, step):
                n = bisect.bisect_right(ts, t) - bisect.bisect_right(ts, t - step)
                if n:
                    values.append([t / 1e9, str(n)])
            result.append({"metric": {"level": level}, "values": values})
        return result

    def answer(self, path: str, params: dict[str, str]) -> bytes:
        if path == "/loki/api/v1/labels":
            return json.dumps({"status": "success", "data": ["job", "level", "service_name"]}).encode()
        query = params.get("query", "")
        start, end = int(params["start"]), int(params["end"])
        if query.startswith("sum by (level)"):
            data = {"resultType": "matrix", "result": self.volume(start, end, int(float(params["step"]))),
                    "stats": STATS}
        else:
            result = self.select(query, start, end, int(params.get("limit", "100")),
                                 params.get("direction") == "forward")
            data = {"resultType": "streams", "result": result, "stats": STATS}
        return json.dumps({"status": "success", "data": data}, separators=(",", ":")).encode()


def serve_forever(lines: int, now_ns: int, port_queue) -> None:
    """Runs in a child process: Loki is another process, so its CPU does not steal our GIL."""
    gen = Generator(lines, now_ns)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802
            t0 = time.perf_counter()
            parts = urlsplit(self.path)
            if parts.path == "/bench/handler_ms":
                body = json.dumps(gen.server_ms).encode()
                gen.server_ms = []
            else:
                body = gen.answer(parts.path, dict(parse_qsl(parts.query)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            if "count_over_time" not in parts.query and parts.path.endswith("query_range"):
                gen.server_ms.append((time.perf_counter() - t0) * 1000)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


class BenchApp(App):
    BINDINGS = [Binding("l", "logs", "Logs")]

    def __init__(self, ctx: AppContext, request: LogRequest) -> None:
        super().__init__()
        self.ctx, self.request = ctx, request

    def action_logs(self) -> None:
        self.push_screen(LogsScreen(self.ctx, self.request))


async def screen_time(url: str, limit: int, start: float, end: float, presses: int) -> tuple[list[float], int]:
    """Times of `presses` successive `l` presses in one session (the first pays for the
    HTTP client and connection; later ones reuse them, as in a running dashboard)."""
    ctx = AppContext(Config(), loki=LokiClient(Endpoint(url)), clock=time.time)
    app = BenchApp(ctx, LogRequest('{job=~".+"}', start, end, "bench", limit=limit))
    times, count = [], 0
    async with app.run_test(size=(160, 48)) as pilot:
        for _ in range(presses):
            await pilot.pause()
            t0 = time.perf_counter()
            app.simulate_key("l")  # the key path, without Pilot's idle waits (~200 ms) in the timing
            while True:
                screen = app.screen
                if isinstance(screen, LogsScreen) and screen.loaded:
                    lines = screen.query_one(LogLines)
                    if lines._strips:  # render_line ran for the new rows: the first screen is drawn
                        break
                await asyncio.sleep(0.0005)
            times.append(time.perf_counter() - t0)
            count = lines.count
            await app.workers.wait_for_complete()
            app.pop_screen()
        await ctx.aclose()
    return times, count


async def raw_time(url: str, limit: int, start: float, end: float) -> float:
    params = {"query": '{job=~".+"}', "start": str(int(start * 1e9)), "end": str(int(end * 1e9)),
              "limit": str(limit), "direction": "backward"}
    async with httpx.AsyncClient() as client:
        t0 = time.perf_counter()
        r = await client.get(url + "/loki/api/v1/query_range", params=params)
        r.json()
        return time.perf_counter() - t0


def main() -> None:
    import multiprocessing

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--limit", type=int, default=1000)
    args = ap.parse_args()
    now = time.time()
    ports = multiprocessing.Queue()
    proc = multiprocessing.Process(target=serve_forever, args=(args.lines, int(now * 1e9), ports), daemon=True)
    proc.start()
    url = f"http://127.0.0.1:{ports.get(timeout=60)}"
    start, end = now - 900, now
    try:
        raw = [asyncio.run(raw_time(url, args.limit, start, end)) for _ in range(args.runs)]
        httpx.get(url + "/bench/handler_ms")  # reset
        cold, warm, count = [], [], 0
        for _ in range(args.runs):
            times, count = asyncio.run(screen_time(url, args.limit, start, end, presses=3))
            cold.append(times[0])
            warm.extend(times[1:])
        handler_ms = statistics.median(httpx.get(url + "/bench/handler_ms").json() or [0.0])
        r_ms = statistics.median(raw) * 1000
        w_ms, c_ms = statistics.median(warm) * 1000, statistics.median(cold) * 1000
        target = 1.5 * r_ms + 100
        print(f"lines on screen: {count} (limit {args.limit}, {args.lines} generated), medians of {args.runs} sessions")
        print(f"server handler time (select, encode, write):     {handler_ms:7.1f} ms")
        print(f"server round trip (plain httpx GET + json):      {r_ms:7.1f} ms")
        print(f"`l` -> first screen drawn, warm client:          {w_ms:7.1f} ms   (min {min(warm) * 1000:.1f})")
        print(f"`l` -> first screen drawn, first Loki call:      {c_ms:7.1f} ms   (min {min(cold) * 1000:.1f})")
        print(f"target 1.5 x round trip + 100 ms = {target:.1f} ms: warm {'MET' if w_ms <= target else 'MISSED'}, "
              f"first call {'MET' if c_ms <= target else 'MISSED'}")
    finally:
        proc.terminate()
        proc.join(5)


if __name__ == "__main__":
    main()
