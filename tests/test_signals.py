"""Signal evaluation on a fake Prometheus client (our own collaborator, faked by query text):
states (ok, not_exported, no_traffic, no_data, error), breakdowns, no NaN anywhere, cost
from prices, concurrency and de-duplication."""

from __future__ import annotations

import asyncio
import math
import re


from probes.config import Config, Price, Routing
from probes.detect import Detected
from probes.profiles import builtin_profiles
from probes.promtypes import ApiError, QueryResult, Sample
from probes.signals import evaluate, signal_query


class FakeProm:
    """Answers queries by the first (regex, answer) rule that matches; counts calls."""

    def __init__(self, rules):
        self.rules = rules
        self.calls: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def query(self, promql, at=None, timeout=None):
        self.calls.append(promql)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0.001)
        self.in_flight -= 1
        for pattern, answer in self.rules:
            if re.search(pattern, promql):
                if isinstance(answer, ApiError):
                    return QueryResult(promql, False, error=answer)
                samples = tuple(Sample(labels, value, 0.0) for labels, value in answer)
                return QueryResult(promql, True, "vector", samples)
        return QueryResult(promql, True, "vector", ())


def profile(name):
    return next(p for p in builtin_profiles() if p.name == name)


def det(name, job, metrics=None):
    p = profile(name)
    return Detected(p, job, tuple(sorted(p.detect_all + p.detect_any)),
                    frozenset(metrics) if metrics is not None else None)


def by_signal(values):
    return {v.signal: v for v in values}


NAN = math.nan


async def test_llamacpp_missing_signals_are_not_exported_never_zero():
    client = FakeProm([(r"llamacpp:tokens_predicted_total", [({}, 12.0)]), (r".", [({}, 1.0)])])
    vals = by_signal(await evaluate(client, [det("llamacpp", "llama")], Config(), 30))
    for name in ("request_rate", "latency_p95", "error_rate", "ttft_p95"):
        v = vals[name]
        assert v.state == "not_exported" and v.value is None and v.query == ""
        assert "llama.cpp" in v.reason
    assert vals["latency_p95"].text == "not exported"
    assert vals["tokens_out_rate"].state == "ok" and vals["tokens_out_rate"].value == 12.0


async def test_no_traffic_maps_nan_quantiles_and_ratios():
    client = FakeProm([
        (r"histogram_quantile", [({}, NAN)]),
        (r"^\(sum \(rate\(tinyllama_errors_total", [({}, NAN)]),
        (r"^sum \(rate\(tinyllama_requests_total", [({}, 0.0)]),
        (r".", [({}, 5.0)]),
    ])
    vals = by_signal(await evaluate(client, [det("tinycode", "tinycode")], Config(), 30))
    assert vals["request_rate"].state == "ok" and vals["request_rate"].value == 0.0
    for name in ("latency_p50", "latency_p95", "latency_p99", "error_rate"):
        assert vals[name].state == "no_traffic", vals[name]
        assert vals[name].value is None and vals[name].text == "no traffic"
        assert "30s" in vals[name].reason


async def test_nan_with_traffic_is_no_data_with_a_reason():
    client = FakeProm([(r"histogram_quantile", [({}, NAN)]), (r".", [({}, 3.0)])])
    vals = by_signal(await evaluate(client, [det("tinycode", "tinycode")], Config(), 30))
    assert vals["latency_p95"].state == "no_data" and "NaN" in vals["latency_p95"].reason
    assert vals["latency_p95"].text == "no data"


async def test_empty_result_is_no_data_not_zero():
    client = FakeProm([(r"tinyllama_concurrent_requests", []), (r".", [({}, 3.0)])])
    vals = by_signal(await evaluate(client, [det("tinycode", "tinycode")], Config(), 30))
    assert vals["in_flight"].state == "no_data" and vals["in_flight"].value is None
    assert "no samples" in vals["in_flight"].reason


