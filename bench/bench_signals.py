"""How long evaluating every signal takes, next to Prometheus alone answering the same queries.

Why: the dashboard re-evaluates every refresh; llmwatch's own work (rendering, concurrency,
parsing, states) must stay small next to Prometheus' (target: within 1.3x of raw httpx sending
the identical queries concurrently). Starts the synthetic stack and a real Prometheus on
loopback, waits for a window of samples, then alternates rounds of both and reports medians.

    .venv/bin/python bench/bench_signals.py [--rounds 30] [--window 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from probes.config import Config, Price, Routing  # noqa: E402
from probes.detect import detect  # noqa: E402
from probes.profiles import builtin_profiles  # noqa: E402
from probes.prometheus import PrometheusClient  # noqa: E402
from probes.signals import evaluate, plan  # noqa: E402
from probes.synthetic import Stack  # noqa: E402
from probes.synthetic.servers import PrometheusServer  # noqa: E402

CFG = Config(prices={"gpt-4": Price(30, 60), "claude-sonnet": Price(3, 15)},
             routing=Routing(cloud_reference="claude-sonnet"))
SEEDS = {"tinycode", "dev-pynode", "hybrid-ai-stack", "ai-forge", "code-llm-api"}


async def bench(url: str, endpoint, window: float, rounds: int) -> None:
    client = PrometheusClient(endpoint)
    det = await detect(client, builtin_profiles())
    systems = [d for d in det.systems if d.name in SEEDS]
    at = time.time()
    queries = sorted({q for d in systems for p in plan(d, CFG, window, at) for q in (p.query, p.breakdown_query) if q})
    print(f"{len(systems)} systems ({', '.join(sorted(d.name for d in systems))}), {len(queries)} queries per round")
    raw = httpx.AsyncClient(base_url=url, timeout=10)

    async def raw_round() -> None:
        resps = await asyncio.gather(*(raw.get("/api/v1/query", params={"query": q, "time": repr(at)}) for q in queries))
        for r in resps:
            r.raise_for_status()
            r.json()

    async def ours() -> None:
        vals = await evaluate(client, systems, CFG, window, at=at)
        assert not [v for v in vals if v.state == "error"], [v.reason for v in vals if v.state == "error"][:2]

    for _ in range(3):  # warm both paths (connections, Prometheus caches)
        await raw_round()
        await ours()
    t_raw, t_ours = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        await raw_round()
        t_raw.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        await ours()
        t_ours.append(time.perf_counter() - t0)
    r, o = statistics.median(t_raw), statistics.median(t_ours)
    print(f"raw httpx, same queries concurrently: median {r * 1000:.1f} ms (min {min(t_raw) * 1000:.1f})")
    print(f"llmwatch evaluate():                  median {o * 1000:.1f} ms (min {min(t_ours) * 1000:.1f})")
    print(f"ratio llmwatch / raw: {o / r:.2f}x (target <= 1.3x)")
    await raw.aclose()
    await client.aclose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--window", type=float, default=20.0)
    args = ap.parse_args()
    stack = Stack(seed=1234).start()
    prom = PrometheusServer(stack.targets(), scrape_interval="1s", evaluation_interval="1s").start()
    try:
        prom.wait_for_targets(timeout=45)
        time.sleep(args.window + 3)
        asyncio.run(bench(prom.url, prom.endpoint, args.window, args.rounds))
    finally:
        prom.stop()
        stack.stop()


if __name__ == "__main__":
    main()
