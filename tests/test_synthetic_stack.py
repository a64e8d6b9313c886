"""The synthetic stack over real loopback HTTP: names per seed, health shapes, invariants, truth."""

from __future__ import annotations

import json
import math
import time

import httpx
import pytest

from probes.synthetic import Stack, truth
from probes.synthetic.parse import MetricFamily, check_histograms, parse, sample_names
from tests.harness.paths import FIXTURES as FIXTURES_ROOT

FIXTURES = FIXTURES_ROOT / "prometheus"
PY_DEFAULT = ["0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1.0", "2.5", "5.0",
              "7.5", "10.0", "+Inf"]

# service -> {family: label names (without le)}; the application metrics each seed documents
EXPECTED: dict[str, dict[str, tuple[str, ...]]] = {
    "tinycode": {
        "tinyllama_requests_total": ("method", "endpoint", "status"),
        "tinyllama_request_duration_seconds": ("endpoint",),
        "tinyllama_errors_total": ("error_type", "endpoint"),
        "tinyllama_active_sessions": (), "tinyllama_concurrent_requests": (),
        "tinyllama_model_inference_time_seconds": ("model",),
        "tinyllama_model_requests_total": ("model", "status"),
        "tinyllama_model_errors_total": ("model", "error_type"),
        "tinyllama_tokens_generated_total": (), "tinyllama_context_length_bytes": (),
        "tinyllama_rag_search_duration_seconds": (), "tinyllama_rag_documents_indexed_total": (),
        "tinyllama_rag_cache_hits_total": (), "tinyllama_rag_cache_misses_total": (),
        "tinyllama_safety_checks_total": ("level", "result"),
        "tinyllama_plan_executions_total": ("risk_level", "status"),
        "tinyllama_backups_created_total": (), "tinyllama_rollbacks_total": (),
        "tinyllama_memory_usage_bytes": (), "tinyllama_cpu_usage_percent": (),
        "tinyllama_disk_usage_bytes": (), "tinyllama_file_handles_open": (),
    },
    "dev-pynode": {
        "http_request_duration_seconds": ("method", "route", "status_code"),
        "http_requests_total": ("method", "route", "status_code"),
        "active_connections": (), "database_connections_active": ("database",),
        "database_query_duration_seconds": ("query_type", "table"),
        "ai_requests_total": ("model", "provider", "status"),
        "ai_request_duration_seconds": ("model", "provider"),
        "ai_tokens_used_total": ("model", "provider", "token_type"),
        "process_resident_memory_bytes": (),
    },
    "api-gateway": {
        "api_gateway_requests_total": ("model", "backend", "status", "complexity"),
        "api_gateway_request_duration_seconds": ("model", "backend"),
        "api_gateway_requests_in_progress": (), "api_gateway_cost_total": ("model",),
        "api_gateway_cost_per_request": (), "api_gateway_model_latency_seconds": ("model",),
        "api_gateway_routing_latency_seconds": (), "api_gateway_health": (), "ollama_models_loaded": (),
    },
    "ai-forge": {
        "http_requests_total": ("handler", "method", "status"),
        "http_request_duration_seconds": ("handler", "method"), "http_requests_in_progress": (),
        "ai_forge_training_jobs_total": (), "ai_forge_training_jobs_failed_total": (),
        "ai_forge_training_job_duration_seconds": (), "ai_forge_training_loss": (),
        "process_resident_memory_bytes": (), "process_cpu_seconds_total": (),
        "python_gc_objects_collected_total": ("generation",),
    },
    "code-llm-api": {
        "generation_requests_total": (), "generation_tokens": (), "generation_latency_seconds": (),
        "active_generation_requests": (), "generation_errors_total": ("error_type",),
        "http_requests_total": ("handler", "method", "status"),
        "http_request_duration_seconds": ("handler", "method"),
        "http_request_duration_highr_seconds": (),
    },
    "vllm": {f"vllm:{n}": ("model_name", "engine") for n in (
        "num_requests_running", "num_requests_waiting", "kv_cache_usage_perc", "prompt_tokens_total",
        "generation_tokens_total", "num_preemptions_total", "prefix_cache_queries_total",
        "prefix_cache_hits_total", "time_to_first_token_seconds", "inter_token_latency_seconds",
        "e2e_request_latency_seconds", "request_queue_time_seconds", "request_inference_time_seconds",
        "request_prefill_time_seconds", "request_decode_time_seconds", "iteration_tokens_total")}
    | {"vllm:request_success_total": ("model_name", "engine", "finished_reason"),
       "http_requests_total": ("handler", "method", "status")},
    "litellm": {
        "litellm_proxy_total_requests_metric_total": ("requested_model", "status_code", "team", "user", "route",
                                                      "model_id"),
        "litellm_proxy_failed_requests_metric_total": ("requested_model", "exception_status", "exception_class"),
        "litellm_request_total_latency_metric": ("model", "requested_model", "team"),
        "litellm_llm_api_latency_metric": ("model", "requested_model"),
        "litellm_llm_api_time_to_first_token_metric": ("model",),
        "litellm_spend_metric_total": ("model", "api_provider", "team", "user"),
        "litellm_total_tokens_metric_total": ("model", "requested_model"),
        "litellm_input_tokens_metric_total": ("model", "requested_model"),
        "litellm_output_tokens_metric_total": ("model", "requested_model"),
        "litellm_deployment_total_requests_total": ("litellm_model_name", "api_base", "api_provider",
                                                    "requested_model"),
        "litellm_deployment_success_responses_total": ("litellm_model_name", "api_base", "api_provider",
                                                       "requested_model"),
        "litellm_deployment_failure_responses_total": ("litellm_model_name", "api_base", "api_provider",
                                                       "requested_model"),
        "litellm_deployment_state": ("litellm_model_name", "api_base", "api_provider"),
        "litellm_deployment_successful_fallbacks_total": ("requested_model", "fallback_model"),
        "litellm_deployment_failed_fallbacks_total": ("requested_model", "fallback_model"),
        "litellm_remaining_team_budget_metric": ("team",),
        # what a real 1.108.7 proxy also exports (reference section 5, observed in tests/exporters)
        "litellm_requests_metric_total": ("model", "requested_model", "api_provider"),
        "litellm_llm_api_failed_requests_metric_total": ("model",),
        "litellm_request_queue_time_seconds": ("model", "requested_model"),
        "litellm_overhead_latency_metric": ("model_group",),
        "litellm_in_flight_requests": (),
        "litellm_total_users": (),
    },
    "dcgm": {f"DCGM_FI_DEV_{n}": ("gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname") for n in (
        "GPU_UTIL", "FB_USED", "FB_FREE", "FB_RESERVED", "POWER_USAGE", "GPU_TEMP", "MEMORY_TEMP",
        "MEM_COPY_UTIL")},
    "node": {"node_memory_MemTotal_bytes": (), "node_memory_MemAvailable_bytes": ()},
}
# which recorded names (fixtures/prometheus/label_name_values.json) belong to which service
RECORDED_PREFIXES = {"tinycode": ("tinyllama_",), "api-gateway": ("api_gateway_", "ollama_models_loaded"),
                     "ai-forge": ("ai_forge_",), "code-llm-api": ("generation_", "active_generation"),
                     "vllm": ("vllm:",), "litellm": ("litellm_",), "dcgm": ("DCGM_",),
                     "dev-pynode": ("ai_request", "ai_tokens", "database_", "active_connections")}


