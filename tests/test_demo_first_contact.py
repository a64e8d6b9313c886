"""`llmwatch demo --no-ui > demo.toml` with the real Prometheus, as the README tells a new user
(issue 11, defects 4, 7, 8), through the installed console script:

- stdout is the config and nothing else, and `llmwatch config` / `llmwatch doctor` find nothing
  wrong in it; the URLs, the timeline and the advice are on stderr;
- Prometheus holds an hour of history before the first live scrape, and where history meets live
  scrapes no counter resets and the request rate does not jump;
- the printed control URL breaks, takes down and heals services, and `check` and `watch` react.
"""

from __future__ import annotations

import json
import re
import signal
import statistics
import subprocess
import time
import tomllib

import httpx
import pytest

from tests.conftest import require_binary
from tests.harness.screen_terminal import clean_env, console_script
from tests.harness.waiting import wait_for
from tests.test_demo import DemoProcess

pytestmark = pytest.mark.integration
TOML_LINE = re.compile(r'^(#.*|\[\[?[\w."/:.-]+\]\]?|[A-Za-z_]+ = .+|)$')


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    require_binary("prometheus")
    require_binary("promtool")
    proc = DemoProcess("--seed", "9")
    try:
        proc.ready(timeout=60)
        path = tmp_path_factory.mktemp("demo") / "demo.toml"
        path.write_text(proc.config_text() + "\n")
        yield proc, path
    finally:
        code, err = proc.stop(signal.SIGTERM)
        assert code == 0 and "Traceback" not in err, err


def _llmwatch(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([console_script(), *args], capture_output=True, text=True, timeout=timeout,
                          env=clean_env(), stdin=subprocess.DEVNULL)


def _query(prom: str, expr: str) -> list:
    doc = httpx.get(f"{prom}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert doc["status"] == "success", doc
    return doc["data"]["result"]


def test_stdout_is_only_the_config_and_it_is_clean(demo):
    proc, path = demo
    assert proc.stdout and all(TOML_LINE.match(line) for line in proc.stdout), proc.stdout
    config = tomllib.loads(proc.config_text())
    assert config["prometheus"]["url"] == proc.urls()["prometheus"]
    assert not any("http://" in line and not line.startswith(("url", "#")) for line in proc.stdout)
    assert any(line.startswith("  prometheus ") for line in proc.lines)           # URLs on stderr
    assert any("curl -X POST" in line for line in proc.lines)                    # advice on stderr
    checked = _llmwatch("config", "--config", str(path))
    assert checked.returncode == 0 and checked.stderr == "", checked.stderr
    doctor = _llmwatch("doctor", "--config", str(path))
    assert doctor.returncode == 0, doctor.stderr
    assert "nothing unused or wrong found" in doctor.stdout and "warning" not in doctor.stdout.lower(), doctor.stdout


def test_an_hour_of_history_and_no_seam(demo):
    proc, _ = demo
    prom = proc.urls()["prometheus"]
    count = _query(prom, 'count_over_time(up{job="api-gateway"}[1h])')
    assert count and float(count[0]["value"][1]) >= 700, count   # 45 min every 10 s + 15 min every 2 s
    oldest = _query(prom, 'min_over_time(timestamp(up{job="api-gateway"})[2h:10s])')
    assert time.time() - float(oldest[0]["value"][1]) >= 3500
    live_from = time.time()
    wait_for(lambda: float(_query(prom, 'max(timestamp(up{job="vllm"}))')[0]["value"][1]) > live_from + 6,
             timeout=30, message="live scrapes after the history")
    names = httpx.get(f"{prom}/api/v1/label/__name__/values", timeout=10).json()["data"]
    counters = [n for n in names if n.endswith(("_total", "_bucket", "_count", "_sum")) and not n.startswith("scrape_")]
    assert len(counters) > 30
    reset = {n: _query(prom, f"resets({n}[2h]) > 0") for n in counters}
    assert not any(reset.values()), {n: [r["metric"] for r in v][:3] for n, v in reset.items() if v}
    end = time.time()
    doc = httpx.get(f"{prom}/api/v1/query_range", timeout=10, params={
        "query": "sum(rate(api_gateway_requests_total[30s]))", "start": end - 600, "end": end, "step": 5}).json()
    rates = [float(v) for _, v in doc["data"]["result"][0]["values"]]
    median = statistics.median(rates)
    assert len(rates) >= 110 and 6 < median < 10, (len(rates), median)
    assert min(rates) > 0.6 * median and max(rates) < 1.4 * median, rates


def _check(path) -> dict[str, str]:
    out = _llmwatch("check", "--config", str(path), "--format", "json", "--ignore-alert", ".*")
    doc = json.loads(out.stdout)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", doc["started_at"]), doc["started_at"]
    return {c["name"]: c["status"] for c in doc["checks"]}


def _control(proc, action: str, service: str) -> dict:
    r = httpx.post(f"{proc.urls()['control']}/{action}/{service}", timeout=5)
    assert r.status_code == 200 and r.text.endswith("\n"), r.text
    return r.json()


def test_break_down_and_heal_by_hand_and_check_and_watch_react(demo):
    proc, path = demo
    assert httpx.get(proc.urls()["control"] + "/", timeout=5).json()["services"][0] == "api-gateway"
    assert _check(path)["api-gateway"] == "OK"
    watch = subprocess.Popen([console_script(), "watch", "--config", str(path), "--every", "1s",
                              "--failure-threshold", "1", "--success-threshold", "1", "--ignore-alert", ".*",
                              "--only", "api-gateway", "--only", "target:vllm"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
    try:
        time.sleep(2.5)
        _control(proc, "break", "api-gateway")
        assert _check(path)["api-gateway"] == "CRITICAL"
        _control(proc, "down", "vllm")
        wait_for(lambda: _check(path).get("target:vllm") == "CRITICAL", timeout=15, message="vllm target down")
        _control(proc, "heal", "api-gateway")
        _control(proc, "heal", "vllm")
        wait_for(lambda: set(_check(path).values()) == {"OK"}, timeout=15, message="all OK after heal")
        time.sleep(2.5)
    finally:
        watch.send_signal(signal.SIGTERM)
        out, err = watch.communicate(timeout=20)
    assert watch.returncode == 0, err
    assert re.search(r"api-gateway OK -> CRITICAL", out) and re.search(r"api-gateway CRITICAL -> OK", out), out
    assert re.search(r"target:vllm OK -> CRITICAL", out) and re.search(r"target:vllm CRITICAL -> OK", out), out
    gone = httpx.post(f"{proc.urls()['control']}/break/nope", timeout=5)
    assert gone.status_code == 404 and "api-gateway" in gone.json()["error"]
