"""Alertmanager discovery for `llmwatch check` (issue 13, item 12): with no [alertmanager]
configured, the one Prometheus sends to (/api/v1/alertmanagers) is used, and none means none:
no UNKNOWN for an Alertmanager nobody configured, on every run."""

from __future__ import annotations

import pytest

from probes.checks import CheckOptions
from probes.config import Endpoint, parse_config
from probes.prometheus import PrometheusClient, parse_alertmanagers
from probes.status import Status
from probes.check_plan import discover_alertmanager
from tui.cmd_check import run_once

pytestmark = pytest.mark.integration


def test_parse_alertmanagers_gives_base_urls():
    data = {"activeAlertmanagers": [{"url": "http://127.0.0.1:9093/api/v2/alerts"},
                                    {"url": "http://am-2:9093/prefix/api/v2/alerts"}], "droppedAlertmanagers": []}
    assert parse_alertmanagers(data) == ["http://127.0.0.1:9093", "http://am-2:9093/prefix"]
    assert parse_alertmanagers({"activeAlertmanagers": []}) == []


async def test_check_finds_the_alertmanager_prometheus_sends_to(prometheus, alertmanager):
    cfg = parse_config({"prometheus": {"url": prometheus.url}})
    assert not cfg.configured("alertmanager")
    prom = PrometheusClient(cfg.prometheus)
    try:
        am = await discover_alertmanager(prom, cfg.alertmanager)
    finally:
        await prom.aclose()
    assert am is not None and am.endpoint.url == alertmanager.url
    await am.aclose()
    run = await run_once(cfg, CheckOptions(deadline_s=10.0))
    assert not [r for r in run.results if r.name == "alertmanager"]
    assert not any("silences not read" in d for r in run.results for d in r.details)


async def test_no_alertmanager_anywhere_is_no_unknown():
    from probes.synthetic.servers import PrometheusServer

    with PrometheusServer({}, scrape_interval="1s") as bare:  # sends alerts nowhere
        cfg = parse_config({"prometheus": {"url": bare.url}})
        prom = PrometheusClient(Endpoint(bare.url))
        try:
            assert await discover_alertmanager(prom, cfg.alertmanager) is None
        finally:
            await prom.aclose()
        run = await run_once(cfg, CheckOptions(deadline_s=10.0))
    assert all(r.status is not Status.UNKNOWN for r in run.results), [(r.name, r.summary) for r in run.results]


async def test_a_discovered_alertmanager_that_does_not_answer_is_a_note_not_unknown():
    import asyncio

    from probes.synthetic.servers import PrometheusServer, free_port
    from tests.harness.waiting import wait_for

    gone = f"http://127.0.0.1:{free_port()}"  # Prometheus sends there; nothing listens
    with PrometheusServer({}, scrape_interval="1s", alertmanager_url=gone) as prom:
        await asyncio.to_thread(wait_for, lambda: prom.api("/api/v1/alertmanagers")["activeAlertmanagers"], 20, 0.2,
                                "Prometheus to list its Alertmanager")
        cfg = parse_config({"prometheus": {"url": prom.url}})
        run = await run_once(cfg, CheckOptions(deadline_s=10.0))
    assert all(r.status is not Status.UNKNOWN for r in run.results), [(r.name, r.summary) for r in run.results]
    notes = [d for r in run.results if r.kind == "alert" for d in r.details]
    assert notes and "from Prometheus' /api/v1/alertmanagers" in notes[0] and gone.split("//")[1] in notes[0]
