"""Benchmark: our PrometheusClient vs raw httpx vs prometheus-api-client (not a test; prints numbers).

Why it exists: the rule is "use prometheus-api-client unless measurement shows it cannot meet
1.3x of raw httpx, or cannot carry errorType/warnings". This script measures both halves on a
real Prometheus: a dashboard-like batch of ~40 distinct instant queries over Prometheus' own
metrics, issued concurrently, repeated, methods interleaved so drift hits all of them alike.

    .venv/bin/python bench/bench_prom_client.py [PROMETHEUS_URL] [--reps 30]

Without a URL it starts /usr/bin/prometheus (probes.synthetic.servers.PrometheusServer)
scraping itself every second, and waits for a few scrapes so rate() has data.
Needs the `bench` extra: .venv/bin/pip install prometheus-api-client
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from probes.config import Endpoint  # noqa: E402
from probes.prometheus import PrometheusClient  # noqa: E402

_RATE_METRICS = [
    "prometheus_http_requests_total", "prometheus_tsdb_head_samples_appended_total",
    "process_cpu_seconds_total", "prometheus_target_scrapes_sample_out_of_order_total",
    "go_gc_duration_seconds_count", "prometheus_engine_query_duration_seconds_count",
    "prometheus_http_response_size_bytes_count", "prometheus_sd_discovered_targets",
]
_HISTOGRAMS = ["prometheus_http_request_duration_seconds", "prometheus_http_response_size_bytes",
               "prometheus_tsdb_compaction_chunk_range_seconds"]


def queries() -> list[str]:
    """40 distinct queries shaped like the dashboard's: rates, sums by label, quantiles, ratios."""
    qs: list[str] = []
    for m in _RATE_METRICS:
        qs.append(f"sum(rate({m}[1m]))")
        qs.append(f"sum by (job) (rate({m}[1m]))")
    for h in _HISTOGRAMS:
        for q in (0.5, 0.95, 0.99):
            qs.append(f"histogram_quantile({q}, sum by (le) (rate({h}_bucket[1m])))")
        qs.append(f"sum by (handler) (rate({h}_count[1m]))")
    qs += [
        'sum(rate(prometheus_http_requests_total{code=~"5.."}[1m])) / sum(rate(prometheus_http_requests_total[1m]))',
        "sum by (handler, code) (rate(prometheus_http_requests_total[1m]))",
        "topk(5, sum by (handler) (rate(prometheus_http_request_duration_seconds_sum[1m])))",
        "up", "sum(up)", "count(up == 0)",
        "process_resident_memory_bytes", "prometheus_tsdb_head_series",
        "go_goroutines", "time() - process_start_time_seconds",
        "rate(process_cpu_seconds_total[5m]) * 100",
        "sum(scrape_samples_scraped)",
    ]
    assert len(set(qs)) == len(qs)
    return qs[:40]


async def run_raw(client: httpx.AsyncClient, url: str, qs: list[str]) -> int:
    async def one(q: str) -> int:
        r = await client.get(f"{url}/api/v1/query", params={"query": q})
        return len(json.loads(r.content)["data"]["result"])
    return sum(await asyncio.gather(*(one(q) for q in qs)))


async def run_ours(client: PrometheusClient, qs: list[str]) -> int:
    results = await asyncio.gather(*(client.query(q) for q in qs))
    bad = [r.error for r in results if not r.ok]
    if bad:
        raise RuntimeError(f"llmwatch query failed: {bad[0]}")
    return sum(len(r.samples) + len(r.series) for r in results)


async def run_pac(pc, qs: list[str]) -> int:
    results = await asyncio.gather(*(asyncio.to_thread(pc.custom_query, q) for q in qs))
    return sum(len(r) for r in results)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def bench(url: str, reps: int) -> dict[str, list[float]]:
    from prometheus_api_client import PrometheusConnect

    qs = queries()
    raw = httpx.AsyncClient(trust_env=False)
    ours = PrometheusClient(Endpoint(url))
    pac = PrometheusConnect(url=url, disable_ssl=True)
    methods = {
        "a raw httpx": lambda: run_raw(raw, url, qs),
        "b llmwatch PrometheusClient": lambda: run_ours(ours, qs),
        "c prometheus-api-client": lambda: run_pac(pac, qs),
    }
    times: dict[str, list[float]] = {name: [] for name in methods}
    cpu: dict[str, float] = {name: 0.0 for name in methods}
    counts = {}
    for name, fn in methods.items():  # warm-up: connections, thread pool, imports
        counts[name] = await fn()
    for _ in range(reps):
        for name, fn in methods.items():
            start, cpu0 = time.perf_counter(), time.process_time()
            await fn()
            times[name].append(time.perf_counter() - start)
            cpu[name] += time.process_time() - cpu0
    await raw.aclose()
    await ours.aclose()
    pac.close()
    print(f"{len(qs)} concurrent instant queries per batch, {reps} batches per method (interleaved)")
    print(f"series returned per batch: {counts}")
    print("client CPU ms per batch (this process, all threads): "
          + ", ".join(f"{name.split()[0]}={cpu[name] / reps * 1000:.1f}" for name in methods))
    return times


