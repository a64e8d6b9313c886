"""Direct scrape against the real thing: the synthetic stack scraped by llmwatch itself and by
real Prometheus 2.42 at the same time; every signal of every detected system must agree.

Why an envelope and not one Prometheus value: llmwatch and Prometheus scrape the same pages at
different instants (both every 1 s, phases unrelated), so over a 30 s window each sees a window
of events shifted by up to one scrape interval. The fair yardstick is what Prometheus itself
reports when its window moves by that much: we evaluate Prometheus at at-1 s, at and at+1 s and
require the direct value within that range widened by 5 %. Where they may still legitimately
differ:
- ratios of small counts (errors, local share) and per-request counters (tokens, cost): one
  request landing between the two scrapers' instants moves a ratio by 1/requests; we allow 1.5
  requests' worth. A counter series *born* inside the window (the first error of a new
  error_type) weighs more: whichever scraper saw it twice extrapolates its first increment back
  to its zero point (extrapolatedRate's durationToZero), so one event can count as ~3 on one
  side and 0 on the other; each such series (counted both ways, `x unless x offset 30s`) widens
  the allowance by 2 events;
- quantiles: histogram_quantile interpolates within one bucket, so a rank that crosses a bucket
  boundary jumps to the neighbour bucket; the envelope holds both sides of such a jump;
- spend_today: increase() since local midnight over all samples each side holds. Prometheus has
  scraped since the session began, llmwatch since this module began: different spans by
  design, so only its state is compared and the direct value may not exceed Prometheus'.
Gauges (GPU, memory, KV cache, in-flight) are read at scrape time and must match exactly-ish.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import time

import pytest

from probes.config import Config, Price, Routing
from probes.detect import detect
from probes.profiles import builtin_profiles
from probes.prometheus import PrometheusClient
from probes.scrape import ScrapeClient, parse_scrape_arg
from probes.signals import evaluate

pytestmark = pytest.mark.integration

WINDOW = 30.0
PRICES = {"gpt-4": Price(30, 60), "llama3": Price(0.5, 0.5), "claude-sonnet": Price(3, 15),
          "meta-llama/Llama-3.1-8B-Instruct": Price(0.2, 0.4)}
CFG = Config(prices=PRICES, routing=Routing(cloud_reference="claude-sonnet"))


def run(coro):
    return asyncio.new_event_loop().run_until_complete(coro)


def stack_targets(stack) -> list[tuple[str, str]]:
    return [(job, f"http://{addr}/metrics") for job, addr in stack.targets().items()]


@pytest.fixture(scope="module")
def both(stack, prometheus):
    """Scrape directly for WINDOW + 4 s, then detect and evaluate both ways at one instant."""

    async def go():
        direct = ScrapeClient(stack_targets(stack), interval=1.0, retention=600)
        prom = PrometheusClient(prometheus.endpoint)
        try:
            await direct.start()
            await direct.start()  # idempotent: still one loop
            assert await direct.wait_ready(10)
            await asyncio.sleep(WINDOW + 4)
            det_d = await detect(direct, builtin_profiles())
            det_p = await detect(prom, builtin_profiles())
            at = time.time() - 2.5
            t0 = time.perf_counter()
            vals_d = await evaluate(direct, det_d.systems, CFG, WINDOW, at=at)
            eval_s = time.perf_counter() - t0
            envelope = [await evaluate(prom, det_p.systems, CFG, WINDOW, at=at + d) for d in (-1.0, 0.0, 1.0)]
            born = {}
            for job in det_p.jobs:
                sel = f'{{job="{job}", __name__=~".+_total"}}'
                q = f"count({sel} unless {sel} offset {int(WINDOW)}s)"
                answers = [await c.query(q, at=at) for c in (direct, prom)]
                born[job] = max((r.samples[0].value for r in answers if r.ok and r.samples), default=0.0)
            targets = await direct.targets()
            return dict(det_d=det_d, det_p=det_p, direct=vals_d, prom=envelope, eval_s=eval_s, born=born,
                        stats=direct.stats(), targets=targets, tasks=direct._task)
        finally:
            await direct.aclose()
            await prom.aclose()

    return run(go())


def key(v):
    return (v.system, v.job, v.signal)


def test_detection_finds_the_same_systems_on_the_same_jobs(both):
    got = sorted((d.name, d.job) for d in both["det_d"].systems)
    want = sorted((d.name, d.job) for d in both["det_p"].systems)
    assert got == want
    assert not both["det_d"].warnings


def event_slack(d, traffic: float | None, born: float) -> float:
    """What a few requests more or less in the window change the value by (see the module
    doc): 1.5 events, plus 2 per counter series born in the window. A ratio moves by
    events/requests; a per-second counter by that many requests' average contribution
    (value / traffic per request) over the window. Gauges and quantiles: 0."""
    if not traffic or d.method not in ("ratio", "counter", "priced"):
        return 0.0
    requests = traffic * WINDOW
    events = 1.5 + 2 * born
    if d.method == "ratio" or d.unit == "ratio":
        return events / requests
    return events * abs(d.value) / requests


def test_every_signal_agrees_with_prometheus(both):
    prom = [{key(v): v for v in vals} for vals in both["prom"]]
    direct = {key(v): v for v in both["direct"]}
    traffic = {(v.system, v.job): v.value for v in both["prom"][1] if v.signal == "request_rate" and v.state == "ok"}
    assert set(direct) == set(prom[1])
    compared = 0
    problems = []
    for k, d in sorted(direct.items(), key=lambda kv: str(kv[0])):
        ps = [p[k] for p in prom if k in p]
        states = {p.state for p in ps}
        if d.state not in states:
            problems.append(f"{k}: direct {d.state} ({d.reason}) vs prometheus {states}")
            continue
        if d.state != "ok":
            continue
        pvals = [p.value for p in ps if p.state == "ok"]
        lo, hi = min(pvals), max(pvals)
        if k[2] == "spend_today":
            if d.value > hi * 1.05 + 1e-9:
                problems.append(f"{k}: direct {d.value} over prometheus {hi} (llmwatch holds fewer samples)")
            continue
        slack = 0.05 * max(abs(lo), abs(hi)) + event_slack(d, traffic.get(k[:2]), both["born"].get(k[1], 0)) + 1e-9
        compared += 1
        if not (lo - slack <= d.value <= hi + slack):
            problems.append(f"{k}: direct {d.value:.6g} outside prometheus [{lo:.6g}, {hi:.6g}] +-5 %  {d.query}")
    assert not problems, "\n".join(problems)
    assert compared >= 60  # the stack has ~7 serving systems x ~8 numeric signals, plus gauges


def test_gauges_are_exact(both):
    prom = {key(v): v for v in both["prom"][1]}
    for v in both["direct"]:
        if v.signal in ("gpu_util", "gpu_mem_used", "gpu_temp", "kv_cache_usage", "process_mem",
                        "targets_up", "targets_total") and v.state == "ok":
            assert v.value == pytest.approx(prom[key(v)].value, rel=1e-9), key(v)


def test_targets_stats_and_speed(both):
    targets = both["targets"].value
    assert both["targets"].ok and len(targets) == len(both["det_d"].jobs)
    assert all(t.health == "up" and t.last_error == "" and t.scrape_interval == "1s" for t in targets)
    assert {t.labels["instance"] for t in targets} == {t.scrape_url.split("/")[2] for t in targets}
    st = both["stats"]
    assert st["series"] > 500 and st["samples"] > st["series"] * 20
    assert st["bytes"] < 64 * 1024 * 1024 and not st["warnings"]
    assert all(t["duration_s"] < 1.0 for t in st["targets"].values())
    assert both["eval_s"] < 2.0, f"evaluating every signal took {both['eval_s']:.2f}s"
    assert both["tasks"] is None or both["tasks"].done()  # aclose() stopped the loop


def test_a_refused_target_is_down_with_up_0_and_needs_prometheus_calls(stack):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again at once: nothing listens there

    async def go():
        async with ScrapeClient([parse_scrape_arg(f"ghost=http://127.0.0.1:{port}"),
                                 ("vllm", f"http://{stack.targets()['vllm']}/metrics")], interval=1.0) as c:
            assert not (await c.ready()).ok
            await c.scrape_once()
            return (await c.targets(), await c.query("up"), await c.alerts(), await c.rules(), await c.metadata(),
                    await c.query("sum(rate(vllm:prompt_tokens_total[1m:10s]))"), await c.buildinfo(),
                    await c.ready(), await c.label_values("job"))

    targets, up, alerts, rules, meta, subq, build, ready, jobs = run(go())
    health = {t.job: (t.health, t.last_error) for t in targets.value}
    assert health["ghost"][0] == "down" and "refused" in health["ghost"][1]
    assert health["vllm"] == ("up", "")
    assert {s.labels["job"]: s.value for s in up.samples} == {"ghost": 0.0, "vllm": 1.0}
    for res in (alerts, rules, meta):
        assert not res.ok and "needs Prometheus" in res.error.message
    assert not subq.ok and "needs Prometheus" in subq.error.message
    assert build.value["version"] == "direct scrape" and ready.ok and jobs.value == ["ghost", "vllm"]


# -- llmwatch check --scrape ------------------------------------------------------------------------

def check(tmp_path, toml: str, *args: str) -> tuple[int, dict]:
    cfg = tmp_path / "llmwatch.toml"
    cfg.write_text(toml)
    out = subprocess.run([sys.executable, "-m", "tui.cli", "check", "--config", str(cfg), "--format", "json", *args],
                         capture_output=True, text=True, timeout=60)
    assert "Traceback" not in out.stderr, out.stderr
    return out.returncode, json.loads(out.stdout) if out.stdout.strip() else {}


def results(data: dict) -> dict[str, dict]:
    return {r["name"]: r for r in data.get("results", data.get("checks", []))}


def test_check_scrape_runs_slo_targets_and_rules_from_two_scrapes(stack, tmp_path):
    url = f"http://{stack.targets()['vllm']}/metrics"
    toml = """
