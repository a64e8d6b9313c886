"""Correctness: every signal llmwatch computes agrees with the truth from the generator's events.

Real Prometheus 2.42 scrapes the synthetic stack every 1 s; llmwatch detects, renders and
evaluates; probes.synthetic.truth recomputes each number from the events that moved the
counters. Tolerances, and why:

- Truth windows are the exact sample interval (t1, tn] Prometheus used: rate() extrapolates
  the increase between the first and last sample in the window, so over (t1, tn] the count is
  exact up to events landing between a scrape's start and the service rendering the page (a few
  ms): we allow one event each side.
- Rates: relative 3 % plus that one event. Ratios (errors, local share): one event over the
  window's count, absolute.
- Quantiles: histogram_quantile interpolates inside the bucket where rank q*n falls; the true
  nearest-rank quantile lies in that same bucket (cumulative counts are integers), so the value
  must lie within that bucket's bounds; when one event of edge slack moves the rank across a
  bucket boundary the adjacent bucket is accepted.
- Label series born inside the window (a labelled counter appears at its first increment): the
  increments before their first scrape are invisible to rate(), in Grafana as here, since
  Prometheus never saw the 0. llmwatch keeps standard rate() semantics so its numbers match the
  user's own dashboards; the test counts such series (`x unless x offset <window>`) and widens
  the slack by one event per born series. On a long-running stack this is 0.
- Gauges (GPU, memory, KV cache, queue): exact, they are copied at scrape time.
"""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from probes.config import Config, Price, Routing
from probes.detect import detect
from probes.profiles import builtin_profiles
from probes.prometheus import PrometheusClient
from probes.signals import evaluate, plan
from probes.synthetic import truth

pytestmark = pytest.mark.integration

WINDOW = 30.0
PRICES = {"gpt-4": Price(30, 60), "llama3": Price(0.5, 0.5), "claude-sonnet": Price(3, 15),
          "meta-llama/Llama-3.1-8B-Instruct": Price(0.2, 0.4)}
CFG = Config(prices=PRICES, routing=Routing(cloud_reference="claude-sonnet"))


def run(coro):
    return asyncio.new_event_loop().run_until_complete(coro)


@pytest.fixture(scope="module")
def snapshot(stack, prometheus):
    """Detect and evaluate once (after >= WINDOW + 3 s of samples), with the truth windows."""
    from tests.harness.waiting import wait_for_samples

    wait_for_samples(prometheus.url, 'up{job="tinycode"}', n=int(WINDOW) + 4, timeout=90)

    async def go():
        client = PrometheusClient(prometheus.endpoint)
        try:
            det = await detect(client, builtin_profiles())
            at = time.time() - 1.5
            values = await evaluate(client, det.systems, CFG, WINDOW, at=at)
            spans = {}
            for job in det.jobs:
                res = await client.query(f'up{{job="{job}"}}[{int(WINDOW)}s]', at=at)
                pts = [t for s in res.series for t, _ in s.points]
                spans[job] = (min(pts), max(pts))
            buckets = {}
            for job, metric in [("tinycode", "tinyllama_request_duration_seconds_bucket"),
                                ("api-gateway", "api_gateway_request_duration_seconds_bucket"),
                                ("dev-pynode", "http_request_duration_seconds_bucket"),
                                ("ai-forge", "http_request_duration_seconds_bucket"),
                                ("code-llm-api", "generation_latency_seconds_bucket"),
                                ("vllm", "vllm:e2e_request_latency_seconds_bucket"),
                                ("vllm", "vllm:time_to_first_token_seconds_bucket"),
                                ("litellm", "litellm_request_total_latency_metric_bucket"),
                                ("litellm", "litellm_llm_api_time_to_first_token_metric_bucket")]:
                res = await client.query(f'group by (le) ({metric}{{job="{job}"}})', at=at)
                buckets[(job, metric)] = sorted(float(s.labels["le"]) for s in res.samples)
            born = {}
            for job, fams in FAMILIES.items():
                n = 0
                for fam in fams:
                    sel = f'{fam}{{job="{job}"}}'
                    res = await client.query(f"count({sel} unless {sel} offset {int(WINDOW)}s)", at=at)
                    n += int(res.samples[0].value) if res.ok and res.samples else 0
                born[job] = n
            return det, values, spans, buckets, at, born
        finally:
            await client.aclose()

    det, values, spans, buckets, at, born = run(go())
    return {"det": det, "values": {(v.system, v.signal): v for v in values}, "spans": spans,
            "buckets": buckets, "stack": stack, "at": at, "born": born}


