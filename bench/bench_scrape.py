"""Direct-scrape costs: parsing, memory per kept series, and evaluating the five seeds' signals.

Why: in direct-scrape mode llmwatch is its own Prometheus, in Python. Three numbers decide if
that is viable on a small box:
  1. parse a 10,000-sample page (target < 50 ms; a big vLLM page is ~1,500 lines);
  2. memory per kept series at the default retention (1 h at 5 s = 720 points), measured with
     tracemalloc, next to the bound probes/scrape_store.py states (16 B/point + SERIES_OVERHEAD),
     and a dashboard range query (1 h at 15 s) over that store, with the longest slice the
     event loop is blocked for;
  3. latency of one round of every signal of the five seed systems (tinycode, dev-pynode,
     hybrid-ai-stack, ai-forge, code-llm-api) over the real synthetic stack, scraped directly.

    .venv/bin/python bench/bench_scrape.py [--rounds 20] [--window 10]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from probes.config import Config, Price, Routing  # noqa: E402
from probes.detect import detect  # noqa: E402
from probes.exposition import parse  # noqa: E402
from probes.profiles import builtin_profiles  # noqa: E402
from probes.promql_query import RangeEval  # noqa: E402
from probes.scrape import RANGE_SLICE_S, ScrapeClient  # noqa: E402
from probes.scrape_store import SERIES_OVERHEAD, Store  # noqa: E402
from probes.signals import evaluate, plan  # noqa: E402
from probes.synthetic import Stack  # noqa: E402

CFG = Config(prices={"gpt-4": Price(30, 60), "claude-sonnet": Price(3, 15)},
             routing=Routing(cloud_reference="claude-sonnet"))
SEEDS = {"tinycode", "dev-pynode", "hybrid-ai-stack", "ai-forge", "code-llm-api"}
BOUNDS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "+Inf")


def vllm_like_page(samples: int = 10_000) -> str:
    """A page shaped like vLLM's: histograms with model_name/engine labels, counters, gauges."""
    lines = ["# HELP vllm:e2e_request_latency_seconds Histogram of end to end request latency in seconds.",
             "# TYPE vllm:e2e_request_latency_seconds histogram"]
    k = 0
    while len(lines) < samples + 2:
        model = f"meta-llama/Llama-3.1-{k % 50}B-Instruct"
        for le in BOUNDS:
            lines.append(f'vllm:e2e_request_latency_seconds_bucket{{engine="{k}",le="{le}",model_name="{model}"}} '
                         f'{k * 7 + len(le)}.0')
        lines.append(f'vllm:e2e_request_latency_seconds_count{{engine="{k}",model_name="{model}"}} {k * 7}.0')
        lines.append(f'vllm:e2e_request_latency_seconds_sum{{engine="{k}",model_name="{model}"}} {k * 3.25}')
        lines.append(f'vllm:num_requests_running{{engine="{k}",model_name="{model}"}} {k % 13}.0')
        k += 1
    return "\n".join(lines[:samples + 2]) + "\n"


def bench_parse(rounds: int) -> None:
    page = vllm_like_page()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        parsed = parse(page, "text/plain; version=0.0.4")
        times.append(time.perf_counter() - t0)
    assert len(parsed.samples) == 10_000 and parsed.malformed == 0
    st = Store(retention_s=3600, max_series=20_000)
    ingest = []
    for i in range(rounds):
        t0 = time.perf_counter()
        st.ingest("vllm", "h:8000", 1_700_000_000_000 + i * 5000, parsed.samples)
        ingest.append(time.perf_counter() - t0)
    print(f"parse 10,000 samples ({len(page) / 1024:.0f} kB): median {statistics.median(times) * 1000:.1f} ms, "
          f"best {min(times) * 1000:.1f} ms (target < 50 ms)")
    print(f"ingest into the store: first (new series) {ingest[0] * 1000:.1f} ms, "
          f"then median {statistics.median(ingest[1:]) * 1000:.1f} ms")


def bench_memory(series: int = 2000, points: int = 720) -> None:
    page = vllm_like_page(series)
    samples = parse(page).samples
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    st = Store(retention_s=points * 5 + 60, max_series=series + 10)
    for i in range(points):
        st.ingest("vllm", "h:8000", 1_700_000_000_000 + i * 5000, samples)
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    stats = st.stats()
    per = used / stats["series"]
    overhead = per - 16 * points
    print(f"memory: {stats['series']} series x {points} points: {used / 1048576:.1f} MiB traced, "
          f"{per / 1024:.1f} KiB per series ({overhead:.0f} B beyond 16 B/point; stated SERIES_OVERHEAD "
          f"{SERIES_OVERHEAD} B); stats() estimate {stats['bytes'] / 1048576:.1f} MiB")
    end = 1_700_000_000_000 + (points - 1) * 5000
    for what, sel in (("one model, 12 buckets", '{engine="1"}'), ("every model, ~1,800 buckets", "")):
        q = f"histogram_quantile(0.95, sum by (le, model_name) (rate(vllm:e2e_request_latency_seconds_bucket{sel}[1m])))"
        job = RangeEval(st, q, end - 3_600_000, end, 15_000)
        slices = []
        while True:
            t0 = time.perf_counter()
            done = job.run(RANGE_SLICE_S)
            slices.append(time.perf_counter() - t0)
            if done:
                break
        assert job.result().ok
        print(f"range query 1 h at 15 s, p95 of {what}: {sum(slices) * 1000:.0f} ms CPU in {len(slices)} slices, "
              f"longest event-loop block {max(slices) * 1000:.1f} ms")


async def bench_signals(rounds: int, window: float) -> None:
    stack = Stack(seed=1234).start()
    try:
        client = ScrapeClient([(j, f"http://{a}/metrics") for j, a in stack.targets().items()], interval=0.5,
                              retention=600)
        await client.start()
        await asyncio.sleep(window + 2)
        det = await detect(client, builtin_profiles())
        systems = [d for d in det.systems if d.name in SEEDS]
        at = time.time()
        queries = sorted({q for d in systems for p in plan(d, CFG, window, at)
                          for q in (p.query, p.breakdown_query) if q})
        times, per_query = [], []
        for _ in range(rounds):
            t0 = time.perf_counter()
            values = await evaluate(client, systems, CFG, window)
            times.append(time.perf_counter() - t0)
            await asyncio.sleep(0.05)
        for q in queries:
            t0 = time.perf_counter()
            await client.query(q)
            per_query.append(time.perf_counter() - t0)
        ok = sum(v.state == "ok" for v in values)
        stats = client.stats()
        scrape = max(t["duration_s"] for t in stats["targets"].values())
        await client.aclose()
        print(f"signals: {len(systems)} seed systems, {len(queries)} queries, {ok}/{len(values)} ok; "
              f"one round median {statistics.median(times) * 1000:.1f} ms, p90 "
              f"{sorted(times)[int(len(times) * 0.9) - 1] * 1000:.1f} ms; per query median "
              f"{statistics.median(per_query) * 1000:.2f} ms, max {max(per_query) * 1000:.2f} ms")
        print(f"store: {stats['series']} series, {stats['samples']} samples, ~{stats['bytes'] / 1048576:.1f} MiB; "
              f"slowest target scrape {scrape * 1000:.1f} ms")
    finally:
        stack.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--window", type=float, default=10.0)
    args = ap.parse_args()
    bench_parse(args.rounds)
    bench_memory()
    asyncio.run(bench_signals(args.rounds, args.window))


if __name__ == "__main__":
    main()
