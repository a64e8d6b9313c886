"""`llmwatch doctor`: findings on a fake Prometheus (our own client faked), exit codes and
plain output through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from probes.config import Config, Price, Routing, Rule, Service
from probes.doctor import choose_window, report_json, run_doctor
from probes.promtypes import ApiError, ApiResult, QueryResult, Sample, Target

JOBS = {"api-gateway": ["api_gateway_requests_total"], "dcgm": ["DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED"]}


class FakeProm:
    def __init__(self, reachable=True):
        self.reachable = reachable

    async def buildinfo(self):
        if not self.reachable:
            return ApiResult(False, error=ApiError("refused", "Prometheus at http://x: connection refused"))
        return ApiResult(True, {"version": "2.42.0"})

    async def targets(self):
        return ApiResult(True, [Target({"job": j, "instance": f"h:{i}"}, f"http://h:{i}/metrics", "up", "", None,
                                       scrape_interval="5s") for i, j in enumerate(JOBS)])

    async def label_values(self, label="__name__"):
        return ApiResult(True, [n for names in JOBS.values() for n in names])

    async def query(self, promql, at=None, timeout=None):
        if not self.reachable:
            return QueryResult(promql, False, error=ApiError("refused", "connection refused"))
        if promql.startswith("group by (job, __name__)"):
            return QueryResult(promql, True, "vector", tuple(
                Sample({"job": j, "__name__": n}, 1.0, 0) for j, names in JOBS.items() for n in names))
        if promql.startswith("group by (model)"):
            return QueryResult(promql, True, "vector", (Sample({"model": "claude-sonnet"}, 1.0, 0),))
        if promql.startswith("group by (backend)"):
            return QueryResult(promql, True, "vector", (Sample({"backend": "local"}, 1, 0), Sample({"backend": "cloud"}, 1, 0)))
        if "broken" in promql:
            return QueryResult(promql, False, error=ApiError("bad_data", "parse error: unclosed left parenthesis", 400))
        return QueryResult(promql, True, "vector", (Sample({}, 1.0, 0),))


CFG = Config(prices={"claude-sonnet": Price(3, 15), "gpt-9": Price(1, 1)},
             routing=Routing(cloud_reference="claude-sonnet"),
             services=(Service("gw", "http://h:1", job="gateway"),),
             rules=(Rule("bad", "sum(broken"),))


async def test_findings():
    r = await run_doctor(CFG, FakeProm())
    assert r.reached and r.version == "2.42.0"
    assert r.window == 60.0 and "scrape interval" in r.window_why  # 4 x 5s < 1m
    assert {(d.name, d.job) for d in r.detection.systems} >= {("hybrid-ai-stack", "api-gateway"), ("dcgm", "dcgm")}
    where = {i.where: i for i in r.issues}
    assert where["rules.bad"].level == "error" and "parse error" in where["rules.bad"].message
    assert 'prices."gpt-9"' in where and "claude-sonnet" in where['prices."gpt-9"'].message
    assert "services.gw.job" in where
    assert ("hybrid-ai-stack", "local", "local") in r.providers and ("hybrid-ai-stack", "cloud", "cloud") in r.providers


async def test_json_shape_has_systems_with_signals():
    data = report_json(await run_doctor(CFG, FakeProm(), window=30))
    assert data["prometheus"]["reached"] and data["window_s"] == 30
    gw = next(s for s in data["systems"] if s["name"] == "hybrid-ai-stack")
    assert gw["job"] == "api-gateway"
    sig = {s["name"]: s for s in gw["signals"]}
    assert sig["request_rate"]["unit"] == "req/s" and sig["request_rate"]["state"] == "ok"
    assert 'job="api-gateway"' in sig["request_rate"]["query"] and "[30s]" in sig["request_rate"]["query"]
    assert sig["tokens_in_rate"]["state"] == "not_exported" and sig["tokens_in_rate"]["value"] is None
    json.dumps(data, allow_nan=False)  # no NaN anywhere


async def test_unreachable_is_one_reason():
    r = await run_doctor(CFG, FakeProm(reachable=False))
    assert not r.reached and "connection refused" in r.reason


def test_window_choice():
    assert choose_window(None, 42) == (42, "from --window")
    assert choose_window(None, None)[0] == 60.0


def test_cli_unreachable_exits_unknown_with_one_line():
    """Through the real entry point: exit 3, one line, no escape codes when piped."""
    env = {**os.environ, "LLMWATCH_CONFIG": "", "XDG_CONFIG_HOME": "/nonexistent"}
    proc = subprocess.run([sys.executable, "-c", "from tui.cli import main; main()", "doctor",
                           "--prometheus-url", "http://127.0.0.1:1"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("UNKNOWN: cannot reach Prometheus at http://127.0.0.1:1")
    assert lines[0].count("Prometheus at") == 1, lines[0]
    assert "\x1b" not in proc.stdout