async def test_prometheus_error_is_error_state_with_its_message():
    boom = ApiError("bad_data", "Prometheus at http://x: parse error: unexpected", 400)
    client = FakeProm([(r"tinyllama_errors_total", boom), (r".", [({}, 3.0)])])
    vals = by_signal(await evaluate(client, [det("tinycode", "tinycode")], Config(), 30))
    assert vals["error_rate"].state == "error" and "parse error" in vals["error_rate"].reason
    assert vals["request_rate"].state == "ok"


async def test_breakdown_per_gpu_without_nan():
    gpu = lambda i: {"gpu": str(i), "Hostname": "n1", "modelName": "H100", "UUID": f"u{i}"}  # noqa: E731
    client = FakeProm([
        (r"by \(Hostname, hostname, gpu, modelName\) \(DCGM_FI_DEV_GPU_UTIL", [(gpu(0), 62.0 / 100), (gpu(1), NAN)]),
        (r"DCGM_FI_DEV_GPU_UTIL", [({}, 0.43)]),
        (r".", [({}, 1.0)]),
    ])
    vals = by_signal(await evaluate(client, [det("dcgm", "dcgm")], Config(), 30))
    util = vals["gpu_util"]
    assert util.state == "ok" and util.value == 0.43 and util.unit == "ratio"
    assert [dict(p.labels)["gpu"] for p in util.breakdown] == ["0", "1"]
    assert util.breakdown[1].value is None  # NaN never leaves probes
    assert "UUID" not in dict(util.breakdown[0].labels)
    assert "request_rate" not in vals  # a GPU exporter is not asked for traffic signals


async def test_all_queries_concurrent_and_deduplicated():
    client = FakeProm([(r".", [({}, 1.0)])])
    ds = [det("tinycode", "tinycode"), det("hybrid-ai-stack", "api-gateway"), det("vllm", "vllm")]
    cfg = Config(prices={"claude-sonnet": Price(3, 15)}, routing=Routing(cloud_reference="claude-sonnet"))
    vals = await evaluate(client, ds, cfg, 30)
    assert len(client.calls) == len(set(client.calls))
    # every signal query in one concurrent round; the quantiles' bucket bounds in a second one
    signal_calls = [c for c in client.calls if not c.startswith("count by (le)")]
    assert client.max_in_flight == len(signal_calls) > 20
    for v in vals:
        assert v.state in ("ok", "not_exported", "no_data", "no_traffic", "error")
        assert v.value is None or not math.isnan(v.value)
        assert "nan" not in v.text.lower()


async def test_priced_cost_from_tokens_times_prices():
    cfg = Config(prices={"gpt-4": Price(30, 60), "llama3": Price(0, 0)})
    q = signal_query(det("dev-pynode", "dev-pynode"), "cost_rate", cfg, 30, by=())
    assert 'model="gpt-4"' in q and 'model="llama3"' in q
    assert "3e-05" in q and "6e-05" in q  # USD per token
    assert q.endswith("* 3600") and 'job="dev-pynode"' in q
    assert "[30s]" in q


async def test_cost_without_prices_says_what_to_add():
    client = FakeProm([(r".", [({}, 1.0)])])
    vals = by_signal(await evaluate(client, [det("dev-pynode", "dev-pynode")], Config(), 30))
    assert vals["cost_rate"].state == "no_data" and "[prices]" in vals["cost_rate"].reason
    assert vals["savings_rate"].state == "no_data" and "cloud_reference" in vals["savings_rate"].reason


async def test_local_providers_come_from_config():
    cfg = Config(routing=Routing(local_providers=("my-gpu-box",)))
    q = signal_query(det("dev-pynode", "dev-pynode"), "local_share", cfg, 30, by=())
    assert 'provider=~"my\\\\-gpu\\\\-box"' in q or 'provider=~"my-gpu-box"' in q
    assert "ollama" not in q