@pytest.fixture(scope="module")
def stack():
    st = Stack("all", seed=7)
    for name, svc in st.services.items():
        if svc.traffic is not None:
            st.control(name, rate=40)
    st.control("litellm", error_rate=0.3)  # so fallbacks and failures have series, as recorded
    st.start()
    time.sleep(1.0)
    st.control("litellm", error_rate=None)
    yield st
    st.stop()


def scrape(st: Stack, name: str) -> tuple[float, dict[str, MetricFamily]]:
    r = httpx.get(st.url(name) + "/metrics", timeout=5, follow_redirects=True)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return float(r.headers["X-Synthetic-Time"]), parse(r.text)


def total(fams: dict[str, MetricFamily], sample: str, **match: str) -> float:
    fam_name = sample[: -len("_count")] if sample.endswith("_count") and sample not in fams else sample
    fam = fams.get(fam_name) or fams.get(sample)
    if fam is None:
        return 0.0
    return sum(s.value for s in fam.samples if s.name == sample and all(s.label(k) == v for k, v in match.items()))


@pytest.mark.parametrize("name", list(EXPECTED))
def test_metrics_parse_and_histograms_hold(stack: Stack, name: str) -> None:
    _, fams = scrape(stack, name)
    check_histograms(fams)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_metric_and_label_names_follow_the_seed(stack: Stack, name: str) -> None:
    _, fams = scrape(stack, name)
    for fam_name, labelnames in EXPECTED[name].items():
        assert fam_name in fams, f"{name}: {fam_name} missing"
        fam = fams[fam_name]  # labelled families fed by errors or fallbacks may still be empty
        for s in fam.samples:
            assert {k for k, _ in s.labels if k != "le"} == set(labelnames), (fam_name, s.labels)
    prefixes = RECORDED_PREFIXES.get(name, ())
    invented = {f for f in fams if f.startswith(prefixes) and not f.endswith("_created")} - set(EXPECTED[name])
    assert not invented, f"{name}: names the seed does not document: {invented}"


