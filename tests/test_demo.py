"""`llmwatch demo`: orchestration in-process, and the real command in a subprocess.

The subprocess tests run `llmwatch demo --no-ui` as a user would, read the URLs and config it
prints, check that everything answers (Prometheus sees every target up), wait for the
incident's alert, then stop it with SIGTERM or SIGINT and check, through /proc and by
connecting, that no child process and no listening port is left behind.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import signal
import socket
import subprocess
import threading
import time
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from probes.config import parse_config
from probes.demo import ERROR_ALERTS, STACKS, Demo, DemoError, resolve_stack
from tests.conftest import require_binary
from tests.harness.screen_terminal import clean_env, console_script
from tests.harness.waiting import wait_for

REPO = Path(__file__).resolve().parents[1]
# Promised in probes/demo.py: the error spike starts 15 s after ready; the seed rule needs
# rate > 0.5/s for 15 s at a 5 s evaluation interval. Generous margins for a loaded CI box.
PENDING_BY_S = 35.0
FIRING_BY_S = 60.0


# ---- in-process -------------------------------------------------------------------------------

def test_resolve_stack():
    assert resolve_stack("default") == STACKS["default"] and "api-gateway" in STACKS["default"]
    assert resolve_stack("seeds") == ("tinycode", "dev-pynode", "api-gateway", "ai-forge", "code-llm-api")
    assert resolve_stack("vllm, dcgm,vllm") == ("vllm", "dcgm")
    with pytest.raises(ValueError, match="unknown service.*nope"):
        resolve_stack("vllm,nope")


def test_forced_prometheus_missing_is_one_error_and_starts_nothing():
    demo = Demo("default", with_prometheus=True, find=lambda name: None)
    with pytest.raises(DemoError, match="prometheus is not installed"):
        demo.start()
    assert demo.stack is None and demo.loki is None
    demo.stop()  # idempotent after a failed start


def test_cli_exit_3_with_one_line(monkeypatch, capsys):
    from tui.cli import main

    monkeypatch.setattr("probes.demo.find_binary", lambda name, **kw: None)
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--prometheus", "--no-ui"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 3 and err[-1].startswith("llmwatch demo: prometheus is not installed")
    assert "Traceback" not in "\n".join(err)
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--stack", "nope", "--no-ui"])
    assert exc.value.code == 3 and "unknown service(s) nope" in capsys.readouterr().err


def _gateway_health(demo: Demo) -> httpx.Response:
    return httpx.get(demo.stack.health_url("api-gateway"), timeout=5)


def test_direct_scrape_demo_config_and_incident_steps():
    demo = Demo("default", with_prometheus=False, incident=False, seed=3).start()
    try:
        assert demo.scrape_mode and demo.prometheus is None and demo.alertmanager is None
        assert "--no-prometheus" in demo.status_line()
        assert [j for j, _ in demo.scrape_targets()] == ["api-gateway", "vllm", "dcgm", "node"]
        cfg = demo.config(theme="light")
        assert parse_config(tomllib.loads(demo.config_toml("light"))) == dataclasses.replace(cfg, source=None)
        assert not cfg.configured("prometheus") and cfg.configured("loki")
        assert {s.name: s.url for s in cfg.services} == {
            n: demo.stack.health_url(n).rstrip("/") for n in ("api-gateway", "ollama", "vllm")}  # config drops "/"
        assert (cfg.prices["claude-sonnet"].input, cfg.prices["claude-sonnet"].output) == (3.0, 15.0)
        assert cfg.routing.cloud_reference == "claude-sonnet" and cfg.dashboard.refresh == 2.0
        assert cfg.dashboard.theme == "light"
        assert httpx.get(cfg.loki.url + "/ready", timeout=5).text == "ready\n"
        for svc in cfg.services:
            assert httpx.get(svc.url, timeout=5).status_code == 200

        steps = demo.timeline()
        assert [at for at, _, _ in steps] == [0.0, 5.0, 15.0, 35.0, 65.0]
        gw = demo.stack.services["api-gateway"]
        steps[1][2]()  # cloud fallback
        body = _gateway_health(demo)
        assert body.status_code == 503 and body.json()["backends"]["ollama"] == "down"
        cloud = sum(r.weight for r in gw.traffic.routes if r.backend == "cloud")
        assert cloud == pytest.approx(0.75)
        assert httpx.get(demo.stack.url("ollama") + "/", timeout=5).status_code == 500
        steps[2][2]()  # error spike; fallback over
        assert _gateway_health(demo).status_code == 200 and gw.settings.error_rate == 0.5
        assert sum(r.weight for r in gw.traffic.routes if r.backend == "cloud") == pytest.approx(0.18)
        steps[3][2]()  # GPU pressure; errors over
        assert gw.settings.error_rate is None
        g = demo.stack.gauges("dcgm")
        assert g["gpu0.fb_used"] + g["gpu0.fb_free"] + g["gpu0.fb_reserved"] == 81559 and g["gpu0.util"] == 100
        assert demo.stack.gauges("vllm")["kv_cache_usage_perc"] == 0.97
        steps[4][2]()  # recovery
        assert demo.stack.gauges("dcgm")["gpu0.fb_used"] == 72_000
        assert demo.incident_alert == "GatewayHighErrorRate"
        ports = [urlsplit(u).port for u in demo.urls().values()]
    finally:
        demo.stop()
        demo.stop()
    for port in ports:
        assert not _listening(port), f"port {port} still open after stop()"


# ---- the command in a subprocess ---------------------------------------------------------------

def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


class DemoProcess:
    """The installed `llmwatch demo --no-ui ...` with stdout (the config) and stderr (the URLs,
    the timeline, the advice) read line by line in threads."""

    READY = "llmwatch demo: ready"

    def __init__(self, *args: str):
        self.proc = subprocess.Popen([console_script(), "demo", "--no-ui", *args], cwd=REPO,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
        self.lines: list[str] = []      # stderr
        self.stdout: list[str] = []
        self._q: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self._q), daemon=True).start()
        threading.Thread(target=self._collect, daemon=True).start()

    @staticmethod
    def _pump(stream, q) -> None:
        for line in stream:
            q.put(line.rstrip("\n"))
        q.put(None)

    def _collect(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.stdout.append(line.rstrip("\n"))

    def read_until(self, prefix: str, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._q.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            self.lines.append(line)
            if line.startswith(prefix):
                return self.lines
        self.kill()
        raise AssertionError(f"no {prefix!r} line after {timeout}s; stderr: {self.lines[-20:]}; "
                             f"stdout: {self.stdout[-20:]}")

    def ready(self, timeout: float) -> list[str]:
        return self.read_until(self.READY, timeout)

    def drain(self) -> list[str]:
        while True:
            try:
                line = self._q.get_nowait()
            except queue.Empty:
                return self.lines
            if line is None:
                return self.lines
            self.lines.append(line)

    def urls(self) -> dict[str, str]:
        pairs = (line.split() for line in self.lines if line.startswith("  "))
        return {p[0]: p[1] for p in pairs if len(p) == 2}

    def config_text(self) -> str:
        return "\n".join(self.stdout)

    def stop(self, sig: int, timeout: float = 20.0) -> tuple[int, str]:
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"demo did not exit within {timeout}s of signal {sig}") from None
        time.sleep(0.2)  # let the reader threads take the last lines
        return self.proc.returncode, "\n".join(self.drain())

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _assert_all_released(pid_children: list[int], urls: dict[str, str]) -> None:
    for child in pid_children:
        assert not Path(f"/proc/{child}").exists(), f"child process {child} outlived the demo"
    for name, url in urls.items():
        assert not _listening(urlsplit(url).port), f"{name} still listening at {url}"


def _alert_state(prom_url: str, name: str) -> str | None:
    alerts = httpx.get(prom_url + "/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    states = {a["state"] for a in alerts if a["labels"].get("alertname") == name}
    return "firing" if "firing" in states else "pending" if "pending" in states else None


@pytest.mark.integration
def test_demo_with_prometheus_incident_alert_fires_and_sigint_cleans_up():
    require_binary("prometheus")
    require_binary("prometheus-alertmanager")
    demo = DemoProcess("--incident", "--seed", "7")
    try:
        demo.ready(timeout=45)
        ready = time.monotonic()
        urls = demo.urls()
        assert set(urls) == {*STACKS["default"], "prometheus", "alertmanager", "loki", "control"}
        cfg = parse_config(tomllib.loads(demo.config_text()))
        assert (cfg.prometheus.url, cfg.alertmanager.url, cfg.loki.url) == (
            urls["prometheus"], urls["alertmanager"], urls["loki"])
        for name in STACKS["default"]:  # every service answers (health or metrics)
            path = "/metrics" if name in ("dcgm", "node") else ""
            assert httpx.get(urls[name] + path, timeout=5).status_code < 600
        for svc in cfg.services:
            assert httpx.get(svc.url, timeout=5).status_code in (200, 503)
        assert httpx.get(urls["loki"] + "/ready", timeout=5).status_code == 200
        assert httpx.get(urls["alertmanager"] + "/-/ready", timeout=5).status_code == 200
        targets = httpx.get(urls["prometheus"] + "/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
        assert {t["labels"]["job"]: t["health"] for t in targets} == {
            j: "up" for j in ("api-gateway", "vllm", "dcgm", "node")}
        children = _children(demo.proc.pid)
        assert len(children) == 2, f"expected Prometheus and Alertmanager as children, got {children}"

        alert = ERROR_ALERTS["api-gateway"]
        wait_for(lambda: _alert_state(urls["prometheus"], alert), timeout=PENDING_BY_S,
                 interval=1.0, message=f"{alert} pending within {PENDING_BY_S}s of ready")
        pending_at = time.monotonic() - ready
        wait_for(lambda: _alert_state(urls["prometheus"], alert) == "firing",
                 timeout=max(FIRING_BY_S - pending_at, 1), interval=1.0,
                 message=f"{alert} firing within {FIRING_BY_S}s of ready")
        firing_at = time.monotonic() - ready
        wait_for(lambda: any(a["labels"]["alertname"] == alert for a in httpx.get(
            urls["alertmanager"] + "/api/v2/alerts", timeout=5).json()), timeout=10, interval=0.5,
            message=f"{alert} in Alertmanager")
        demo.drain()  # the incident steps printed so far
        assert any("error spike on api-gateway" in line for line in demo.lines), demo.lines[-5:]
        print(f"\n{alert}: pending {pending_at:.1f}s, firing {firing_at:.1f}s after ready")

        code, err = demo.stop(signal.SIGINT)  # Ctrl-C
        assert code == 0 and "Traceback" not in err, err
        _assert_all_released(children, urls)
    finally:
        demo.kill()


@pytest.mark.integration
def test_demo_no_prometheus_and_sigterm_cleans_up():
    demo = DemoProcess("--no-prometheus", "--stack", "seeds")
    try:
        demo.ready(timeout=20)
        urls = demo.urls()
        assert set(urls) == {*STACKS["seeds"], "loki", "control"}
        cfg = parse_config(tomllib.loads(demo.config_text()))
        assert not cfg.configured("prometheus") and not cfg.configured("alertmanager")
        assert len(cfg.services) == 5 and "gpt-4" in cfg.prices
        for name in STACKS["seeds"]:
            assert httpx.get(urls[name] + "/metrics", timeout=5, follow_redirects=True).status_code == 200
        got = wait_for(lambda: httpx.get(urls["loki"] + "/loki/api/v1/label/job/values", timeout=5).json()["data"],
                       timeout=10, message="jobs with logs")
        assert set(got) <= set(STACKS["seeds"])
        assert _children(demo.proc.pid) == []
        code, err = demo.stop(signal.SIGTERM)
        assert code == 0 and "--no-prometheus: scraping the services directly" in err and "Traceback" not in err
        _assert_all_released([], urls)
    finally:
        demo.kill()


@pytest.mark.tui
async def test_dashboard_opens_on_the_demo_in_direct_scrape_mode():
    """The context `llmwatch demo` hands the dashboard works: header, banner, systems detected."""
    import asyncio
    import io

    from rich.console import Console

    from tui.app import LlmwatchApp
    from tui.cmd_demo import build_context

    def text(app) -> str:
        console = Console(width=app.size[0], height=app.size[1], file=io.StringIO(), record=True, color_system=None)
        console.print(app.screen._compositor.render_update(full=True))
        return console.export_text()

    demo = Demo("default", with_prometheus=False, seed=11).start()
    try:
        ctx = build_context(demo, ascii_=True)
        assert ctx.scrape_mode and ctx.alertmanager is None and ctx.banner.startswith("demo: synthetic stack")
        app = LlmwatchApp(ctx)
        async with app.run_test(size=(160, 48)):
            dash = app.get_screen("dashboard")
            assert await dash.wait_loaded(20)
            deadline = time.monotonic() + 15
            while "Hybrid AI Stack" not in text(app) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            screen = text(app)
            assert "direct scrape" in screen and "demo: synthetic stack" in screen, screen[:400]
            assert "Hybrid AI Stack" in screen and "vLLM" in screen, screen
    finally:
        demo.stop()


@pytest.mark.integration
@pytest.mark.tui
def test_sigterm_while_the_dashboard_runs_restores_the_terminal_and_cleans_up():
    """The real UI in a pseudo-terminal: SIGTERM quits the app, the terminal is restored, and the
    Prometheus/Alertmanager children and every port are gone."""
    import pty
    import select

    require_binary("prometheus")
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.environ.update(TERM="xterm-256color", COLUMNS="140", LINES="40")
        os.chdir(REPO)
        os.execv(console_script(), [console_script(), "demo", "--stack", "api-gateway,vllm"])
    out = b""

    def read(until: bytes | None, timeout: float) -> None:
        nonlocal out
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (until is None or until not in out):
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    out += os.read(fd, 65536)
                except OSError:
                    return

    try:
        read(b"Hybrid AI Stack", 40)
        assert b"demo: synthetic stack" in out and b"Hybrid AI Stack" in out, out[-2000:]
        children = _children(pid)
        assert len(children) == 2
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        status = None
        while time.monotonic() < deadline:
            read(None, 0.3)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        assert status is not None and os.waitstatus_to_exitcode(status) == 0, "demo did not exit on SIGTERM"
        assert b"\x1b[?1049l" in out[-3000:] and b"Traceback" not in out  # left the alternate screen
        _assert_all_released(children, {})
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