async def test_alternatives_follow_the_metrics_the_job_has():
    with_http = det("vllm", "vllm", {"http_requests_total", "vllm:request_success_total"})
    without = det("vllm", "vllm", {"vllm:request_success_total"})
    assert "http_requests_total" in signal_query(with_http, "request_rate", Config(), 30, by=())
    assert "vllm:request_success_total" in signal_query(without, "request_rate", Config(), 30, by=())
    legacy = det("vllm", "vllm", {"vllm:gpu_cache_usage_perc"})
    assert signal_query(legacy, "kv_cache_usage", Config(), 30, by=()) is not None
    none = det("vllm", "vllm", {"vllm:request_success_total"})  # serving (1 req/s) without a KV metric
    client = FakeProm([(r".", [({}, 1.0)])])
    vals = by_signal(await evaluate(client, [none], Config(), 30))
    assert vals["kv_cache_usage"].state == "not_exported"
    assert "vllm:kv_cache_usage_perc" in vals["kv_cache_usage"].reason


async def test_range_query_catalogue_with_any_breakdown():
    d = det("hybrid-ai-stack", "api-gateway")
    q = signal_query(d, "latency_p95", Config(), 61, by=("model",))
    assert q == ('histogram_quantile(0.95, sum by (le, model) (rate(api_gateway_request_duration_seconds_bucket'
                 '{job="api-gateway"}[1m1s])))')
    assert signal_query(d, "tokens_in_rate", Config(), 61) is None  # not exported


async def test_headline_must_aggregate_to_one_series():
    client = FakeProm([(r"tinyllama_concurrent_requests", [({"a": "1"}, 1.0), ({"a": "2"}, 2.0)]),
                       (r".", [({}, 1.0)])])
    vals = by_signal(await evaluate(client, [det("tinycode", "tinycode")], Config(), 30))
    assert vals["in_flight"].state == "error" and "aggregate" in vals["in_flight"].reason


async def test_a_client_exception_becomes_an_error_value():
    class Broken(FakeProm):
        async def query(self, promql, at=None, timeout=None):
            raise RuntimeError("socket closed")
    vals = await evaluate(Broken([]), [det("node", "node")], Config(), 30)
    assert vals and all(v.state == "error" and "socket closed" in v.reason for v in vals)


def test_plan_only_keeps_named_signals_and_the_traffic_signal():
    from probes.config import Config
    from probes.detect import match_profiles
    from probes.profiles import builtin_profiles
    from probes.signals import plan

    [gw] = [d for d in match_profiles(builtin_profiles(), {"api-gateway": {"api_gateway_requests_total"}})
            if d.profile.name == "hybrid-ai-stack"]
    names = {p.sdef.name for p in plan(gw, Config(), 60.0, 0.0, only=("error_rate",))}
    assert names == {"error_rate", gw.profile.traffic}
    assert len(plan(gw, Config(), 60.0, 0.0)) > len(names)


async def test_a_fresh_system_reads_no_traffic_yet_not_not_exported():
    """Issue 13, item 2: labelled counters appear with the first request; before that a detected
    system is idle ("no traffic yet"), whether its metrics are absent or its queries match nothing."""
    fresh = det("dev-pynode", "dev-pynode", {"active_connections", "nodejs_version_info", "http_requests_total"})
    client = FakeProm([(r".", [])])   # nothing matches: only Prometheus' scrapes of /metrics exist
    vals = by_signal(await evaluate(client, [fresh], Config(), 30))
    for name in ("request_rate", "latency_p95", "error_rate", "tokens_out_rate", "local_share"):
        assert (vals[name].state, vals[name].reason) == ("no_traffic", "no traffic yet"), (name, vals[name])
    assert vals["ttft_p95"].state == "not_exported"   # declared missing: never "yet"
    serving = det("dev-pynode", "dev-pynode", {"http_requests_total"})
    vals = by_signal(await evaluate(FakeProm([(r".", [({}, 2.0)])]), [serving], Config(), 30))
    assert vals["tokens_out_rate"].state == "not_exported"  # traffic but no AI counters: a real gap


async def test_a_down_system_is_kept_and_says_so():
    from dataclasses import replace as _replace

    down = _replace(det("hybrid-ai-stack", "api-gateway"), down="connection refused")
    client = FakeProm([(r".", [({}, 1.0)])])
    vals = by_signal(await evaluate(client, [down], Config(), 30))
    assert vals["request_rate"].state == "down" and vals["request_rate"].text == "DOWN"
    assert vals["request_rate"].reason == "target down: connection refused"
    assert not client.calls  # nothing is asked of a target that is down