@pytest.mark.parametrize("name", list(RECORDED_PREFIXES))
def test_recorded_stack_names_are_all_exposed(stack: Stack, name: str) -> None:
    recorded = json.loads((FIXTURES / "label_name_values.json").read_text())["data"]
    _, fams = scrape(stack, name)
    ours = sample_names(fams)
    wanted = {n for n in recorded if n.startswith(RECORDED_PREFIXES[name])}
    if name == "dev-pynode":  # prom-client emits no *_created; the recording came from a Python stand-in
        wanted = {n for n in wanted if not n.endswith("_created")}
        assert not {n for n in ours if n.endswith("_created")}
    assert wanted - ours == set()


def test_python_default_buckets_and_created_series(stack: Stack) -> None:
    _, fams = scrape(stack, "tinycode")
    les = [s.label("le") for s in fams["tinyllama_request_duration_seconds"].samples
           if s.name.endswith("_bucket") and s.label("endpoint") == "/complete"]
    assert les == PY_DEFAULT
    assert fams["tinyllama_requests_created"].kind == "gauge"
    _, vllm = scrape(stack, "vllm")
    assert not [f for f in vllm if f.endswith("_created")]


def test_dev_pynode_buckets_and_two_gpus(stack: Stack) -> None:
    _, fams = scrape(stack, "dev-pynode")
    les = {s.label("le") for s in fams["http_request_duration_seconds"].samples if s.name.endswith("_bucket")}
    assert les == {"0.1", "0.3", "0.5", "0.7", "1", "3", "5", "7", "10", "+Inf"}
    _, dcgm = scrape(stack, "dcgm")
    gpus = {s.label("gpu"): s.value for s in dcgm["DCGM_FI_DEV_GPU_UTIL"].samples}
    assert gpus == {"0": stack.gauges("dcgm")["gpu0.util"], "1": stack.gauges("dcgm")["gpu1.util"]}
    for g in ("0", "1"):
        mib = sum(s.value for f in ("FB_USED", "FB_FREE", "FB_RESERVED")
                  for s in dcgm[f"DCGM_FI_DEV_{f}"].samples if s.label("gpu") == g)
        assert mib == 81559


def test_health_bodies_have_the_seed_shapes(stack: Stack) -> None:
    tc = httpx.get(stack.health_url("tinycode")).json()
    assert set(tc) == {"status", "timestamp", "checks", "version", "uptime_seconds"}
    assert set(tc["checks"]) == {"ollama", "redis", "rag_system", "database"}
    assert tc["checks"]["database"] == {"status": "healthy", "connection_pool": "8/10"}
    assert set(tc["checks"]["rag_system"]) == {"status", "documents_indexed"}
    dp = httpx.get(stack.health_url("dev-pynode")).json()
    assert set(dp) == {"status", "timestamp", "version", "uptime", "services"}
    assert dp["services"] == {"database": "connected", "redis": "connected", "storage": "connected"}
    assert httpx.get(stack.url("dev-pynode") + "/ready").status_code == 200
    gw = httpx.get(stack.health_url("api-gateway")).json()
    assert gw["status"] == "healthy" and gw["backends"] == {"ollama": "up", "claude": "up"}
    code = httpx.get(stack.health_url("code-llm-api")).json()
    assert set(code) == {"status", "timestamp", "model_loaded", "device"}
    detailed = httpx.get(stack.url("code-llm-api") + "/health/detailed").json()
    assert set(detailed) == {"status", "timestamp", "model", "system"}
    v = httpx.get(stack.health_url("vllm"))
    assert (v.status_code, v.content) == (200, b"")
    assert httpx.get(stack.url("vllm") + "/v1/models").json()["data"][0]["owned_by"] == "vllm"
    assert httpx.get(stack.url("litellm") + "/health/liveliness").json() == "I'm alive!"
    ready = httpx.get(stack.health_url("litellm")).json()
    assert ready == {"status": "healthy", "db": "Not connected"}  # a real 1.108.7 proxy without a database
    assert httpx.get(stack.url("litellm") + "/health").status_code == 404


