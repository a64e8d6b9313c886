"""The session fixtures other suites build on: `prometheus` really scrapes the synthetic stack,
with the seed rules healthy against the stack's own metric names."""

from __future__ import annotations

import time
from typing import Any, Callable

import httpx
import pytest

from tests.harness.waiting import prom_query, wait_for

pytestmark = pytest.mark.integration


def test_up_is_1_for_every_stack_job(stack: Any, prometheus: Any) -> None:
    up = {r["metric"]["job"]: r["value"][1] for r in prom_query(prometheus.url, "up")}
    assert up == {job: "1" for job in stack.targets()}
    assert prometheus.endpoint.url == prometheus.url


def test_stack_metric_has_samples_and_a_rate(prometheus: Any, prom_samples: Callable[..., int]) -> None:
    started = time.monotonic()
    count = prom_samples("api_gateway_requests_total", n=3, timeout=30)
    assert count >= 3, f"waited {time.monotonic() - started:.1f}s"
    resp = httpx.get(f"{prometheus.url}/api/v1/query",
                     params={"query": "sum(rate(api_gateway_requests_total[30s]))"}, timeout=5)
    assert resp.status_code == 200
    result = resp.json()["data"]["result"]
    assert result and float(result[0]["value"][1]) > 0


def test_seed_rules_healthy_on_stack(prometheus: Any) -> None:
    def rules() -> list[dict] | None:
        got = [r for g in prometheus.api("/api/v1/rules")["groups"] for r in g["rules"]]
        return got if got and all(r["health"] != "unknown" for r in got) else None

    got = wait_for(rules, timeout=20, message="seed rules evaluated")
    assert len(got) == 17
    assert [(r["name"], r.get("lastError")) for r in got if r["health"] != "ok"] == []


def test_loki_fixture_serves_ready(loki: Any) -> None:
    resp = httpx.get(f"{loki.url}/ready", timeout=5)
    assert (resp.status_code, resp.text) == (200, "ready\n")
    assert loki.endpoint.url == loki.url