# the counter families each system's request, error and latency signals read
FAMILIES = {
    "tinycode": ["tinyllama_requests_total", "tinyllama_errors_total", "tinyllama_request_duration_seconds_count"],
    "dev-pynode": ["http_requests_total", "http_request_duration_seconds_count", "ai_requests_total"],
    "api-gateway": ["api_gateway_requests_total", "api_gateway_request_duration_seconds_count"],
    "ai-forge": ["http_requests_total", "http_request_duration_seconds_count"],
    "code-llm-api": ["generation_errors_total"],
    "vllm": ["http_requests_total", "vllm:request_success_total"],
    "litellm": ["litellm_proxy_total_requests_metric_total", "litellm_proxy_failed_requests_metric_total",
                "litellm_request_total_latency_metric_count", "litellm_deployment_success_responses_total"],
}


def val(snap, system, signal):
    v = snap["values"][(system, signal)]
    assert v.state == "ok", f"{system}.{signal}: {v.state} {v.reason} {v.query}"
    return v.value


def events(snap, job, where=None, ok_only=False, pred=None):
    t1, tn = snap["spans"][job]
    evs = truth.window(snap["stack"].events(job), t1, tn, where)
    if ok_only:
        evs = [e for e in evs if not e.error]
    if pred:
        evs = [e for e in evs if pred(e)]
    return evs, tn - t1


def assert_rate(got, n, dt, what, born=0):
    want = n / dt
    slack = 0.03 * want + (1.5 + born) / dt
    assert abs(got - want) <= slack, f"{what}: llmwatch {got:.4f}/s, truth {want:.4f}/s (+-{slack:.4f})"


def assert_ratio(got, num, den, what, born=0):
    want = num / den
    assert abs(got - want) <= (1.5 + born) / den + 1e-9, f"{what}: llmwatch {got:.4f}, truth {want:.4f} ({num}/{den})"


def assert_quantile(got, latencies, q, bounds, what, born=0):
    vals = sorted(latencies)
    assert vals, f"{what}: no events"
    k = max(1, math.ceil(q * len(vals)))
    ok = []
    for kk in range(max(1, k - 1 - born), min(len(vals), k + 1 + born) + 1):
        lo, hi = truth.bucket_bounds(vals[kk - 1], bounds)
        hi = hi if not math.isinf(hi) else max(bounds)
        ok.append((lo, hi))
    assert any(lo - 1e-9 <= got <= hi + 1e-9 for lo, hi in ok), \
        f"{what}: llmwatch {got:.4f} not in the true quantile's bucket(s) {ok} (true {vals[k - 1]:.4f})"


SEEDS = [("tinycode", "tinycode"), ("dev-pynode", "dev-pynode"), ("hybrid-ai-stack", "api-gateway"),
         ("ai-forge", "ai-forge"), ("code-llm-api", "code-llm-api")]


def test_detects_every_system_on_its_job(snapshot):
    found = {(d.name, d.job) for d in snapshot["det"].systems}
    for pair in SEEDS + [("vllm", "vllm"), ("litellm", "litellm"), ("dcgm", "dcgm")]:
        assert pair in found
    assert ("http", "ai-forge") not in found and ("http", "code-llm-api") not in found


# system -> (job, truth filter, ok_only, bucket metric, latency transform)
TRAFFIC = {
    "tinycode": ("tinycode", None, False, "tinyllama_request_duration_seconds_bucket", 1.0),
    "dev-pynode": ("dev-pynode", None, False, "http_request_duration_seconds_bucket", 1.0),
    "hybrid-ai-stack": ("api-gateway", None, False, "api_gateway_request_duration_seconds_bucket", 1.0),
    "ai-forge": ("ai-forge", None, False, "http_request_duration_seconds_bucket", 1.0),
    "code-llm-api": ("code-llm-api", {"handler": "/generate"}, True, "generation_latency_seconds_bucket", 0.97),
    "vllm": ("vllm", None, True, "vllm:e2e_request_latency_seconds_bucket", 1.0),
    "litellm": ("litellm", None, True, "litellm_request_total_latency_metric_bucket", 1.0),
}


def _traffic(e) -> bool:
    """Not a monitoring route (/metrics, /health*, /ready*...): those are not traffic (issue 13)."""
    import re

    from probes.promql import MONITORING_ROUTES

    route = e.labels.get("route") or e.labels.get("handler") or e.labels.get("endpoint") or ""
    return not re.fullmatch("|".join(MONITORING_ROUTES), route)


