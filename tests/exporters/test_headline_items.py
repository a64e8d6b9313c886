"""The stack-level numbers on the five real apps together (issue 13, items 5, 6, 7, 9, 10, 11).

Headline: every system counts once, Code LLM API (an engine no gateway fronts) included, and each
stat says which systems it covers. Routing: the stack-wide local share is the traffic-weighted mean
of each system's, bars by provider or model. Status classes, the handler label and monitoring
routes on the real instrumentator; the OTel doubling buckets behind a "P95 <= 1.28 s".
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from probes.detect import Detected
from probes.profiles import load_profiles
from probes.prometheus import PrometheusClient
from probes.signals import evaluate
from tests.exporters.checks import config, signals_at
from tests.exporters.conftest import WINDOW_S
from tests.exporters.test_signals_truth import sampled_span
from tests.exporters.truth import truths

pytestmark = [pytest.mark.exporters, pytest.mark.integration]


def _instant(tier):
    from probes.dashboard_fetch import load_instant, load_meta

    async def run():
        client = PrometheusClient(tier.prometheus.endpoint)
        try:
            meta = await load_meta(client, load_profiles(None), 10)
            return meta, await load_instant(client, meta, config(), 10, at=tier.t_end)
        finally:
            await client.aclose()
    return asyncio.run(run())


@pytest.fixture(scope="module")
def instant(tier):
    return _instant(tier)


def test_now_window_is_at_least_four_scrapes_and_a_minute(instant):
    meta, inst = instant
    assert meta.scrape_interval == 1.0 and inst.window == 60.0  # item 9 (shown as "Now (rates over 1m)")


def test_headline_counts_every_system_once_and_says_which(instant):
    _, inst = instant
    rates = {(v.system, v.job): v for v in inst.values if v.signal == "request_rate" and v.state == "ok"}
    stats = {s.key: s for s in inst.stats}
    jobs = {"code-llm-api", "dev-pynode", "api-gateway", "genai-chat", "genai-legacy", "litellm"}
    assert {j for _, j in rates} == jobs
    assert stats["req"].value == pytest.approx(sum(v.value for v in rates.values()), rel=1e-12)
    for title in ("Code LLM API", "Dev-PyNode", "Hybrid AI Stack", "LiteLLM", "OpenTelemetry GenAI"):
        assert title in stats["req"].detail, stats["req"].detail
    tok = [v for v in inst.values if v.signal in ("tokens_in_rate", "tokens_out_rate") and v.state == "ok"]
    assert stats["tok"].value == pytest.approx(sum(v.value for v in tok), rel=1e-12)
    assert "Code LLM API" in stats["tok"].detail and "Hybrid" not in stats["tok"].detail  # no token metrics there


def test_routing_is_stack_wide_and_by_provider_or_model(instant):
    _, inst = instant
    rates = {v.job: v.value for v in inst.values if v.signal == "request_rate" and v.state == "ok"}
    mine = [v for v in inst.local_shares if v.state == "ok"]
    assert {v.job for v in mine} == {"dev-pynode", "api-gateway", "genai-chat", "genai-legacy", "litellm"}
    want = sum(v.value * rates[v.job] for v in mine) / sum(rates[v.job] for v in mine)
    assert inst.local_share.title == "stack-wide" and inst.local_share.value == pytest.approx(want, rel=1e-12)
    assert inst.routing and not [b for b in inst.routing if "/" in b.label.split(": ", 1)[-1].split(",")[0]]
    assert sum(b.share for b in inst.routing) == pytest.approx(1.0)
    assert {"Dev-PyNode: ollama, llama3", "Hybrid AI Stack: local, tinyllama"} <= {b.label for b in inst.routing}


def test_instrumentator_status_classes_handler_label_and_monitoring_routes(tier):
    """The generic HTTP profile on the FastAPI app: status="5xx" read as errors, handler as the
    route, /metrics and /health left out (and counted again with include_monitoring)."""
    http = next(p for p in load_profiles(None) if p.name == "http")
    names = frozenset({"http_requests_total", "http_request_duration_seconds_count"})
    d = Detected(http, "code-llm-api", ("http_requests_total",), names, 1.0)

    async def run(cfg):
        client = PrometheusClient(tier.prometheus.endpoint)
        try:
            return {v.signal: v for v in await evaluate(client, [d], cfg, WINDOW_S, at=tier.t_end)}
        finally:
            await client.aclose()
    vals = asyncio.run(run(config()))
    first, last = sampled_span(tier, "code-llm-api")
    done = tier.logs["code-llm-api"].done_in(first, last)
    truth = truths("code-llm-api", done, last - first, started=done)  # the instrumentator counts on completion
    assert truth["error_rate"].holds(vals["error_rate"].value), (vals["error_rate"].value, truth["error_rate"].text())
    assert truth["request_rate"].holds(vals["request_rate"].value)
    assert [dict(p.labels) for p in vals["request_rate"].breakdown] == [{"handler": "/generate"}]
    everything = asyncio.run(run(config("[traffic]\ninclude_monitoring = true\n")))
    # two scrapers (Prometheus and the direct scrape) hit /metrics every second
    assert everything["request_rate"].value > vals["request_rate"].value + 1.5


def test_wide_otel_bucket_is_said_and_the_slo_does_not_fire_on_it(tier, tmp_path):
    vals = signals_at(tier, WINDOW_S, tier.t_end)
    p95 = vals[("genai-chat", "latency_p95")].value
    assert p95.bucket == (0.64, 1.28) and p95.value > 1.0          # interpolated about 1.19 s
    assert max(r.kind.handling for r in tier.logs["genai-chat"].records) == 0.9   # none took 1 s
    assert p95.text == "<= 1.28 s" and p95.note == "bucket 0.64-1.28 s"
    cfg = tmp_path / "slo.toml"
    cfg.write_text(f'[prometheus]\nurl = "{tier.prometheus.url}"\n[slo]\nlatency_p95 = "1s"\nwindow = "5m"\n')
    out = subprocess.run([str(Path(sys.executable).with_name("llmwatch")), "check", "--config", str(cfg),
                          "--only", "slo:otel-genai:genai-chat:*", "--format", "json"], capture_output=True,
                         text=True, timeout=60, env={"PATH": os.environ.get("PATH", ""), "HOME": "/tmp"})
    [res] = json.loads(out.stdout)["checks"]
    assert res["status"] == "OK", res
    assert res["summary"].startswith("p95 <= 1.28 s, bucket 0.64-1.28 s: the buckets cannot tell"), res
