"""The real-server harness itself: Prometheus scrapes, evaluates the seed rules, and alerts reach
Alertmanager. Driven by a stdlib stand-in target so a broken synthetic stack cannot hide (or fake)
a broken harness."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from probes.synthetic.servers import (
    SEED_RULES,
    AlertmanagerServer,
    BinaryNotFound,
    PrometheusServer,
    ServerError,
    find_binary,
    free_port,
)
from tests.conftest import require_binary
from tests.harness.exposition import ExpositionServer
from tests.harness.waiting import prom_query, wait_for, wait_for_samples

pytestmark = pytest.mark.integration

ALWAYS_FIRING = """\
groups:
  - name: harness
    interval: 1s
    rules:
      - alert: HarnessAlwaysFiring
        expr: vector(1)
        labels:
          severity: info
        annotations:
          summary: fires at once so the harness can see Prometheus reach Alertmanager
"""


@pytest.fixture(scope="module")
def standins() -> Iterator[dict[str, ExpositionServer]]:
    servers = {job: ExpositionServer(job).start() for job in ("standin-a", "standin-b")}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="module")
def harness_prom(
    standins: dict[str, ExpositionServer], alertmanager: AlertmanagerServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusServer]:
    require_binary("prometheus")
    rules = tmp_path_factory.mktemp("rules") / "harness.yml"
    rules.write_text(ALWAYS_FIRING)
    targets = {job: [s.address] for job, s in standins.items()}
    server = PrometheusServer(targets, rule_files=[SEED_RULES, rules], alertmanager_url=alertmanager.url)
    started = time.monotonic()
    server.start()
    try:
        server.wait_for_targets(timeout=45)
        print(f"prometheus ready with all targets up in {time.monotonic() - started:.1f}s")
        yield server
    finally:
        server.stop()


def test_every_target_is_up(harness_prom: PrometheusServer) -> None:
    result = prom_query(harness_prom.url, "up")
    assert {r["metric"]["job"]: r["value"][1] for r in result} == {"standin-a": "1", "standin-b": "1"}


def test_scraped_metric_is_queryable_and_grows(harness_prom: PrometheusServer) -> None:
    wait_for_samples(harness_prom.url, 'harness_requests_total{job="standin-a"}', n=3, timeout=20)
    resp = httpx.get(
        f"{harness_prom.url}/api/v1/query",
        params={"query": 'sum by (job) (rate(harness_requests_total{status="error"}[30s]))'},
        timeout=5,
    )
    assert resp.status_code == 200
    rates = {r["metric"]["job"]: float(r["value"][1]) for r in resp.json()["data"]["result"]}
    assert set(rates) == {"standin-a", "standin-b"}
    assert all(rate > 0 for rate in rates.values())
    gauge = prom_query(harness_prom.url, 'harness_queue_depth{job="standin-b"}')
    assert gauge[0]["value"][1] == "7"


def test_seed_rules_match_recording_and_evaluate_ok(harness_prom: PrometheusServer, fixtures_dir: Path) -> None:
    recorded = json.loads((fixtures_dir / "prometheus/rules.json").read_text())["data"]["groups"]

    def seed_groups() -> list[dict] | None:
        groups = [g for g in harness_prom.api("/api/v1/rules")["groups"] if g["file"] == str(SEED_RULES)]
        evaluated = all(r["health"] != "unknown" for g in groups for r in g["rules"])
        return groups if groups and evaluated else None

    groups = wait_for(seed_groups, timeout=20, message="every seed rule evaluated once")

    def shape(gs: list[dict]) -> list:
        return [
            (g["name"], g["interval"], [
                (r["name"], r["query"], r["duration"], r["labels"], r["annotations"], r["type"]) for r in g["rules"]
            ])
            for g in gs
        ]

    assert shape(groups) == shape(recorded)
    bad = [(r["name"], r.get("lastError")) for g in groups for r in g["rules"] if r["health"] != "ok"]
    assert bad == []


def test_prometheus_alert_reaches_alertmanager(harness_prom: PrometheusServer, alertmanager: AlertmanagerServer) -> None:
    def delivered() -> list[dict]:
        alerts = httpx.get(f"{alertmanager.url}/api/v2/alerts", timeout=5).json()
        return [a for a in alerts if a["labels"].get("alertname") == "HarnessAlwaysFiring"]

    alerts = wait_for(delivered, timeout=30, interval=0.25, message="HarnessAlwaysFiring in Alertmanager")
    assert alerts[0]["status"]["state"] == "active"
    assert alerts[0]["labels"]["severity"] == "info"
    firing = prom_query(harness_prom.url, 'ALERTS{alertname="HarnessAlwaysFiring",alertstate="firing"}')
    assert firing


def test_alert_posted_to_alertmanager_is_listed(alertmanager: AlertmanagerServer) -> None:
    now = datetime.now(timezone.utc)
    alert = {
        "labels": {"alertname": "HarnessPosted", "severity": "warning", "job": "harness"},
        "annotations": {"summary": "posted directly"},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(minutes=5)).isoformat(),
    }
    resp = httpx.post(f"{alertmanager.url}/api/v2/alerts", json=[alert], timeout=5)
    assert resp.status_code == 200
    listed = wait_for(
        lambda: [a for a in httpx.get(f"{alertmanager.url}/api/v2/alerts", timeout=5).json()
                 if a["labels"]["alertname"] == "HarnessPosted"],
        timeout=10,
        message="HarnessPosted listed",
    )
    assert listed[0]["annotations"]["summary"] == "posted directly"


def test_down_target_is_reported_not_hidden(harness_prom: PrometheusServer) -> None:
    require_binary("prometheus")
    dead = f"127.0.0.1:{free_port()}"  # nothing listens here
    with PrometheusServer({"dead": dead}) as server:
        with pytest.raises(ServerError, match="dead"):
            server.wait_for_targets(timeout=8)
        up = wait_for(lambda: prom_query(server.url, 'up{job="dead"}'), timeout=10, message="up for dead")
        assert up[0]["value"][1] == "0"


def test_reload_applies_new_targets(standins: dict[str, ExpositionServer]) -> None:
    require_binary("prometheus")
    with PrometheusServer({"standin-a": standins["standin-a"].address}) as server:
        server.reload({"renamed": standins["standin-b"].address})
        server.wait_for_targets(["renamed"], timeout=20)
        assert [r["metric"]["job"] for r in prom_query(server.url, "up == 1")] == ["renamed"]


def test_stop_kills_process_and_removes_workdir() -> None:
    require_binary("prometheus-alertmanager")
    server = AlertmanagerServer().start()
    pid, workdir = server.pid, server.workdir
    assert pid is not None and workdir is not None and workdir.is_dir()
    assert httpx.get(f"{server.url}/-/ready", timeout=5).status_code == 200
    server.stop()
    assert not workdir.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_missing_binary_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from probes.synthetic import servers

    monkeypatch.setitem(servers._BINARIES, "fakebin", ("/nonexistent/fakebin", "fake-debian-pkg"))
    assert find_binary("fakebin") is None
    with pytest.raises(BinaryNotFound, match="apt-get install --no-install-recommends fake-debian-pkg"):
        find_binary("fakebin", required=True)

    class FakeServer(AlertmanagerServer):
        binary_name = "fakebin"

    with pytest.raises(BinaryNotFound, match="fake-debian-pkg"):
        FakeServer().start()
