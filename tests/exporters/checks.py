"""What llmwatch computes from the tier, read the way the dashboard and `llmwatch check` read it.

Both sources are asked the same things: the real Prometheus (PrometheusClient) and llmwatch's own
direct scrape (ScrapeClient). `signals_at` evaluates every signal of every detected system at one
instant through probes.signals.evaluate, the function the dashboard's stat row, `llmwatch check`
and `llmwatch doctor` all call, and asks Prometheus the very same PromQL at the same instant.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from probes.config import Endpoint, parse_config
from probes.prometheus import PrometheusClient
from tests.exporters import plans

SIGNALS = ("request_rate", "error_rate", "latency_p50", "latency_p95", "latency_p99", "tokens_in_rate",
           "tokens_out_rate", "cost_rate", "local_share", "savings_rate", "ttft_p95")


def config(extra: str = ""):
    import tomllib

    return parse_config(tomllib.loads(plans.config_toml(extra)), "tier.toml")


@dataclass
class Answer:
    value: Any             # the SignalValue llmwatch made
    prometheus: float | None   # Prometheus' own answer to the same PromQL at the same instant


async def _detect_and_eval(client, cfg, window: float, at: float | None) -> tuple[Any, list]:
    from probes.detect import detect
    from probes.profiles import load_profiles
    from probes.signals import evaluate

    det = await detect(client, load_profiles(None))
    values = await evaluate(client, det.systems, cfg, window, at=at, only=SIGNALS)
    return det, values


def fresh_snapshot(tier) -> dict[str, Any]:
    """Detection and signals while no request has been made yet (Prometheus and direct scrape)."""
    cfg = config()

    async def on_prom():
        client = PrometheusClient(tier.prometheus.endpoint)
        try:
            return await _detect_and_eval(client, cfg, 4.0, None)
        finally:
            await client.aclose()

    prom = asyncio.run(on_prom())
    direct = tier.run(_detect_and_eval(tier.scrape, cfg, 4.0, None))
    return {"prometheus": prom, "direct": direct}


def prom_value(url: str, query: str, at: float) -> float | None:
    body = httpx.get(f"{url}/api/v1/query", params={"query": query, "time": f"{at:.3f}"}, timeout=10).json()
    assert body["status"] == "success", body
    res = body["data"]["result"]
    if not res:
        return None
    v = float(res[0]["value"][1])
    return None if math.isnan(v) else v


def signals_at(tier, window: float, at: float, source: str = "prometheus") -> dict[tuple[str, str], Answer]:
    """{(job, signal): Answer} for every detected serving system, evaluated at `at`."""
    cfg = config()
    if source == "prometheus":
        async def run():
            client = PrometheusClient(Endpoint(tier.prometheus.url))
            try:
                return await _detect_and_eval(client, cfg, window, at)
            finally:
                await client.aclose()
        det, values = asyncio.run(run())
    else:
        det, values = tier.run(_detect_and_eval(tier.scrape, cfg, window, at))
    out = {}
    for v in values:
        theirs = prom_value(tier.prometheus.url, v.query, at) if v.query else None
        out[(v.job, v.signal)] = Answer(v, theirs)
    out[("", "__detection__")] = Answer(det, None)
    return out


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
