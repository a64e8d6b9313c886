"""The real-exporter tier: the five seed-described apps, the real Prometheus, a direct scrape, known traffic.

One session fixture (`tier`) starts every app, a Prometheus scraping them each second (LiteLLM
with its master key, through its /metrics -> /metrics/ redirect) and llmwatch's own direct-scrape
client, records what llmwatch detects while the apps are fresh (no traffic yet), drives the
traffic plans for TRAFFIC_S seconds and keeps the records. Tests then evaluate every signal at
the traffic's end over the last WINDOW_S seconds, so the numbers are fixed and comparable.

Missing installs (scripts/test.sh makes .venv-exporters and runs npm ci) skip the tier on a
developer machine and fail it in CI, like the real-server binaries.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest

from tests.conftest import in_ci, require_binary
from tests.exporters import apps_run, plans
from tests.exporters.traffic import Log, drive

TRAFFIC_S = 32.0
WINDOW_S = 20.0
SCRAPE_S = 1.0

pytestmark = pytest.mark.exporters


@dataclass
class Tier:
    apps: dict[str, apps_run.App]
    prometheus: Any
    scrape: Any                     # probes.scrape.ScrapeClient (llmwatch's direct scrape)
    loop: asyncio.AbstractEventLoop
    logs: dict[str, Log] = field(default_factory=dict)
    t_end: float = 0.0
    fresh: dict[str, Any] = field(default_factory=dict)   # what llmwatch saw before any traffic

    def run(self, coro):
        """Run a coroutine on the tier's loop (the direct-scrape client lives there)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(120)


def _start_all() -> dict[str, apps_run.App]:
    apps = [apps_run.code_llm_api(), apps_run.dev_pynode(), apps_run.hybrid_gateway(),
            apps_run.otel_genai("provider_name"), apps_run.otel_genai("system"), apps_run.litellm()]
    errors: list[str] = []

    def start(app: apps_run.App) -> None:
        try:
            app.start()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(f"{app.name}: {exc}")

    threads = [threading.Thread(target=start, args=(a,)) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for a in apps:
            a.stop()
        pytest.fail("exporter apps failed to start: " + "; ".join(errors), pytrace=False)
    return {a.name: a for a in apps}


def _loop_thread() -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True, name="exporters-loop").start()
    return loop


@pytest.fixture(scope="session")
def tier() -> Iterator[Tier]:
    why = apps_run.missing()
    if why:
        if in_ci():
            pytest.fail(f"CI=true and the real-exporter tier cannot run: {why}", pytrace=False)
        pytest.skip(why)
    require_binary("prometheus")
    from probes.scrape import ScrapeClient, ScrapeTarget
    from probes.synthetic.servers import PrometheusServer

    apps = _start_all()
    lite = apps["litellm"]
    prom = PrometheusServer({a.name: a.metrics_url for a in apps.values()}, scrape_interval=f"{SCRAPE_S:g}s",
                            scrape_options={"litellm": {"authorization": {"credentials": lite.bearer}}})
    loop = _loop_thread()
    scrape = None
    try:
        prom.start()
        prom.wait_for_targets(timeout=45)
        targets = [ScrapeTarget(a.name, a.metrics_url, bearer_token=a.bearer or None) for a in apps.values()]
        scrape = ScrapeClient(targets, interval=SCRAPE_S, retention=600.0)
        t = Tier(apps, prom, scrape, loop)
        t.run(scrape.start())
        time.sleep(4 * SCRAPE_S + 1)  # a few scrapes of the fresh apps
        from tests.exporters.checks import fresh_snapshot

        t.fresh = fresh_snapshot(t)
        work = [(plans.code_llm(), apps["code-llm-api"].base), (plans.dev_pynode(), apps["dev-pynode"].base),
                (plans.hybrid(), apps["api-gateway"].base), (plans.otel("genai-chat"), apps["genai-chat"].base),
                (plans.otel("genai-legacy"), apps["genai-legacy"].base), (plans.litellm(lite.bearer), lite.base),
                (plans.litellm_noise(), lite.base)]
        began = time.monotonic()
        logs = asyncio.run(drive(work, TRAFFIC_S))
        t.t_end = time.time()
        t.logs = {log.plan.app: log for log in logs}
        t.traffic_s = time.monotonic() - began
        time.sleep(2.5 * SCRAPE_S)  # Prometheus and the direct scrape have sampled past t_end
        yield t
    finally:
        if scrape is not None:
            asyncio.run_coroutine_threadsafe(scrape.aclose(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        prom.stop()
        for a in apps.values():
            a.stop()