[slo]
error_rate = 0.5
latency_p95 = "60s"
availability = 0.5
[[rules]]
name = "vllm-running"
promql = 'sum(vllm:num_requests_running)'
crit = "0:1000"
"""
    code, data = check(tmp_path, toml, "--scrape", f"vllm={url}", "--scrape-wait", "2s")
    got = results(data)
    assert code == 0, data
    assert got["slo:vllm:vllm:latency_p95"]["status"] == "OK"
    assert got["slo:vllm:vllm:error_rate"]["status"] == "OK"
    assert got["slo:vllm:availability"]["status"] == "OK"
    assert got["target:vllm"]["status"] == "OK"
    assert got["vllm-running"]["status"] == "OK"
    assert not any(name.startswith("alert") for name in got)  # skipped: they need Prometheus


def test_check_scrape_breach_unsupported_rule_and_bad_argument(stack, tmp_path):
    url = f"http://{stack.targets()['vllm']}/metrics"
    toml = """
[slo]
latency_p95 = "1ms"
[[rules]]
name = "subquery"
promql = 'max_over_time(sum(vllm:num_requests_running)[1m:5s])'
crit = "0:1000"
"""
    code, data = check(tmp_path, toml, "--scrape", url, "--scrape-wait", "1s")
    got = results(data)
    job = parse_scrape_arg(url)[0]  # host:port when no job= is given
    assert got[f"slo:vllm:{job}:latency_p95"]["status"] == "CRITICAL"
    assert got["subquery"]["status"] == "UNKNOWN" and "needs Prometheus" in got["subquery"]["summary"]
    assert code == 2  # CRITICAL outranks UNKNOWN (probes/status.py worst-of)
    out = subprocess.run([sys.executable, "-m", "tui.cli", "check", "--scrape", "ftp://x"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 3 and "--scrape" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) <= 3


def test_parse_scrape_arg():
    assert parse_scrape_arg("http://h:8000") == ("h:8000", "http://h:8000/metrics")
    assert parse_scrape_arg("vllm=http://h:8000/m?x=1") == ("vllm", "http://h:8000/m?x=1")
    assert parse_scrape_arg("https://h/metrics") == ("h:443", "https://h/metrics")
    for bad in ("h:8000", "=http://h", "a b=http://h", "http://", "vllm=ftp://h"):
        with pytest.raises(ValueError):
            parse_scrape_arg(bad)
    assert math.isfinite(1.0)
