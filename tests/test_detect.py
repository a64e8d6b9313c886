"""Detection: profiles x jobs from metric names, specific beats generic on a job, GPU/host
profiles add, and a failing grouping query falls back to label values."""

from __future__ import annotations

import json

from probes.detect import detect, detection_query, match_profiles
from probes.profiles import builtin_profiles
from probes.promtypes import ApiError, ApiResult, QueryResult, Sample, parse_targets
from tests.harness.paths import FIXTURES as FIXTURES_ROOT

FIXTURES = FIXTURES_ROOT / "prometheus"

# What the recorded stack's jobs export (subset of label_name_values.json, by seed and reference).
JOBS = {
    "tinycode": {"tinyllama_requests_total", "tinyllama_request_duration_seconds_count", "process_resident_memory_bytes"},
    "dev-pynode": {"http_requests_total", "http_request_duration_seconds_count", "ai_requests_total",
                   "ai_tokens_used_total", "process_resident_memory_bytes"},
    "api-gateway": {"api_gateway_requests_total", "api_gateway_request_duration_seconds_count",
                    "process_resident_memory_bytes"},
    "ai-forge": {"http_requests_total", "http_request_duration_seconds_count", "ai_forge_training_jobs_total",
                 "process_resident_memory_bytes"},
    "code-llm-api": {"generation_requests_total", "generation_latency_seconds_count", "http_requests_total",
                     "http_request_duration_seconds_count", "process_resident_memory_bytes"},
    "vllm": {"vllm:num_requests_running", "vllm:kv_cache_usage_perc", "vllm:request_success_total",
             "http_requests_total"},
    "litellm": {"litellm_proxy_total_requests_metric_total", "litellm_spend_metric_total"},
    "dcgm": {"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED"},
    "node": {"node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes", "process_resident_memory_bytes"},
    "plain-api": {"http_requests_total"},
}


def pairs(found):
    return {(d.job, d.name) for d in found}


def test_each_job_gets_its_specific_profile_plus_additive_ones():
    found = pairs(match_profiles(builtin_profiles(), JOBS))
    for job, name in [("tinycode", "tinycode"), ("dev-pynode", "dev-pynode"), ("api-gateway", "hybrid-ai-stack"),
                      ("ai-forge", "ai-forge"), ("code-llm-api", "code-llm-api"), ("vllm", "vllm"),
                      ("litellm", "litellm"), ("dcgm", "dcgm"), ("node", "node"), ("plain-api", "http"),
                      ("ai-forge", "process"), ("node", "process"), (None, "targets")]:
        assert (job, name) in found or (name == "targets"), (job, name)
    # the generic http profile loses wherever a specific serving profile matched
    assert {j for j, n in found if n == "http"} == {"plain-api"}
    # exactly one serving profile per job
    serving = [(d.job, d.name) for d in match_profiles(builtin_profiles(), JOBS)
               if d.profile.kind in ("gateway", "engine", "generic")]
    assert len(serving) == len({j for j, _ in serving})


def test_recorded_metric_names_detect_every_seed_system():
    names = set(json.loads((FIXTURES / "label_name_values.json").read_text())["data"])
    found = {d.name for d in match_profiles(builtin_profiles(), {None: names})}
    assert {"tinycode", "hybrid-ai-stack", "code-llm-api", "vllm", "litellm", "dcgm", "node", "targets"} <= found


def test_detection_query_is_one_group_by_over_all_names():
    q = detection_query(builtin_profiles())
    assert q.startswith('group by (job, __name__) ({__name__=~"')
    assert "vllm:kv_cache_usage_perc" in q and "DCGM_FI_DEV_GPU_UTIL" in q and "_bucket" not in q


class FakeProm:
    def __init__(self, names_by_job, fail_group=False):
        self.names_by_job = names_by_job
        self.fail_group = fail_group

    async def query(self, promql, at=None, timeout=None):
        if self.fail_group:
            return QueryResult(promql, False, error=ApiError("timeout", "query timed out", 503))
        samples = tuple(Sample({"job": j, "__name__": n}, 1.0, 0.0)
                        for j, names in self.names_by_job.items() for n in sorted(names))
        return QueryResult(promql, True, "vector", samples)

    async def targets(self):
        data = json.loads((FIXTURES / "targets.json").read_text())["data"]
        return ApiResult(True, parse_targets(data))

    async def label_values(self, label="__name__"):
        return ApiResult(True, sorted(set().union(*self.names_by_job.values())))


async def test_detect_uses_targets_for_jobs_and_scrape_intervals():
    d = await detect(FakeProm(JOBS), builtin_profiles())
    assert d.error is None and not d.warnings
    assert "dcgm" in d.jobs and d.scrape_intervals["vllm"] == 5.0
    vllm = next(x for x in d.systems if x.name == "vllm")
    assert vllm.job == "vllm" and vllm.scope == {"job": "vllm"} and vllm.scrape_interval == 5.0
    assert "vllm:kv_cache_usage_perc" in vllm.matched


async def test_detect_falls_back_to_label_values_unscoped():
    d = await detect(FakeProm(JOBS, fail_group=True), builtin_profiles())
    assert d.warnings and "falling back" in d.warnings[0]
    assert {x.name for x in d.systems} >= {"vllm", "dcgm"}
    assert all(x.job is None for x in d.systems)
