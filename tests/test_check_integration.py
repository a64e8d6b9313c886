"""`llmwatch check` end to end: the real CLI against a real Prometheus and Alertmanager scraping
the synthetic stack, each scenario driven through the stack's controls.

Own module-scoped servers: the last test stops Prometheus, which the session fixtures must not see.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from probes.synthetic import Stack
from probes.synthetic.servers import AlertmanagerServer, PrometheusServer, find_binary

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "probes" / "synthetic" / "rules" / "seed_alerts.yml"
HEALTH = ["tinycode", "dev-pynode", "api-gateway", "code-llm-api", "vllm", "litellm"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    if not (find_binary("prometheus") and find_binary("prometheus-alertmanager")):
        if os.environ.get("CI") == "true":
            pytest.fail("prometheus and prometheus-alertmanager must be installed in CI")
        pytest.skip("prometheus / prometheus-alertmanager not installed")
    stack = Stack(seed=4242).start()
    am = AlertmanagerServer().start()
    prom = PrometheusServer(stack.targets(), rule_files=[RULES], alertmanager_url=am.url).start()
    prom.wait_for_targets(list(stack.targets()), timeout=30)
    cfg = tmp_path_factory.mktemp("check") / "llmwatch.toml"
    services = "".join(f'[[services]]\nname = "{n}"\nurl = "{stack.health_url(n)}"\njob = "{n}"\n' for n in HEALTH)
    cfg.write_text(f'''[prometheus]
url = "{prom.url}"
[alertmanager]
url = "{am.url}"
{services}
[[rules]]
name = "gateway-error-rate"
promql = 'sum(rate(api_gateway_requests_total{{status="error"}}[20s])) / sum(rate(api_gateway_requests_total[20s]))'
warn = "0.10"
crit = "0.25"
unit = "ratio"
no_data = "ok"
[slo]                     # the test's own targets: the stack's normal p95 is ~2 s, errors ~3 %
error_rate = 0.2
latency_p95 = "10s"
availability = 0.9
window = "20s"
''')
    time.sleep(5)  # a few scrapes so rate() over 20s has samples
    yield {"stack": stack, "prom": prom, "am": am, "cfg": cfg}
    prom.stop()
    am.stop()
    stack.stop()


def check(env, *args: str, timeout: float = 30) -> tuple[int, str, float]:
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "tui.cli", "check", "--config", str(env["cfg"]), *args],
                         capture_output=True, text=True, cwd=ROOT, timeout=timeout,
                         env={**os.environ, "NO_COLOR": "1"})
    assert "Traceback" not in out.stderr, out.stderr
    return out.returncode, out.stdout, time.monotonic() - t0


def as_json(env, *args: str) -> tuple[int, dict]:
    code, out, _ = check(env, "--format", "json", *args)
    data = json.loads(out)
    assert data["exit_code"] == code
    for c in data["checks"]:
        assert {"name", "kind", "status", "summary", "value", "unit"} <= c.keys()
    return code, data


def by_name(data: dict) -> dict[str, dict]:
    return {c["name"]: c for c in data["checks"]}


def wait_for(pred, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}")


def test_healthy_stack_is_ok(env):
    code, data = as_json(env)
    assert code == 0 and data["status"] == "OK", [(c["name"], c["summary"]) for c in data["checks"] if c["status"] != "OK"]
    checks = by_name(data)
    assert checks["tinycode"]["kind"] == "health" and checks["tinycode/redis"]["kind"] == "component"
    assert checks["target:vllm"]["status"] == "OK" and checks["gateway-error-rate"]["unit"] == "ratio"
    slo = {n: c for n, c in checks.items() if c["kind"] == "slo"}
    assert {"slo:hybrid-ai-stack:api-gateway:error_rate", "slo:vllm:vllm:latency_p95",
            "slo:api-gateway:availability"} <= slo.keys(), sorted(slo)
    assert slo["slo:api-gateway:availability"]["value"] == 1.0
    rule = checks["gateway-error-rate"]  # no error yet means no error series: no_data = "ok"
    assert rule["value"] is None and rule["summary"].startswith("no data") or 0 <= rule["value"] < 0.10
    code, out, _ = check(env, "--format", "nagios")
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("LLMWATCH OK - ") and " | " in first and "'tinycode time'=" in first


def test_one_component_down_is_critical_and_named(env):
    env["stack"].control("tinycode", unhealthy=["redis"])
    try:
        code, data = as_json(env)
        checks = by_name(data)
        assert code == 2 and data["status"] == "CRITICAL"
        assert checks["tinycode"]["status"] == "CRITICAL" and "redis" in checks["tinycode"]["summary"]
        assert checks["tinycode/redis"]["status"] == "CRITICAL"
        assert checks["tinycode/ollama"]["status"] == "OK"
        code, out, _ = check(env, "--format", "nagios", "--only", "tinycode*")
        assert code == 2
        assert out.splitlines()[0].startswith("LLMWATCH CRITICAL - 2 of 5 checks not OK: tinycode: HTTP 503")
    finally:
        env["stack"].control("tinycode", unhealthy=False)


def test_error_rate_over_threshold_then_firing_then_silenced(env):
    stack, am = env["stack"], env["am"]
    stack.control("api-gateway", error_rate=0.6)
    try:
        def rule_critical():
            code, data = as_json(env, "--only", "gateway-error-rate")
            return (code, data) if code == 2 else None
        code, data = wait_for(rule_critical, 40, "the error-rate rule to go CRITICAL")
        rule = by_name(data)["gateway-error-rate"]
        assert rule["status"] == "CRITICAL" and rule["value"] > 0.25
        assert "outside the critical range 0.25" in rule["summary"]
        code, out, _ = check(env, "--format", "nagios", "--only", "gateway-error-rate")
        assert code == 2 and out.splitlines()[0].startswith("LLMWATCH CRITICAL - 1 of 1 checks not OK: gateway-error-rate:")
        code, data = as_json(env, "--only", "slo:*")
        slo = by_name(data)
        assert slo["slo:hybrid-ai-stack:api-gateway:error_rate"]["status"] == "CRITICAL"
        assert "over the target" in slo["slo:hybrid-ai-stack:api-gateway:error_rate"]["summary"]
        assert slo["slo:tinycode:tinycode:error_rate"]["status"] == "OK"
        assert code == 2
        assert "'gateway-error-rate'=" in out.splitlines()[0] and ";0.10;0.25" in out.splitlines()[0]

        # GatewayHighErrorRate (severity critical, for: 15s) fires from the seed rules
        def alert_firing():
            code, data = as_json(env, "--only", "alert:GatewayHighErrorRate*")
            return data if code == 2 else None
        data = wait_for(alert_firing, 60, "GatewayHighErrorRate to fire")
        [alert] = data["checks"]
        assert alert["status"] == "CRITICAL" and alert["summary"].startswith("firing (critical)")
        code, data = as_json(env, "--only", "alert:GatewayHighErrorRate*", "--ignore-alert", "^GatewayHigh")
        assert code == 0 and data["checks"] == []

        # silence it in Alertmanager: reported as silenced, does not fail the check
        import httpx
        now = datetime.now(timezone.utc)
        body = {"matchers": [{"name": "alertname", "value": "GatewayHighErrorRate", "isRegex": False, "isEqual": True}],
                "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat(),
                "createdBy": "pytest", "comment": "check integration test"}
        sid = httpx.post(f"{am.url}/api/v2/silences", json=body, timeout=5).json()["silenceID"]
        try:
            def silenced():
                code, data = as_json(env, "--only", "alert:GatewayHighErrorRate*")
                return (code, data) if data["checks"] and data["checks"][0]["silenced"] else None
            code, data = wait_for(silenced, 30, "Alertmanager to report the alert silenced")
            [alert] = data["checks"]
            assert code == 0 and alert["status"] == "OK" and sid in alert["summary"]
            code, out, _ = check(env, "--format", "nagios", "--only", "alert:GatewayHighErrorRate*")
            assert code == 0 and out.splitlines()[0] == "LLMWATCH OK - 1 checks OK"
            assert "(silenced)" in out
        finally:
            httpx.delete(f"{am.url}/api/v2/silence/{sid}", timeout=5)
    finally:
        stack.control("api-gateway", error_rate=0.03)


def test_slow_endpoint_past_the_deadline(env):
    env["stack"].control("vllm", health_delay=30)
    try:
        # skip the alert/rule checks: the previous scenario's alert may still be resolving
        code, out, took = check(env, "--format", "json", "--timeout", "2s", "--skip", "alert*", "--skip", "gateway-*", "--skip", "slo:*")
        assert took < 2 + 1.5, took  # deadline plus interpreter start, never the 30 s delay
        data = json.loads(out)
        vllm = by_name(data)["vllm"]
        assert vllm["status"] == "UNKNOWN" and "deadline" in vllm["summary"]
        assert code == 3 and data["status"] == "UNKNOWN", [(c["name"], c["summary"]) for c in data["checks"]
                                                           if c["status"] != "OK"]
        assert by_name(data)["tinycode"]["status"] == "OK"  # the others still ran
    finally:
        env["stack"].control("vllm", health_delay=0)


def test_quiet_prints_nothing_when_ok_and_output_is_atomic(env, tmp_path):
    code, out, _ = check(env, "--quiet", "--only", "tinycode*")
    assert code == 0 and out == ""
    target = tmp_path / "llmwatch.prom"
    code, out, _ = check(env, "--format", "prom", "--output", str(target), "--only", "tinycode*")
    assert code == 0 and out == ""
    text = target.read_text()
    assert 'llmwatch_check_status{check="tinycode",kind="health"} 0' in text
    assert "llmwatch_run_status 0" in text and list(tmp_path.iterdir()) == [target]


def test_prometheus_stopped_health_still_counts(env):
    env["prom"].stop()
    code, data = as_json(env)
    checks = by_name(data)
    assert checks["tinycode"]["status"] == "OK"
    unknown = [c for c in data["checks"] if c["status"] == "UNKNOWN"]
    assert {c["kind"] for c in unknown} == {"rule", "target", "alert", "slo"}
    assert all("connection refused" in c["summary"] for c in unknown)
    assert code == 3 and data["status"] == "UNKNOWN"
    env["stack"].control("tinycode", unhealthy=["database"])
    try:
        code, data = as_json(env)
        assert code == 2  # a real health failure outranks Prometheus being unreachable
    finally:
        env["stack"].control("tinycode", unhealthy=False)
