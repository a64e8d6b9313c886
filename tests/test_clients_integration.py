"""The clients against REAL servers: Prometheus and Alertmanager binaries, and the Loki replay.

Fixtures from tests/conftest.py: `prometheus` (scraping the synthetic stack, seed rules),
`alertmanager`, `loki`. `self_prometheus` below is a Prometheus scraping only itself, so the
client's wire behaviour (GET/POST, timeout parameter, real error envelopes) is proven even while
the synthetic stack is unavailable.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import httpx
import pytest

from probes.alertmanager import AlertmanagerClient, rfc3339
from probes.config import Endpoint
from probes.loki import LokiClient
from probes.prometheus import POST_THRESHOLD, PrometheusClient

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def self_prometheus() -> Iterator[Any]:
    from probes.synthetic.servers import PrometheusServer, find_binary, free_port

    from tests.conftest import require_binary

    require_binary("prometheus")
    port = free_port()
    server = PrometheusServer({"prometheus": f"127.0.0.1:{port}"}, port=port, binary=find_binary("prometheus"))
    server.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # rate() needs two scrapes
            if server.api("/api/v1/query?query=count_over_time(up[1m])")["result"]:
                value = float(server.api("/api/v1/query?query=count_over_time(up[1m])")["result"][0]["value"][1])
                if value >= 3:
                    break
            time.sleep(0.5)
        yield server
    finally:
        server.stop()


# --- Prometheus, self-scraping ---------------------------------------------------------------

async def test_ready_buildinfo_and_up(self_prometheus):
    async with PrometheusClient(Endpoint(self_prometheus.url)) as c:
        assert (await c.ready()).value is True
        bi = await c.buildinfo()
        assert bi.ok and bi.value["version"].startswith("2.")
        r = await c.query('up{job="prometheus"}')
        assert r.ok and r.result_type == "vector" and r.samples[0].value == 1.0
        assert r.samples[0].labels["job"] == "prometheus"


async def test_real_bad_data_envelope(self_prometheus):
    async with PrometheusClient(Endpoint(self_prometheus.url)) as c:
        r = await c.query("sum(rate(up[5m])")
    assert not r.ok and r.error.kind == "bad_data" and r.error.status == 400
    assert r.error.message.startswith(f"Prometheus at {self_prometheus.url}: bad_data: invalid parameter \"query\"")
    assert "parse error" in r.error.message


async def test_real_too_many_points(self_prometheus):
    now = time.time()
    async with PrometheusClient(Endpoint(self_prometheus.url)) as c:
        r = await c.query_range("up", now - 86400, now, 1)
    assert r.error.kind == "bad_data" and "11,000 points" in r.error.message


async def test_long_query_goes_as_post_and_prometheus_accepts_it(self_prometheus):
    q = " or ".join(f'up{{job="prometheus",instance!="not-{i}"}}' for i in range(60))
    assert len(q) > POST_THRESHOLD
    async with PrometheusClient(Endpoint(self_prometheus.url)) as c:
        r = await c.query(q)
        now = time.time()
        rr = await c.query_range(q, now - 60, now, 5)
    assert r.ok and len(r.samples) == 1, r.error
    assert rr.ok and rr.result_type == "matrix" and rr.series[0].points, rr.error


async def test_rate_histogram_quantile_and_scalar(self_prometheus):
    async with PrometheusClient(Endpoint(self_prometheus.url)) as c:
        rate = await c.query("sum(rate(prometheus_http_requests_total[1m]))")
        hq = await c.query("histogram_quantile(0.95, sum by (le) (rate(prometheus_http_request_duration_seconds_bucket[1m])))")
        sc = await c.query("scalar(sum(up))")
        nan = await c.query("vector(0/0)")
    assert rate.ok and rate.samples and rate.samples[0].value >= 0
    assert hq.ok and hq.result_type == "vector"
    assert sc.result_type == "scalar" and sc.scalar() == 1.0
    assert nan.samples[0].value != nan.samples[0].value  # NaN kept


async def test_targets_labels_metadata_rules_alerts(self_prometheus):
    async with PrometheusClient(Endpoint(self_prometheus.url)) as c:
        targets, names, md, rules, alerts = await asyncio.gather(
            c.targets(), c.label_values(), c.metadata("prometheus_http_requests_total"), c.rules(), c.alerts())
    assert targets.ok and targets.value[0].health == "up" and targets.value[0].job == "prometheus"
    assert targets.value[0].last_scrape is not None
    assert "up" in names.value and "prometheus_http_requests_total" in names.value
    assert md.value["prometheus_http_requests_total"][0]["type"] == "counter"
    assert rules.ok and rules.value == [] and alerts.ok and alerts.value == []


async def test_concurrent_identical_queries_share_one_result(self_prometheus):
    async with PrometheusClient(Endpoint(self_prometheus.url)) as c:
        results = await asyncio.gather(*(c.query("sum(up)") for _ in range(10)))
    assert all(r.ok for r in results) and all(r is results[0] for r in results)


# --- Prometheus with the synthetic stack and the seed rules (conftest `prometheus`) -----------

async def test_stack_targets_up_and_seed_rules_loaded(prometheus):
    async with PrometheusClient(prometheus.endpoint) as c:
        targets, rules, alerts = await asyncio.gather(c.targets(), c.rules(), c.alerts())
    assert targets.ok and targets.value and all(t.health == "up" for t in targets.value)
    assert rules.ok and {r.name for g in rules.value for r in g.rules} >= {"GatewayHighErrorRate", "HighLatency"}
    assert all(r.health in ("ok", "unknown") for g in rules.value for r in g.rules)
    assert alerts.ok and all(a.state in ("pending", "firing") for a in alerts.value)


# --- Alertmanager ---------------------------------------------------------------------------

async def _push_alert(url: str, name: str) -> None:
    now = datetime.now(timezone.utc)
    async with httpx.AsyncClient() as http:
        resp = await http.post(f"{url}/api/v2/alerts", json=[{
            "labels": {"alertname": name, "severity": "warning"},
            "annotations": {"summary": "llmwatch integration test"},
            "startsAt": rfc3339(now), "endsAt": rfc3339(now + timedelta(minutes=10))}])
        resp.raise_for_status()


async def _wait(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


async def test_alertmanager_alert_silence_expire_round_trip(alertmanager):
    name = f"LlmwatchIT{int(time.time() * 1000)}"
    await _push_alert(alertmanager.url, name)
    async with AlertmanagerClient(Endpoint(alertmanager.url)) as c:
        async def active():
            r = await c.alerts(filters=[f"alertname={name}"])
            return r.value if r.ok and r.value else None
        alerts = await _wait(active)
        assert alerts and alerts[0].name == name and alerts[0].state == "active" and alerts[0].fingerprint

        now = datetime.now(timezone.utc)
        created = await c.create_silence([f'alertname="{name}"'], now, now + timedelta(hours=1), "it", "testing")
        assert created.ok and created.value, created.error

        silences = await c.silences()
        mine = next(s for s in silences.value if s.id == created.value)
        assert mine.state == "active" and mine.created_by == "it" and str(mine.matchers[0]) == f'alertname="{name}"'

        async def suppressed():
            r = await c.alerts(filters=[f"alertname={name}"])
            return r.value if r.ok and r.value and r.value[0].state == "suppressed" else None
        alerts = await _wait(suppressed)
        assert alerts and alerts[0].silenced_by == (created.value,)

        expired = await c.expire_silence(created.value)
        assert expired.ok, expired.error
        after = await c.silences()
        assert next(s for s in after.value if s.id == created.value).state == "expired"


async def test_alertmanager_rejects_bad_silence_with_a_typed_error(alertmanager):
    now = datetime.now(timezone.utc)
    async with AlertmanagerClient(Endpoint(alertmanager.url)) as c:
        r = await c.create_silence(["alertname=X"], now, now - timedelta(hours=1), "it", "ends before it starts")
        st = await c.status()
        missing = await c.expire_silence("00000000-0000-0000-0000-000000000000")
    assert not r.ok and r.error.kind == "bad_data" and r.error.status == 400 and "\n" not in r.error.message
    assert r.error.message.startswith(f"Alertmanager at {alertmanager.url}: bad_data: ")
    assert st.ok and st.value["versionInfo"]["version"]
    assert not missing.ok and missing.error.status in (404, 500)


# --- Loki (the replay of Loki 2.6.1's recorded answers) ---------------------------------------

async def test_loki_recorded_query_and_tenant_header(loki_requests):
    ep = Endpoint(loki_requests.url, org_id="tenant-a")
    async with LokiClient(ep) as c:
        r = await c.query_range('{job="api-gateway"}', 1795324473000000000, 1795325075850811931, limit=20)
        labels = await c.labels()
        ready = await c.ready()
    assert r.ok and len(r.entries) == 20 and r.entries[0].ts_ns == 1795325075567484609
    assert labels.value == ["job", "level", "service_name"] and ready.value is True
    assert loki_requests.last_request.headers.get("x-scope-orgid") == "tenant-a"


async def test_loki_errors_are_the_servers_text(loki):
    async with LokiClient(Endpoint(loki.url)) as c:
        parse = await c.query_range('{job="api-gateway"', 1795324473000000000, 1795325075850811931)
        nosel = await c.query_range('{job=~".*"}', 1795324473000000000, 1795325075850811931)
    assert parse.error.kind == "bad_data" and "parse error at line 1, col 19" in parse.error.message
    assert "at least one regexp or equality matcher" in nosel.error.message


async def test_loki_auth_is_sent():
    from tests.harness.loki_replay import LokiReplay

    with LokiReplay(bearer_token="loki-secret-777", require_org_id="t1") as server:
        async with LokiClient(Endpoint(server.url)) as c:
            denied = await c.labels()
        async with LokiClient(Endpoint(server.url, bearer_token="loki-secret-777", org_id="t1")) as c:
            allowed = await c.labels()
    assert denied.error.kind == "http" and denied.error.status == 401 and "check bearer_token" in denied.error.message
    assert allowed.ok