@pytest.mark.parametrize("system", sorted(TRAFFIC))
def test_request_rate_errors_and_latency(snapshot, system):
    job, where, lat_ok_only, bucket_metric, scale = TRAFFIC[system]
    evs, dt = events(snapshot, job, where, pred=_traffic)
    born = snapshot["born"][job]
    assert_rate(val(snapshot, system, "request_rate"), len(evs), dt, f"{system} request rate", born)
    assert_ratio(val(snapshot, system, "error_rate"), sum(e.error for e in evs), len(evs), f"{system} error rate",
                 born)
    lat = [e.latency_s * scale for e in evs if not (lat_ok_only and e.error)]
    bounds = snapshot["buckets"][(job, bucket_metric)]
    for q, name in ((0.5, "latency_p50"), (0.95, "latency_p95"), (0.99, "latency_p99")):
        assert_quantile(val(snapshot, system, name), lat, q, bounds, f"{system} {name}", born)


@pytest.mark.parametrize("system, job, direction", [
    ("tinycode", "tinycode", "out"), ("dev-pynode", "dev-pynode", "in"), ("dev-pynode", "dev-pynode", "out"),
    ("code-llm-api", "code-llm-api", "out"), ("vllm", "vllm", "in"), ("vllm", "vllm", "out"),
    ("litellm", "litellm", "in"), ("litellm", "litellm", "out")])
def test_tokens_per_second(snapshot, system, job, direction):
    evs, dt = events(snapshot, job)
    total = sum(e.tokens_in if direction == "in" else e.tokens_out for e in evs)
    got = val(snapshot, system, f"tokens_{direction}_rate")
    mean = total / max(1, len(evs))
    assert abs(got - total / dt) <= 0.03 * total / dt + 1.5 * mean / dt, (system, direction, got, total / dt)


def test_ttft(snapshot):
    for system, job, metric in (("vllm", "vllm", "vllm:time_to_first_token_seconds_bucket"),
                                ("litellm", "litellm", "litellm_llm_api_time_to_first_token_metric_bucket")):
        evs, _ = events(snapshot, job, ok_only=True)
        ttft = [e.latency_s * float(e.extra["ttft_share"]) for e in evs]
        assert_quantile(val(snapshot, system, "ttft_p95"), ttft, 0.95, snapshot["buckets"][(job, metric)],
                        f"{system} ttft p95")


def test_cost_per_hour(snapshot):
    # cost counters: the gateway's and LiteLLM's own dollars
    for system, job in (("hybrid-ai-stack", "api-gateway"), ("litellm", "litellm")):
        evs, dt = events(snapshot, job)
        want = sum(e.cost_usd for e in evs) / dt * 3600
        mean = want / max(1, len(evs))
        assert abs(val(snapshot, system, "cost_rate") - want) <= 0.03 * want + 1.5 * mean + 1e-9, system
    # token counters x [prices]
    for system, job in (("dev-pynode", "dev-pynode"), ("vllm", "vllm")):
        evs, dt = events(snapshot, job)
        usd = sum((e.tokens_in * PRICES[e.model].input + e.tokens_out * PRICES[e.model].output) / 1e6
                  for e in evs if e.model in PRICES)
        want = usd / dt * 3600
        priced = [e for e in evs if e.model in PRICES]
        mean = want / max(1, len(priced))
        assert abs(val(snapshot, system, "cost_rate") - want) <= 0.03 * want + 1.5 * mean + 1e-9, system
    assert val(snapshot, "hybrid-ai-stack", "spend_today") > 0


def test_local_share(snapshot):
    evs, _ = events(snapshot, "api-gateway")
    assert_ratio(val(snapshot, "hybrid-ai-stack", "local_share"), sum(e.backend == "local" for e in evs), len(evs),
                 "gateway local share")
    ai, _ = events(snapshot, "dev-pynode", {"route": "/api/ai/generate"})
    assert_ratio(val(snapshot, "dev-pynode", "local_share"), sum(e.backend == "ollama" for e in ai), len(ai),
                 "dev-pynode local share")
    served, _ = events(snapshot, "litellm", ok_only=True)
    assert_ratio(val(snapshot, "litellm", "local_share"),
                 sum(e.extra["served_model"] == "llama3.1" for e in served), len(served), "litellm local share",
                 snapshot["born"]["litellm"])


