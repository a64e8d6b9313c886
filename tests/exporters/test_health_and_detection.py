"""Health, idle and DOWN on the real apps (issue 13, items 1, 2 and 3), through the console script.

Health: `llmwatch check` with every app's health endpoints as [[services]] (default rules, no
conditions), while each app is healthy, made unhealthy, and healthy again (LiteLLM cannot be
steered, so a TCP proxy in front of it is cut). Idle: what llmwatch detected on the fresh apps
before any request. DOWN: a Prometheus scraping the gateway through a proxy that is cut.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.tcpproxy import TcpProxy
from tests.harness.waiting import wait_for

pytestmark = [pytest.mark.exporters, pytest.mark.integration]
LLMWATCH = str(Path(sys.executable).with_name("llmwatch"))


def llmwatch(*args: str, env: dict | None = None, config: str = "") -> subprocess.CompletedProcess:
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp", **(env or {})}
    return subprocess.run([LLMWATCH, *args], capture_output=True, text=True, timeout=60, env=full_env)


def check_services(tmp_path, services: dict[str, str]) -> dict[str, dict]:
    lines = []
    for name, url in services.items():
        lines += ["[[services]]", f'name = "{name}"', f'url = "{url}"', 'timeout = "5s"', ""]
    cfg = tmp_path / "health.toml"
    cfg.write_text("\n".join(lines))
    out = llmwatch("check", "--config", str(cfg), "--format", "json", "--timeout", "10s")
    assert out.returncode in (0, 1, 2), out.stderr
    return {c["name"]: c for c in json.loads(out.stdout)["checks"]}


def test_health_as_each_app_goes_unhealthy_and_back(tier, tmp_path):
    apps = tier.apps
    lite = apps["litellm"]
    proxy = TcpProxy("127.0.0.1", lite.port).up()
    try:
        services = {
            "code-llm": apps["code-llm-api"].base + "/health",
            "code-llm-detailed": apps["code-llm-api"].base + "/health/detailed",
            "dev-pynode": apps["dev-pynode"].base + "/health",
            "dev-pynode-ready": apps["dev-pynode"].base + "/ready",
            "gateway": apps["api-gateway"].base + "/health",
            "genai": apps["genai-chat"].base + "/health",
            "litellm-ready": f"{proxy.url}/health/readiness",
            "litellm-live": f"{proxy.url}/health/liveliness",
        }
        healthy = check_services(tmp_path, services)
        bad = {n: c["summary"] for n, c in healthy.items() if c["status"] != "OK"}
        assert not bad, bad   # LiteLLM's DB-less readiness and its "I'm alive!" are healthy (item 1)
        assert healthy["litellm-ready/db"]["summary"] == "db: Not connected (none configured)"

        apps["code-llm-api"].set_state({"healthy": False})
        apps["dev-pynode"].set_state({"down": ["database"]})
        apps["api-gateway"].set_state({"healthy": False})
        apps["genai-chat"].set_state({"healthy": False})
        proxy.down()
        sick = check_services(tmp_path, services)
        assert sick["code-llm"]["status"] == "CRITICAL" and "model_loaded: false" in sick["code-llm"]["summary"]
        assert sick["code-llm-detailed"]["status"] == "CRITICAL"
        assert sick["dev-pynode"]["summary"] == "HTTP 503, database: disconnected"
        assert sick["dev-pynode-ready"]["status"] == "CRITICAL"
        assert sick["gateway"]["status"] == "CRITICAL" and sick["gateway"]["summary"].startswith("HTTP 503")
        assert sick["genai"]["status"] == "CRITICAL"
        assert sick["litellm-ready"]["status"] == "CRITICAL" and "refused" in sick["litellm-ready"]["summary"]

        for name in ("code-llm-api", "dev-pynode", "api-gateway", "genai-chat"):
            apps[name].set_state({})
        proxy.up()
        again = check_services(tmp_path, services)
        assert all(c["status"] == "OK" for c in again.values()), {n: c["summary"] for n, c in again.items()}
    finally:
        proxy.down()
        for name in ("code-llm-api", "dev-pynode", "api-gateway", "genai-chat"):
            apps[name].set_state({})


FRESH = {"code-llm-api": "code-llm-api", "dev-pynode": "dev-pynode", "api-gateway": "hybrid-ai-stack",
         "litellm": "litellm"}


@pytest.mark.parametrize("source", ["prometheus", "direct"])
def test_fresh_apps_are_detected_and_idle(tier, source):
    det, values = tier.fresh[source]
    serving = {d.job: d.name for d in det.systems if d.profile.kind in ("gateway", "engine", "generic")}
    for job, profile in FRESH.items():
        assert serving.get(job) == profile, (job, serving)       # not "HTTP server", not missing
    rates = {v.job: v for v in values if v.signal == "request_rate"}
    for job in FRESH:
        # Prometheus' own scrapes of /metrics are no traffic (item 10): idle, not 0.5 req/s. Code LLM
        # API's unlabelled counter exists from the start: it reads a true 0 req/s.
        v = rates[job]
        assert (v.state, v.reason) == ("no_traffic", "no traffic yet") or (v.state, v.value) == ("ok", 0.0), v
    # what the fresh apps cannot have yet is "no traffic yet", never "not exported"
    not_yet = [v for v in values if v.job in FRESH and v.state == "not_exported" and "yet" in v.reason]
    assert not not_yet, not_yet
    # an OpenTelemetry SDK exports nothing but target_info before the first recording: no GenAI yet
    assert "genai-chat" not in serving


def test_a_system_whose_target_goes_down_stays_as_down(tier):
    from probes.dashboard_fetch import load_instant, load_meta
    from probes.profiles import load_profiles
    from probes.prometheus import PrometheusClient
    from probes.synthetic.servers import PrometheusServer
    from tests.exporters.checks import config

    gw = tier.apps["api-gateway"]
    proxy = TcpProxy("127.0.0.1", gw.port).up()
    prom = PrometheusServer({"api-gateway": f"{proxy.url}/metrics"}, scrape_interval="1s")
    prom.start()
    try:
        prom.wait_for_targets(timeout=30)

        async def run():
            client = PrometheusClient(prom.endpoint)
            try:
                meta = await load_meta(client, load_profiles(None), 10)
                serving = [d.name for d in meta.detection.systems if d.job == "api-gateway" and d.profile.kind == "gateway"]
                assert serving == ["hybrid-ai-stack"]
                proxy.down()
                await asyncio.to_thread(wait_for, lambda: prom.api("/api/v1/targets")["activeTargets"][0]["health"]
                                        == "down", 20, 0.2, "the gateway target down")
                for previous in (meta, None):  # kept from before, or found again from the last hour's names
                    later = await load_meta(client, load_profiles(None), 10, previous)
                    [gwd] = [d for d in later.detection.systems if d.job == "api-gateway" and d.profile.kind == "gateway"]
                    assert gwd.name == "hybrid-ai-stack" and gwd.down
                inst = await load_instant(client, later, config(), 10)
                return inst
            finally:
                await client.aclose()

        inst = asyncio.run(run())
        assert "Hybrid AI Stack (api-gateway) DOWN" in inst.systems
        req = {s.key: s for s in inst.stats}["req"]
        assert req.state == "down" and req.text == "DOWN" and "Hybrid AI Stack DOWN" in req.detail
    finally:
        proxy.down()
        prom.stop()


def test_litellm_scrape_needs_its_key_and_follows_the_redirect(tier):
    lite = tier.apps["litellm"]
    url = f"litellm=http://127.0.0.1:{lite.port}/metrics"
    ok = llmwatch("check", "--scrape", url, "--scrape-auth", "litellm=bearer-env:LITELLM_KEY", "--scrape-wait", "2s",
                  "--format", "json", env={"LITELLM_KEY": lite.bearer})
    checks = {c["name"]: c for c in json.loads(ok.stdout)["checks"]}
    assert checks["target:litellm"]["status"] == "OK", checks
    assert lite.bearer not in ok.stdout + ok.stderr
    refused = llmwatch("check", "--scrape", url, "--scrape-wait", "1s", "--format", "json")
    checks = {c["name"]: c for c in json.loads(refused.stdout)["checks"]}
    assert checks["target:litellm"]["status"] == "CRITICAL"
    assert "HTTP status 401" in checks["target:litellm"]["summary"]