def test_ollama_has_no_metrics_but_its_api(stack: Stack) -> None:
    base = stack.url("ollama")
    assert "ollama" not in stack.targets()
    assert httpx.get(base + "/metrics").status_code == 404
    root = httpx.get(base + "/")
    assert (root.status_code, root.text) == (200, "Ollama is running")
    assert "version" in httpx.get(base + "/api/version").json()
    ps = httpx.get(base + "/api/ps").json()["models"]
    assert ps and all(m["size_vram"] > 0 for m in ps)
    assert len(httpx.get(base + "/api/tags").json()["models"]) >= len(ps)


def test_counter_deltas_equal_events_in_the_window(stack: Stack) -> None:
    t0, a = scrape(stack, "api-gateway")
    time.sleep(1.0)
    t1, b = scrape(stack, "api-gateway")
    evs = stack.events("api-gateway", t0, t1)
    assert len(evs) >= 30
    assert total(b, "api_gateway_requests_total") - total(a, "api_gateway_requests_total") == len(evs)
    errors = sum(1 for e in evs if e.error)
    d_err = total(b, "api_gateway_requests_total", status="error") - total(a, "api_gateway_requests_total",
                                                                          status="error")
    assert d_err == errors
    cloud = truth.count(evs, t0, t1, {"backend": "cloud"})
    assert total(b, "api_gateway_requests_total", backend="cloud") - total(
        a, "api_gateway_requests_total", backend="cloud") == cloud
    d_cost = total(b, "api_gateway_cost_total") - total(a, "api_gateway_cost_total")
    assert d_cost == pytest.approx(sum(e.cost_usd for e in evs), rel=1e-9, abs=1e-12)
    d_hist = total(b, "api_gateway_request_duration_seconds_count") - total(
        a, "api_gateway_request_duration_seconds_count")
    assert d_hist == len(evs)


def test_token_and_spend_counters_match_truth(stack: Stack) -> None:
    t0, a = scrape(stack, "vllm")
    l0, la = scrape(stack, "litellm")
    time.sleep(0.8)
    t1, b = scrape(stack, "vllm")
    l1, lb = scrape(stack, "litellm")
    evs = stack.events("vllm", t0, t1)
    d_out = total(b, "vllm:generation_tokens_total") - total(a, "vllm:generation_tokens_total")
    assert d_out == sum(e.tokens_out for e in evs)
    assert truth.tokens_per_second(evs, t0, t1, "out") == pytest.approx(d_out / (t1 - t0))
    levs = stack.events("litellm", l0, l1)
    d_spend = total(lb, "litellm_spend_metric_total") - total(la, "litellm_spend_metric_total")
    assert d_spend == pytest.approx(sum(e.cost_usd for e in levs), abs=1e-12)
    d_fail = total(lb, "litellm_proxy_failed_requests_metric_total") - total(
        la, "litellm_proxy_failed_requests_metric_total")
    assert d_fail == sum(1 for e in levs if e.error)


def test_rate_is_exact_with_deterministic_spacing(stack: Stack) -> None:
    end = time.time()
    n = truth.count(stack.events("tinycode"), end - 2.0, end)
    assert abs(n - 80) <= 3


def _histogram_quantile(q: float, fam: MetricFamily) -> float:
    buckets: dict[float, float] = {}
    for s in fam.samples:
        if s.name.endswith("_bucket"):
            le = float(s.label("le") or "nan")
            buckets[le] = buckets.get(le, 0.0) + s.value
    les = sorted(buckets)
    rank = q * buckets[math.inf]
    prev_le, prev_c = 0.0, 0.0
    for le in les:
        if buckets[le] >= rank:
            if math.isinf(le):
                return prev_le
            return prev_le + (le - prev_le) * (rank - prev_c) / (buckets[le] - prev_c)
        prev_le, prev_c = le, buckets[le]
    return math.nan


def test_histogram_quantile_lands_in_the_true_quantiles_bucket() -> None:
    with Stack(["api-gateway"], seed=3) as st:
        st.control("api-gateway", rate=200)
        time.sleep(1.5)
        t, fams = scrape(st, "api-gateway")
        evs = st.events("api-gateway", None, t)
        assert len(evs) > 200
        for q in (0.5, 0.95):
            true_q = truth.quantile(evs, q, 0, t)
            est = _histogram_quantile(q, fams["api_gateway_request_duration_seconds"])
            lo, hi = truth.bucket_bounds(true_q, [float(x) for x in PY_DEFAULT[:-1]])
            assert lo <= est <= hi, (q, true_q, est)