def test_gauges_exactly(snapshot):
    st = snapshot["stack"]
    g = st.gauges("dcgm")
    assert val(snapshot, "dcgm", "gpu_util") == pytest.approx((g["gpu0.util"] + g["gpu1.util"]) / 200)
    assert val(snapshot, "dcgm", "gpu_mem_used") == pytest.approx((g["gpu0.fb_used"] + g["gpu1.fb_used"]) * 2**20)
    total = sum(g[f"gpu{i}.{k}"] for i in (0, 1) for k in ("fb_used", "fb_free", "fb_reserved")) * 2**20
    assert val(snapshot, "dcgm", "gpu_mem_total") == pytest.approx(total)
    assert val(snapshot, "dcgm", "gpu_temp") == max(g["gpu0.temp"], g["gpu1.temp"])
    assert val(snapshot, "dcgm", "gpu_power") == pytest.approx(g["gpu0.power"] + g["gpu1.power"])
    per_gpu = {dict(p.labels)["gpu"]: p.value for p in snapshot["values"][("dcgm", "gpu_util")].breakdown}
    assert per_gpu == {"0": pytest.approx(g["gpu0.util"] / 100), "1": pytest.approx(g["gpu1.util"] / 100)}
    v = st.gauges("vllm")
    assert val(snapshot, "vllm", "kv_cache_usage") == pytest.approx(v["kv_cache_usage_perc"])
    assert val(snapshot, "vllm", "queue_length") == v["num_requests_waiting"]
    assert val(snapshot, "vllm", "in_flight") == v["num_requests_running"]
    assert val(snapshot, "tinycode", "process_mem") == st.gauges("tinycode")["memory_usage_bytes"]
    if "node" in st.services:
        n = st.gauges("node")
        assert val(snapshot, "node", "host_mem_used") == n["mem_total_bytes"] - n["mem_available_bytes"]
        assert val(snapshot, "node", "host_mem_total") == n["mem_total_bytes"]
    procs = {v.job: v.value for (s, sig), v in snapshot["values"].items() if s == "process"}
    assert len(snapshot["values"]) and all(x is None or x > 0 for x in procs.values())
    ups = val(snapshot, "targets", "targets_up")
    assert ups == val(snapshot, "targets", "targets_total") == len(st.targets())


def test_not_exported_signals_say_so(snapshot):
    vals = snapshot["values"]
    for system, signal in (("tinycode", "ttft_p95"), ("tinycode", "tokens_in_rate"), ("ai-forge", "tokens_out_rate"),
                           ("hybrid-ai-stack", "tokens_in_rate"), ("code-llm-api", "kv_cache_usage")):
        v = vals[(system, signal)]
        assert v.state == "not_exported" and v.value is None and v.reason, (system, signal)


def test_every_rendered_query_parses_on_real_prometheus(prometheus):
    """Every signal of every profile, headline and breakdown, scoped to a job: no bad_data."""
    from probes.detect import Detected

    async def go():
        client = PrometheusClient(prometheus.endpoint)
        try:
            queries = set()
            for p in builtin_profiles():
                d = Detected(p, None if p.is_global else "some-job", (), None)
                for pl in plan(d, CFG, 30.0):
                    queries |= {q for q in (pl.query, pl.breakdown_query) if q}
            results = await asyncio.gather(*(client.query(q) for q in sorted(queries)))
            return [(r.query, r.error) for r in results if not r.ok]
        finally:
            await client.aclose()

    failures = run(go())
    assert not failures, failures[:3]


def test_no_traffic_when_rate_is_zero(stack, prometheus, snapshot):
    """With the service's rate set to 0, quantiles and ratios are no_traffic, never NaN or 0."""
    window = 8.0
    stack.control("tinycode", rate=0)
    try:
        time.sleep(window + 3)

        async def go():
            client = PrometheusClient(prometheus.endpoint)
            try:
                det = await detect(client, builtin_profiles())
                d = [x for x in det.systems if x.name == "tinycode"]
                return {v.signal: v for v in await evaluate(client, d, CFG, window)}
            finally:
                await client.aclose()

        vals = run(go())
    finally:
        stack.control("tinycode", rate=None)
    assert vals["request_rate"].state == "ok" and vals["request_rate"].value == 0
    for name in ("latency_p50", "latency_p95", "latency_p99", "error_rate"):
        assert vals[name].state == "no_traffic", (name, vals[name])
        assert vals[name].text == "no traffic"
    assert vals["tokens_out_rate"].value == 0
