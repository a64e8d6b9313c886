"""Profiles: every built-in parses, uses the seeds' metric names to the letter, and user files
override or add profiles without code."""

from __future__ import annotations

import re

import pytest

from probes.catalogue import SIGNALS
from probes.profiles import ProfileError, builtin_profiles, load_profiles, parse_profile
from probes.promql import RenderContext, render
from tests.harness.paths import SEEDS



def _by_name():
    return {p.name: p for p in builtin_profiles()}


def test_every_builtin_loads_and_names_are_unique():
    names = [p.name for p in builtin_profiles()]
    assert len(names) == len(set(names))
    for expected in ("tinycode", "dev-pynode", "hybrid-ai-stack", "ai-forge", "code-llm-api", "vllm", "tgi",
                     "llamacpp", "sglang", "litellm", "triton", "otel-genai", "http", "dcgm", "nvidia-smi",
                     "triton-gpu", "node", "process", "cadvisor", "targets"):
        assert expected in names


def _metric_names(text: str) -> set[str]:
    """Metric names used in a PromQL template: identifiers directly followed by { or [."""
    text = re.sub(r'"[^"]*"', '""', text)
    return set(re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", text))


def _seed_text(prefix: str) -> str:
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text()


@pytest.mark.parametrize("profile, seed", [("tinycode", "000"), ("dev-pynode", "001"), ("hybrid-ai-stack", "002"),
                                           ("ai-forge", "003"), ("code-llm-api", "004")])
def test_seed_profiles_use_the_seed_metric_names(profile, seed):
    """Each metric a seed profile queries appears in its seed document (histogram and counter
    suffixes _bucket/_sum/_count/_total are what prometheus_client/prom-client expose)."""
    text = _seed_text(seed)
    p = _by_name()[profile]
    for alts in p.signals.values():
        for spec in alts:
            for tpl in (spec.promql, spec.breakdown, spec.input, spec.output):
                for name in _metric_names(tpl):
                    base = re.sub(r"_(bucket|sum|count)$", "", name)
                    assert name in text or base in text, f"{profile}: {name} is not in seed {seed}"
            for name in spec.requires + spec.requires_any:
                base = re.sub(r"_(bucket|sum|count)$", "", name)
                assert name in text or base in text, f"{profile}: requires {name} not in seed {seed}"


def test_seed_label_values_match_the_seeds():
    p = _by_name()
    assert 'status="error"' in p["hybrid-ai-stack"].signals["error_rate"][0].promql
    assert 'backend="local"' in p["hybrid-ai-stack"].signals["local_share"][0].promql
    assert 'status_code=~"5.."' in p["dev-pynode"].signals["error_rate"][0].promql
    assert 'status=~"5.."' in p["ai-forge"].signals["error_rate"][0].promql  # matches "5xx"
    assert "api_gateway_cost_total" in p["hybrid-ai-stack"].signals["cost_rate"][0].promql


def test_vllm_accepts_both_kv_cache_names_and_tgi_has_no_total_suffix():
    p = _by_name()
    kv = p["vllm"].signals["kv_cache_usage"][0]
    assert "vllm:kv_cache_usage_perc" in kv.promql and "vllm:gpu_cache_usage_perc" in kv.promql
    assert set(kv.requires_any) == {"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"}
    for alts in p["tgi"].signals.values():
        for spec in alts:
            assert "_total" not in spec.promql


def test_llamacpp_says_what_it_lacks_and_triton_is_average_only():
    p = _by_name()
    llama = p["llamacpp"]
    for name in ("request_rate", "latency_p50", "latency_p95", "latency_p99", "error_rate"):
        assert name in llama.missing and name not in llama.signals
    assert "histogram" in llama.missing["latency_p95"]
    triton = p["triton"]
    assert triton.signals["latency_avg"][0].method == "average"
    assert "latency_p95" in triton.missing


def test_dcgm_breakdown_accepts_both_hostname_spellings():
    spec = _by_name()["dcgm"].signals["gpu_util"][0]
    assert "Hostname" in spec.by and "hostname" in spec.by


@pytest.mark.parametrize("profile", [p.name for p in builtin_profiles()])
def test_every_template_renders_with_scope_and_window(profile):
    """No hard-coded window, every selector scoped: the rendered query holds the job matcher as
    many times as it has selectors, and the window appears wherever a range is taken."""
    from probes.config import Config, Price, Routing
    from probes.detect import Detected
    from probes.signals import plan

    p = _by_name()[profile]
    cfg = Config(prices={"m": Price(1, 2)}, routing=Routing(cloud_reference="m"))
    d = Detected(p, None if p.is_global else "jobx", ("x",), None)
    for pl in plan(d, cfg, 42.0):
        for q in (pl.query, pl.breakdown_query):
            if not q:
                continue
            assert "$" not in q.replace("$1", ""), q
            assert "[5m]" not in q and "[1m]" not in q
            bare = re.sub(r'"[^"]*"', '""', q)
            ranges = re.findall(r"\[([^\]]+)\]", bare)
            # the window, or the time since midnight for spend today: never a literal of ours
            assert all(r == "42s" or re.fullmatch(r"(\d+[dhm])*\d+s|(\d+[dhm])+", r) for r in ranges), q
            if not p.is_global:
                selectors = len(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*\{", re.sub(r'"[^"]*"', '""', q)))
                assert q.count('job="jobx"') == selectors, q


def test_user_profile_overrides_and_adds(tmp_path):
    (tmp_path / "mine.toml").write_text('''
[profile]
name = "vllm"
title = "My vLLM"
kind = "engine"
[profile.detect]
any = ["myvllm_requests_total"]
[signals.request_rate]
promql = 'sum (rate(myvllm_requests_total{$scope}[$window]))'
''')
    (tmp_path / "new.toml").write_text('''
[profile]
name = "acme"
kind = "gateway"
[profile.detect]
all = ["acme_calls_total"]
[signals.request_rate]
promql = 'sum (rate(acme_calls_total{$scope}[$window]))'
[signals.acme_queue_depth]
promql = 'sum (acme_queue{$scope})'
unit = "req"
''')
    profiles = {p.name: p for p in load_profiles(tmp_path)}
    assert profiles["vllm"].title == "My vLLM"
    assert "acme" in profiles and "acme_queue_depth" in profiles["acme"].signals
    assert "dcgm" in profiles  # built-ins stay


@pytest.mark.parametrize("doc, message", [
    ({"profile": {"name": "x", "kind": "gateway"}}, "detect"),
    ({"profile": {"name": "x", "kind": "nope", "detect": {"all": ["a"]}}}, "kind"),
    ({"profile": {"name": "x", "detect": {"all": ["a"]}}, "signals": {"request_rate": {"promql": "rate(a[$windw])"}}},
     "unknown placeholder $windw"),
    ({"profile": {"name": "x", "detect": {"all": ["a"]}}, "signals": {"my_thing": {"promql": "a"}}}, "give it a unit"),
    ({"profile": {"name": "x", "detect": {"all": ["a"]}}, "signals": {"request_rate": {"promql": "a", "bogus": 1}}},
     "signals.request_rate.bogus: unknown key"),
    ({"profile": {"name": "x", "detect": {"all": ["a b"]}}}, "not a valid name"),
])
def test_bad_profiles_name_file_and_key(doc, message):
    with pytest.raises(ProfileError) as exc:
        parse_profile(doc, "/etc/llmwatch/profiles/x.toml")
    assert "/etc/llmwatch/profiles/x.toml" in str(exc.value) and message in str(exc.value)


def test_missing_profiles_dir_is_an_error(tmp_path):
    with pytest.raises(ProfileError, match="not a directory"):
        load_profiles(tmp_path / "nope")


def test_catalogue_covers_the_issue_signals():
    for name in ("request_rate", "latency_p50", "latency_p95", "latency_p99", "latency_avg", "error_rate",
                 "cost_rate", "spend_today", "local_share", "savings_rate", "tokens_in_rate", "tokens_out_rate",
                 "ttft_p95", "queue_length", "kv_cache_usage", "gpu_util", "gpu_mem_used", "gpu_mem_total",
                 "gpu_temp", "gpu_power", "host_mem_used", "host_mem_total", "process_mem", "targets_up",
                 "targets_total"):
        assert name in SIGNALS
    assert SIGNALS["latency_avg"].method == "average"


def test_render_scope_alone_and_beside_other_matchers():
    ctx = RenderContext(30, {"job": 'we"ird'})
    assert render("up{$scope}", ctx) == 'up{job="we\\"ird"}'
    assert render('x{$scope, a="b"}', ctx) == 'x{job="we\\"ird", a="b"}'
    assert render('x{$scope, a="b"}', RenderContext(30)) == 'x{a="b"}'
    assert render("up{$scope}", RenderContext(30)) == "up"