def report(times: dict[str, list[float]]) -> None:
    base = statistics.median(times["a raw httpx"])
    base90 = pct(times["a raw httpx"], 90)
    print(f"{'method':32} {'median ms':>10} {'p90 ms':>10} {'median/raw':>11} {'p90/raw':>9}")
    for name, ts in times.items():
        med, p90 = statistics.median(ts), pct(ts, 90)
        print(f"{name:32} {med * 1000:10.1f} {p90 * 1000:10.1f} {med / base:11.2f} {p90 / base90:9.2f}")


class _Canned(BaseHTTPRequestHandler):
    """Replays a success-with-warnings envelope and the recorded bad_data error."""

    def log_message(self, *a):
        pass

    hits = 0

    def do_GET(self):  # noqa: N802
        _Canned.hits += 1
        query = parse_qs(urlsplit(self.path).query).get("query", [""])[0]
        if query == "slow_query":
            status, doc = 503, {"status": "error", "errorType": "timeout",
                                "error": "query timed out in expression evaluation"}
        elif query == "bad(":
            status, doc = 400, {"status": "error", "errorType": "bad_data",
                                "error": 'invalid parameter "query": 1:41: parse error: unclosed left parenthesis'}
        else:
            status, doc = 200, {"status": "success", "warnings": ["partial response: store unreachable"],
                                "data": {"resultType": "vector", "result": []}}
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


async def capability() -> None:
    """What each client hands the caller for a warning and for an error (the second criterion)."""
    from prometheus_api_client import PrometheusApiClientException, PrometheusConnect

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    pac = PrometheusConnect(url=url)
    print("\ncapability (canned server on loopback):")
    print("  success with warnings:")
    print(f"    prometheus-api-client custom_query -> {pac.custom_query('up')!r}   "
          "(warnings dropped; only data.result: resultType is gone, so a scalar and a vector look alike)")
    async with PrometheusClient(Endpoint(url)) as c:
        r = await c.query("up")
        print(f"    llmwatch -> ok={r.ok} warnings={r.warnings}")
        print("  bad_data error:")
        try:
            pac.custom_query("bad(")
        except PrometheusApiClientException as exc:
            print(f"    prometheus-api-client raises {type(exc).__name__}: {exc}")
        r = await c.query("bad(")
        print(f"    llmwatch -> kind={r.error.kind!r} status={r.error.status} message={r.error.message!r}")
        print("  server-side timeout (503 errorType=timeout):")
        _Canned.hits, start = 0, time.perf_counter()
        try:
            pac.custom_query("slow_query")
        except Exception as exc:  # noqa: BLE001 - we print whatever it raises
            print(f"    prometheus-api-client: {_Canned.hits} requests, {time.perf_counter() - start:.1f}s, "
                  f"then {type(exc).__name__}: {str(exc)[:100]}")
        _Canned.hits, start = 0, time.perf_counter()
        r = await c.query("slow_query")
        print(f"    llmwatch: {_Canned.hits} request, {time.perf_counter() - start:.2f}s, kind={r.error.kind!r}")
    pac.close()
    httpd.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url", nargs="?")
    ap.add_argument("--reps", type=int, default=30)
    args = ap.parse_args()
    server = None
    url = args.url
    if not url:
        from probes.synthetic.servers import PrometheusServer, free_port

        port = free_port()
        server = PrometheusServer({"prometheus": f"127.0.0.1:{port}"}, port=port).start()
        url = server.url
        print(f"started Prometheus at {url}; letting it scrape itself for 8s")
        time.sleep(8)
    try:
        times = asyncio.run(bench(url.rstrip("/"), args.reps))
        report(times)
        asyncio.run(capability())
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
