"""The dashboard driven by keys against the real Prometheus scraping the synthetic stack.

Covers: first load, + / - range, pause, / filter, Enter zoom (legend values), Prometheus going
down (through a cuttable proxy) and coming back without a restart, and values on screen equal
to the probes' values at the same instant.
"""

from __future__ import annotations

import asyncio
import io
import time

import pytest
from rich.console import Console

from probes.config import load_config
from probes.dashboard_fetch import load_instant
from probes.dashboard_fetch import BREAKDOWNS
from probes.promql import now_window
from probes.dashboard_model import Source, front_door
from probes.headline import fronted_engines
from probes.prometheus import PrometheusClient
from probes.signals import evaluate
from probes.units import format_value
from tests.harness.tcpproxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.tui]


def screen_text(app) -> str:
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, color_system=None)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


def make_app(prom_url: str, refresh: str = "1s", services=()):
    from tui.app import LlmwatchApp
    from tui.cmd_dashboard import make_context

    cfg = load_config(None, env={}, overrides={("prometheus", "url"): prom_url, ("dashboard", "refresh"): refresh,
                                               ("dashboard", "range"): "5m"})
    return LlmwatchApp(make_context(cfg))


async def until(predicate, timeout: float = 15.0, step: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        await asyncio.sleep(step)
    return predicate()


async def test_loads_and_keys_change_range_pause_filter_zoom(prometheus, prom_samples):
    prom_samples("api_gateway_requests_total", n=3)
    app = make_app(prometheus.url)
    async with app.run_test(size=(160, 48)) as pilot:
        dash = app.get_screen("dashboard")
        assert await dash.wait_loaded(20)
        assert await until(lambda: dash.panels["latency"].data is not None)
        text = screen_text(app)
        assert "Prometheus 2.42" in text and "range 5m" in text
        assert "Hybrid AI Stack" in text

        await pilot.press("plus")
        assert dash.range_s == 900 and "range 15m" in screen_text(app)
        assert await until(lambda: dash.ranges is not None and dash.ranges.range_s == 900)
        await pilot.press("minus", "minus")
        assert dash.range_s == 300  # 5m is the shortest: a second "-" stays there

        await pilot.press("p")
        assert all(p.paused for p in dash.pollers.values()) and "PAUSED" in screen_text(app)
        polls = {n: p.polls for n, p in dash.pollers.items()}
        await asyncio.sleep(2.5)  # two refresh intervals
        assert {n: p.polls for n, p in dash.pollers.items()} == polls
        await pilot.press("p")
        assert await until(lambda: dash.pollers["instant"].polls > polls["instant"])

        # filter: only series whose name matches stay in the charts
        await pilot.press("slash")
        for ch in "vllm":
            await pilot.press(ch)
        await pilot.press("enter")
        traffic = dash.panels["traffic"]
        assert dash.pattern is not None and traffic.rows()
        assert all("vllm" in ln.name.lower() for ln in traffic.rows())
        assert "filter /vllm/" in screen_text(app)
        await pilot.press("escape")
        assert dash.pattern is None

        # zoom the latency panel: the legend lists every series with its last value
        dash.panels["latency"].focus()
        await pilot.press("enter")
        from tui.screens.zoom import ZoomScreen
        assert isinstance(app.screen, ZoomScreen)
        await pilot.pause(0.2)
        legend = app.screen.query_one("#legend")
        chart = app.screen.panel.data  # what the legend was built from (the live panel may refresh meanwhile)
        assert legend.row_count == len(chart.lines)
        first = chart.lines[0]
        assert format_value(first.last, "s") == str(legend.get_row_at(0)[1])
        await pilot.press("escape")
        assert app.screen is dash


async def test_prometheus_down_then_back_recovers(prometheus, prom_samples):
    prom_samples("api_gateway_requests_total", n=3)
    proxy = TcpProxy("127.0.0.1", int(prometheus.url.rsplit(":", 1)[1])).up()
    app = make_app(proxy.url)
    try:
        async with app.run_test(size=(120, 40)):
            dash = app.get_screen("dashboard")
            assert await dash.wait_loaded(20)
            assert await until(lambda: dash.instant is not None)
            before = dash.instant
            proxy.down()
            assert await until(lambda: not dash.pollers["instant"].source.ok, 10)
            text = screen_text(app)
            assert "DOWN" in text and "stale since" in text
            # the last data stays on screen: the panels are not blanked
            assert dash.panels["stats"].data is not None and dash.instant is before
            assert dash.panels["stats"].has_class("-stale")
            proxy.up()
            assert await until(lambda: dash.pollers["instant"].source.ok and dash.instant is not before, 15)
            assert not dash.panels["stats"].has_class("-stale")
            assert "DOWN" not in screen_text(app)
    finally:
        proxy.down()


async def test_stat_row_shows_the_probes_values_at_the_same_instant(prometheus, prom_samples):
    """The stat row text equals format_value of the signals evaluate() returns for the same
    instant, combined here independently (sum of the front-door req/s; the worst P95)."""
    prom_samples("api_gateway_requests_total", n=4)
    app = make_app(prometheus.url, refresh="60s")
    async with app.run_test(size=(160, 48)) as pilot:
        dash = app.get_screen("dashboard")
        assert await dash.wait_loaded(20)
        at = time.time() - 2
        client = PrometheusClient(prometheus.endpoint)
        try:
            inst = await load_instant(client, dash.meta, app.ctx.config, 10, at=at)
            window = now_window(dash.meta.scrape_interval)
            values = await evaluate(client, dash.meta.detection.systems, app.ctx.config, window, at=at,
                                    breakdowns=BREAKDOWNS)
        finally:
            await client.aclose()
        dash._on_result("instant", inst, Source("instant", True, "", time.time()))
        await pilot.pause(0.2)
        text = screen_text(app)
        kinds = {(d.name, d.job): d.profile.kind for d in dash.meta.detection.systems}
        fronted = fronted_engines(values, kinds, app.ctx.config.traffic.behind_gateway)
        req = [v for v in front_door([v for v in values if v.signal == "request_rate"], kinds, fronted)
               if v.state == "ok"]
        p95 = [v for v in front_door([v for v in values if v.signal == "latency_p95"], kinds, fronted)
               if v.state == "ok"]
        assert req and p95
        want_req = format_value(sum(v.value for v in req), "req/s")
        worst = max(p95, key=lambda v: v.value)
        want_p95 = worst.text  # "<= 10.0 s" when the worst P95 lies in a wide bucket (issue 13)
        assert want_req in text, (want_req, text[:2000])
        assert want_p95 in text
        stats = {s.key: s for s in dash.panels["stats"].data}
        assert stats["req"].text == want_req and stats["p95"].text == want_p95


async def test_gpu_rows_equal_the_exporters_gauges(prometheus, stack, prom_samples):
    """Ground truth: the DCGM exporter's configured gauge values, printed with units.py."""
    prom_samples("DCGM_FI_DEV_GPU_UTIL", n=2)
    app = make_app(prometheus.url)
    async with app.run_test(size=(160, 48)):
        dash = app.get_screen("dashboard")
        assert await dash.wait_loaded(20)
        assert await until(lambda: dash.instant is not None and dash.instant.gpus)
        gpus = dash.instant.gpus
        truth = stack.gauges("dcgm")
        assert len(gpus) == 2
        text = screen_text(app)
        for g in gpus:
            assert format_value(g.util, "ratio") in text
            assert f"{format_value(g.mem_used, 'bytes')}/{format_value(g.mem_total, 'bytes')}" in text
        # the values themselves are the exporter's gauges: util in %, framebuffer in MiB
        for g in gpus:
            i = g.gpu
            assert g.util == pytest.approx(truth[f"gpu{i}.util"] / 100)
            assert g.mem_used == pytest.approx(truth[f"gpu{i}.fb_used"] * 2**20)
            assert g.temp == truth[f"gpu{i}.temp"] and g.power == pytest.approx(truth[f"gpu{i}.power"])
            assert f"{format_value(g.temp, 'C')} {format_value(g.power, 'W')}" in text


def test_snapshot_command_renders_text_and_svg(prometheus, prom_samples, tmp_path):
    import subprocess
    import sys

    prom_samples("api_gateway_requests_total", n=3)
    cmd = [sys.executable, "-m", "tui.cli", "snapshot", "--prometheus-url", prometheus.url, "--size", "120x40"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env={**__import__("os").environ, "NO_COLOR": "1"})
    assert run.returncode == 0, run.stderr
    assert "Prometheus 2.42" in run.stdout and "req/s" in run.stdout and "loading" not in run.stdout
    svg = tmp_path / "now.svg"
    run = subprocess.run(cmd + ["--output", str(svg)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and svg.read_text().startswith("<svg")
    bad = subprocess.run(cmd[:-2] + ["--size", "huge"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 3 and "WIDTHxHEIGHT" in bad.stderr and "Traceback" not in bad.stderr


def test_snapshot_with_prometheus_unreachable_says_so(tmp_path):
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "tui.cli", "snapshot", "--prometheus-url", "http://127.0.0.1:9", "--size", "100x30",
           "--timeout", "10s"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr  # every source answered: with an error
    assert "DOWN" in run.stdout and "refused" in run.stdout.lower()


async def test_direct_scrape_mode_fills_the_dashboard_without_prometheus(stack):
    """--scrape: the same panels from our own scrapes; what needs Prometheus says so."""
    from tui.app import LlmwatchApp
    from tui.cmd_dashboard import make_context

    cfg = load_config(None, env={}, overrides={("dashboard", "refresh"): "1s", ("dashboard", "range"): "5m"})
    scrape = (f"vllm={stack.url('vllm')}/metrics", f"gw={stack.url('api-gateway')}/metrics")
    app = LlmwatchApp(make_context(cfg, scrape=scrape))
    async with app.run_test(size=(160, 48)):
        dash = app.get_screen("dashboard")
        assert await dash.wait_loaded(20)
        assert {d.job for d in dash.meta.detection.systems} >= {"vllm", "gw"}
        assert await until(lambda: dash.instant is not None and
                           {s.key: s for s in dash.instant.stats}["req"].state == "ok", 15)
        stats = {s.key: s for s in dash.instant.stats}
        assert stats["req"].value > 0 and stats["targets"].text == "2/2"
        assert stats["alerts"].state == "needs_prometheus"
        text = screen_text(app)
        assert "direct scrape" in text and "needs Prometheus" in text
