"""Run-time controls of the synthetic stack, its control server and its CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from probes.synthetic import Stack, truth
from probes.synthetic.parse import parse

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def small():
    st = Stack(["tinycode", "api-gateway", "vllm"], seed=11)
    st.control("api-gateway", rate=60)
    st.control("tinycode", rate=60)
    with st:
        yield st


def test_error_rate_changes_the_error_share_and_logs(small: Stack) -> None:
    small.control("api-gateway", error_rate=1.0)
    t0 = time.time()
    time.sleep(0.5)
    t1 = time.time()
    assert truth.error_ratio(small.events("api-gateway"), t0 + 0.06, t1) == 1.0
    errors = [x for x in small.logs("api-gateway", since=t0 + 0.06) if x.level == "error"]
    assert errors and all(json.loads(x.line)["level"] == "ERROR" for x in errors)
    small.control("api-gateway", error_rate=0.0)
    time.sleep(0.3)
    t2 = time.time()
    assert truth.error_ratio(small.events("api-gateway"), t2 - 0.2, t2) == 0.0


def test_latency_scale_moves_the_quantile(small: Stack) -> None:
    time.sleep(0.5)
    base = truth.quantile(small.events("tinycode"), 0.5, time.time() - 0.5, time.time())
    small.control("tinycode", latency_scale=10)
    t0 = time.time()
    time.sleep(0.5)
    slow = truth.quantile(small.events("tinycode"), 0.5, t0 + 0.06, time.time())
    assert base is not None and slow is not None and slow > 4 * base


def test_down_refuses_connections_and_up_reuses_the_port(small: Stack) -> None:
    port = small.port("tinycode")
    small.control("tinycode", down=True)
    with pytest.raises(httpx.ConnectError):
        httpx.get(small.url("tinycode") + "/metrics", timeout=2)
    n = len(small.events("tinycode"))
    time.sleep(0.2)
    assert len(small.events("tinycode")) == n  # a down service serves no traffic
    small.control("tinycode", down=False)
    assert small.port("tinycode") == port
    assert httpx.get(small.url("tinycode") + "/metrics", timeout=2).status_code == 200


def test_health_delay_delays_only_health(small: Stack) -> None:
    small.control("api-gateway", health_delay=0.3)
    t = time.monotonic()
    assert httpx.get(small.health_url("api-gateway"), timeout=3).status_code == 200
    assert time.monotonic() - t >= 0.3
    t = time.monotonic()
    httpx.get(small.url("api-gateway") + "/metrics", timeout=3)
    assert time.monotonic() - t < 0.3


def test_unhealthy_component_shows_in_health_with_503(small: Stack) -> None:
    small.control("tinycode", unhealthy=["redis"])
    r = httpx.get(small.health_url("tinycode"))
    body = r.json()
    assert r.status_code == 503 and body["status"] == "unhealthy"
    assert body["checks"]["redis"]["status"] == "unhealthy"
    assert body["checks"]["ollama"]["status"] == "healthy"
    small.control("vllm", unhealthy=True)
    v = httpx.get(small.health_url("vllm"))
    assert (v.status_code, v.content) == (503, b"")
    small.control("api-gateway", unhealthy=["ollama"])
    fams = parse(httpx.get(small.url("api-gateway") + "/metrics").text)
    assert fams["api_gateway_health"].samples[0].value == 0
    small.control("tinycode", unhealthy=[])
    assert httpx.get(small.health_url("tinycode")).status_code == 200


def test_bad_settings_are_rejected_by_name(small: Stack) -> None:
    with pytest.raises(ValueError, match="colour"):
        small.control("tinycode", colour="red")
    with pytest.raises(ValueError, match="mongodb"):
        small.control("tinycode", unhealthy=["mongodb"])
    with pytest.raises(ValueError, match="nope"):
        small.control("vllm", gauges={"nope": 1})


def test_gauge_override_reaches_metrics_and_truth(small: Stack) -> None:
    small.control("vllm", gauges={"kv_cache_usage_perc": 0.93, "num_requests_waiting": 17})
    fams = parse(httpx.get(small.url("vllm") + "/metrics").text)
    assert fams["vllm:kv_cache_usage_perc"].samples[0].value == 0.93
    assert fams["vllm:num_requests_waiting"].samples[0].value == 17
    assert small.gauges("vllm")["kv_cache_usage_perc"] == 0.93


def test_restart_resets_counters(small: Stack) -> None:
    time.sleep(0.3)
    small.control("api-gateway", rate=0, restart=True)
    fams = parse(httpx.get(small.url("api-gateway") + "/metrics").text)
    assert not fams["api_gateway_requests_total"].samples


def test_legacy_vllm_names() -> None:
    with Stack(["vllm"], options={"vllm": {"legacy_names": True}}) as st:
        fams = parse(httpx.get(st.url("vllm") + "/metrics").text)
    assert "vllm:gpu_cache_usage_perc" in fams and "vllm:kv_cache_usage_perc" not in fams
    assert "vllm:time_per_output_token_seconds" in fams


def test_cli_port_file_control_server_and_clean_exit(tmp_path: Path) -> None:
    port_file = tmp_path / "ports.json"
    proc = subprocess.Popen([sys.executable, "-m", "probes.synthetic", "--services", "tinycode,ollama",
                             "--seed", "5", "--port-file", str(port_file)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 10
        while not port_file.exists() and time.time() < deadline:
            time.sleep(0.05)
        ports = json.loads(port_file.read_text())
        assert set(ports) == {"tinycode", "ollama", "_control"}
        assert ports["ollama"]["metrics"] is None and ports["tinycode"]["job"] == "tinycode"
        ctl = ports["_control"]
        r = httpx.post(ctl + "/control/tinycode", json={"error_rate": 1.0, "rate": 50})
        assert r.status_code == 200 and r.json()["settings"]["error_rate"] == 1.0
        assert httpx.post(ctl + "/control/tinycode", json={"bogus": 1}).status_code == 400
        assert httpx.get(ctl + "/truth/nope").status_code == 404
        time.sleep(0.5)
        t = httpx.get(ctl + "/truth/tinycode", params={"window": 0.3}).json()
        assert t["count"] > 0 and t["error_ratio"] == 1.0
        logs = httpx.get(ctl + "/logs/tinycode").json()
        assert logs and logs[-1]["level"] == "error"
        assert httpx.get(ctl + "/targets").json() == {"tinycode": ports["tinycode"]["url"][7:]}
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_probes_synthetic_never_imports_the_ui() -> None:
    code = ("import sys, probes.synthetic, probes.synthetic.control, probes.synthetic.__main__; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'tui')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
