"""The traffic each real app gets, and the llmwatch config the tier runs with.

Latencies sit well inside one bucket of each app's real layout (Code LLM API .1 .5 1 2 5 10;
Dev-PyNode .1 .3 .5 .7 1 3...; prometheus_client's defaults for the gateway; OTel's doubling
.01 .02 ... 0.64 1.28; LiteLLM .005 .01 .025 .05 .1 .25 .5 1...), and each cycle puts every
quantile's rank inside a group, never on the edge between two (see the comments).
"""

from __future__ import annotations

from tests.exporters.traffic import Kind, Plan

M = 1e-6  # USD per token from USD per million
PRICES = {"gpt-4o": (2.5, 10.0), "gpt-4o-mini": (0.15, 0.6), "llama3": (0.0, 0.0)}


def _priced(model: str) -> dict[str, float]:
    p_in, p_out = PRICES[model]
    return {"price_in": p_in * M, "price_out": p_out * M}


def code_llm() -> Plan:
    # 25 per cycle at 4 req/s: 24 answered (19 x 0.3 s, 3 x 0.7 s, 2 x 1.5 s) and 1 OOM (503).
    # Successes: P50 in (0.1, 0.5], P95 and P99 in (1, 2] (ranks 22.8 and 23.8 of 24 > 22).
    ok = lambda s, n: Kind({"prompt": "#!/bin/bash", "max_length": n, "simulate_seconds": s}, "code-llm", "local",
                           True, 0, n)
    oom = Kind({"prompt": "#!/bin/bash", "simulate_seconds": 0.05, "simulate_error": "oom"}, "code-llm", "local",
               True, error=True)
    return Plan("code-llm-api", "/generate", 4.0, (ok(0.3, 60),) * 19 + (ok(0.7, 80),) * 3 + (ok(1.5, 40),) * 2
                + (oom,))


def dev_pynode() -> Plan:
    # 20 per cycle at 3 req/s: 12 local (0.2 s), 6 cloud (0.6 s), 2 cloud failing fast (502).
    # All 20 on /api/ai/chat: P50 (rank 10) in (0.1, 0.3], P95/P99 (ranks 19, 19.8) in (0.5, 0.7].
    local = Kind({"model": "llama3", "provider": "ollama", "tokens_in": 10, "tokens_out": 40,
                  "simulate_seconds": 0.2}, "llama3", "ollama", True, 10, 40, **_priced("llama3"))
    cloud = Kind({"model": "gpt-4o", "provider": "openai", "tokens_in": 20, "tokens_out": 80,
                  "simulate_seconds": 0.6}, "gpt-4o", "openai", False, 20, 80, **_priced("gpt-4o"))
    fail = Kind({"model": "gpt-4o", "provider": "openai", "simulate_seconds": 0.05, "fail": True}, "gpt-4o",
                "openai", False, error=True)
    return Plan("dev-pynode", "/api/ai/chat", 3.0, (local,) * 12 + (cloud,) * 6 + (fail,) * 2)


def hybrid() -> Plan:
    # 20 per cycle at 5 req/s: 8 tinyllama (0.15 s), 8 phi2 (0.4 s), 3 claude (1.2 s, $0.002) and
    # 1 claude failing after 0.3 s. Buckets .1 .25 .5 .75 1 2.5: P50 (rank 10) in (0.25, 0.5],
    # P95/P99 (ranks 19, 19.8) in (1, 2.5].
    low = Kind({"complexity": "low", "simulate_seconds": 0.15}, "tinyllama", "local", True)
    medium = Kind({"complexity": "medium", "simulate_seconds": 0.4}, "phi2", "local", True)
    high = Kind({"complexity": "high", "simulate_seconds": 1.2, "cost": 0.002}, "claude-sonnet", "cloud", False)
    fail = Kind({"complexity": "high", "simulate_seconds": 0.3, "fail": True}, "claude-sonnet", "cloud", False,
                error=True)
    return Plan("api-gateway", "/v1/chat", 5.0, (low,) * 8 + (medium,) * 8 + (high,) * 3 + (fail,))


def otel(app: str = "genai-chat") -> Plan:
    # 20 per cycle at 4 req/s: 12 local (0.25 s, TTFT 0.05 s), 7 cloud (0.9 s, TTFT 0.3 s), 1 failing.
    # Doubling buckets: P50 (rank 10) in (0.16, 0.32]; P95 (rank 19) in (0.64, 1.28], where an
    # interpolated value reads about 1.19 s although no request took more than 0.9 s (item 11).
    local = Kind({"model": "llama3", "provider": "ollama", "tokens_in": 12, "tokens_out": 40, "simulate_seconds": 0.25,
                  "ttft_seconds": 0.05}, "llama3", "ollama", True, 12, 40, **_priced("llama3"))
    cloud = Kind({"model": "gpt-4o-mini", "provider": "openai", "tokens_in": 20, "tokens_out": 100,
                  "simulate_seconds": 0.9, "ttft_seconds": 0.3}, "gpt-4o-mini", "openai", False, 20, 100,
                 **_priced("gpt-4o-mini"))
    fail = Kind({"model": "gpt-4o-mini", "provider": "openai", "simulate_seconds": 0.1, "fail": True},
                "gpt-4o-mini", "openai", False, error=True)
    if app == "genai-legacy":  # older conventions (gen_ai_system): 10 per cycle at 2 req/s, no failures
        return Plan(app, "/v1/chat", 2.0, (local,) * 6 + (cloud,) * 4)
    return Plan(app, "/v1/chat", 4.0, (local,) * 12 + (cloud,) * 7 + (fail,))


def litellm(key: str) -> Plan:
    # 10 per cycle at 3 req/s: 6 to the local deployment (mock_delay 0.15 s), 3 to the cloud one
    # (0.35 s), 1 to a deployment that always fails (500). Latency of the 9 answered: P50 (rank
    # 4.5) in (0.1, 0.25], P95/P99 (ranks 8.55, 8.91 > 6) in (0.25, 0.5]; the delays sit mid-bucket
    # because the proxy adds tens of ms of its own. Tokens and cost are what LiteLLM's answers say
    # (usage, x-litellm-response-cost).
    msg = [{"role": "user", "content": "hi"}]
    local = Kind({"model": "llama3", "messages": msg}, "llama3", "ollama", True, seconds=0.15)
    cloud = Kind({"model": "gpt-4o-mini", "messages": msg}, "gpt-4o-mini", "openai", False, seconds=0.35)
    flaky = Kind({"model": "flaky", "messages": msg}, "flaky", "openai", False, error=True, seconds=0.0)
    return Plan("litellm", "/v1/chat/completions", 3.0, (local,) * 6 + (cloud,) * 3 + (flaky,), bearer=key)


def litellm_noise() -> Plan:
    """A scraper without the master key: LiteLLM answers 401 and counts it as a request to
    route="/metrics" with requested_model="" (what a misconfigured Prometheus does all day)."""
    return Plan("litellm-noise", "/metrics/", 1.0, (Kind({}, "", "", False, error=True),), method="GET")


def config_toml(extra: str = "") -> str:
    """The llmwatch config of the tier: prices for the priced signals, a cloud reference."""
    lines = []
    for model, (p_in, p_out) in PRICES.items():
        lines += [f'[prices."{model}"]', f"input = {p_in}", f"output = {p_out}", ""]
    lines += ["[routing]", 'cloud_reference = "gpt-4o-mini"', ""]
    return "\n".join(lines) + extra
