"""`llmwatch alerts` and the AlertsScreen against a real Prometheus and Alertmanager, with the seeds'
alert rules firing on the synthetic stack.

Own module-scoped servers, for three reasons: the seed rules wait `for: 15s` on a 5 s group
interval, which we shorten to 2 s / 1 s here (the same expressions, so the same alerts fire, in
~10 s instead of ~25 s); one broken rule is added to show rule evaluation problems; and the last
test stops Prometheus, which the session fixtures must not see. Every silence a test creates is
expired before it ends.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import require_binary
from tests.harness.waiting import wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
BROKEN_GROUP = """\
  - name: broken
    interval: 1s
    rules:
      - alert: AlwaysBroken
        expr: 'up / on() up'
        labels:
          severity: warning
"""


def fast_rules() -> str:
    from probes.synthetic.servers import SEED_RULES

    text = SEED_RULES.read_text()
    text = re.sub(r"(?m)^(\s+)interval: 5s$", r"\1interval: 1s", text)
    text = re.sub(r"(?m)^(\s+)for: \d+s$", r"\1for: 2s", text)
    return text + BROKEN_GROUP


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    require_binary("prometheus")
    require_binary("prometheus-alertmanager")
    from probes.synthetic import Stack
    from probes.synthetic.servers import AlertmanagerServer, PrometheusServer

    d = tmp_path_factory.mktemp("alerts")
    (d / "rules.yml").write_text(fast_rules())
    stack = Stack(services=["api-gateway", "tinycode"], seed=77).start()
    stack.control("api-gateway", error_rate=0.6)   # GatewayHighErrorRate (critical, no job label)
    stack.control("tinycode", down=True)           # TinyLlamaServiceDown (critical, job+instance)
    am = AlertmanagerServer().start()
    prom = PrometheusServer(stack.targets(), rule_files=[d / "rules.yml"], alertmanager_url=am.url).start()
    try:
        prom.wait_for_targets(["api-gateway"], timeout=30)
        cfg = d / "llmwatch.toml"
        cfg.write_text(f'[prometheus]\nurl = "{prom.url}"\n[alertmanager]\nurl = "{am.url}"\n'
                       '[dashboard]\nrefresh = "1s"\n')
        yield {"stack": stack, "prom": prom, "am": am, "cfg": cfg, "dir": d}
    finally:
        prom.stop()
        am.stop()
        stack.stop()


def cli(env, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("LLMWATCH_", "LOKI_"))}
    environ.update(NO_COLOR="1", USER="pytest-user", HOME=str(env["dir"]))
    out = subprocess.run([sys.executable, "-m", "tui.cli", "alerts", *args, "--config", str(env["cfg"])],
                         capture_output=True, text=True, cwd=ROOT, timeout=timeout, env=environ)
    assert "Traceback" not in out.stderr, out.stderr
    return out


def as_json(env, *args: str) -> tuple[int, dict]:
    out = cli(env, "--format", "json", *args)
    doc = json.loads(out.stdout)
    assert doc["exit_code"] == out.returncode
    return out.returncode, doc


def rows(doc: dict, name: str) -> list[dict]:
    return [a for a in doc["alerts"] if a["name"] == name]


def am_silences(env) -> dict[str, dict]:
    return {s["id"]: s for s in httpx.get(f"{env['am'].url}/api/v2/silences", timeout=5).json()}


def expire_all(env, ids) -> None:
    for sid in ids:
        httpx.delete(f"{env['am'].url}/api/v2/silence/{sid}", timeout=5)


@pytest.fixture(scope="module")
def firing(env):
    """Wait (once) until both critical alerts fire and Alertmanager holds them."""
    def both():
        code, doc = as_json(env)
        got = {a["name"]: a for a in doc["alerts"] if a["state"] == "firing" and a["am_state"] == "active"}
        return doc if {"GatewayHighErrorRate", "TinyLlamaServiceDown"} <= got.keys() else None
    t0 = time.monotonic()
    doc = wait_for(both, timeout=45, interval=0.5, message="both critical alerts firing in Alertmanager")
    env["fired_after_s"] = time.monotonic() - t0
    return doc


def test_list_shows_merged_alerts_rule_problems_and_exit_2(env, firing):
    code, doc = as_json(env)
    assert code == 2 and doc["status"] == "CRITICAL"
    [down] = rows(doc, "TinyLlamaServiceDown")
    assert down["labels"]["job"] == "tinycode" and down["severity"] == "critical"
    assert down["source"] == "prometheus" and down["value"] == 0 and down["silenced_by"] == []
    [gw] = rows(doc, "GatewayHighErrorRate")
    assert gw["annotations"]["summary"] == "High error rate" and gw["value"] > 0.5
    [problem] = [p for p in doc["rule_problems"] if p["rule"] == "AlwaysBroken"]
    assert problem["group"] == "broken" and "many-to-many" in problem["error"]
    # firing before pending, critical before the rest, oldest first among equals
    order = [(a["state"] != "firing", {"critical": 0, "warning": 1, "info": 2}.get(a["severity"], 3),
              a["active_since"]) for a in doc["alerts"]]
    assert order == sorted(order)

    out = cli(env)
    assert out.returncode == 2
    lines = out.stdout.splitlines()
    assert lines[0].startswith("ALERTS CRITICAL - ") and "1 rules failing" in lines[0]
    [line] = [ln for ln in lines if " TinyLlamaServiceDown " in ln]
    assert line.startswith("FIRING   critical  TinyLlamaServiceDown") and "TinyLlama service is down" in line
    assert 'job="tinycode"' in line and line.endswith("am=active")
    assert any(ln.startswith("RULE-ERR broken/AlwaysBroken: ") for ln in lines)
    code, pending = as_json(env, "--state", "pending")
    assert code == 2 and all(a["state"] == "pending" for a in pending["alerts"])  # filter does not hide the code


def test_cli_silence_then_expire(env, firing):
    out = cli(env, "silence", "TinyLlamaServiceDown", "job=tinycode", "-c", "pytest: cli silence", "-d", "10m")
    sid = out.stdout.strip()
    assert out.returncode == 0 and UUID.match(sid), out
    created = []
    try:
        created.append(sid)
        sil = am_silences(env)[sid]
        assert sil["status"]["state"] == "active" and sil["createdBy"] == "pytest-user"
        assert sil["comment"] == "pytest: cli silence"
        assert {(m["name"], m["value"]) for m in sil["matchers"]} == {("alertname", "TinyLlamaServiceDown"),
                                                                     ("job", "tinycode")}

        def suppressed():
            code, doc = as_json(env, "--silences")
            [down] = rows(doc, "TinyLlamaServiceDown")
            return (code, doc) if down["am_state"] == "suppressed" else None
        code, doc = wait_for(suppressed, timeout=20, interval=0.5, message="the alert to be suppressed")
        assert rows(doc, "TinyLlamaServiceDown")[0]["silenced_by"] == [sid]
        assert sid in [s["id"] for s in doc["silences"]] and code == 2  # the gateway alert still fires

        out = cli(env, "silence", "GatewayHighErrorRate", "-c", "pytest: second", "--author", "ops")
        created.append(out.stdout.strip())
        assert am_silences(env)[created[1]]["createdBy"] == "ops"

        def all_critical_quiet():
            code, doc = as_json(env)
            crit = [a for a in doc["alerts"] if a["severity"] == "critical" and a["state"] == "firing"]
            return (code, doc) if all(a["am_state"] == "suppressed" for a in crit) else None
        code, doc = wait_for(all_critical_quiet, timeout=20, interval=0.5, message="both criticals suppressed")
        others = [a for a in doc["alerts"] if a["state"] == "firing" and a["am_state"] != "suppressed"]
        assert code == (1 if others else 0)
        text = cli(env, "--silences").stdout
        assert f"SILENCE  {sid} active ends in " in text and "by pytest-user: pytest: cli silence" in text

        out = cli(env, "expire", *created)
        assert out.returncode == 0 and out.stdout.splitlines() == [f"expired {i}" for i in created]
        assert {am_silences(env)[i]["status"]["state"] for i in created} == {"expired"}
        code, _ = wait_for(lambda: (lambda r: r if r[0] == 2 else None)(as_json(env)), timeout=20, interval=0.5,
                           message="exit 2 again after expiring")
        unknown = "00000000-0000-4000-8000-000000000000"
        out = cli(env, "expire", unknown)  # Alertmanager knows no such silence
        assert out.returncode == 3 and out.stdout == "" and len(out.stderr.strip().splitlines()) == 1
        assert out.stderr.startswith(f"llmwatch: {unknown}: Alertmanager at "), out.stderr
    finally:
        expire_all(env, created)


def test_readonly_never_writes(env):
    before = am_silences(env)
    out = cli(env, "--readonly", "silence", "alertname=TinyLlamaServiceDown", "-c", "must not exist")
    assert out.returncode == 3 and "read-only session" in out.stderr and out.stdout == ""
    ro = env["dir"] / "ro.toml"
    ro.write_text(env["cfg"].read_text().replace('[dashboard]\n', '[dashboard]\nreadonly = true\n'))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LLMWATCH_")}
    out = subprocess.run([sys.executable, "-m", "tui.cli", "alerts", "silence", "--config", str(ro), "alertname=X",
                          "-c", "must not exist"], capture_output=True, text=True, cwd=ROOT, env=environ, timeout=30)
    assert out.returncode == 3 and "read-only session" in out.stderr
    assert am_silences(env).keys() == before.keys()

    now = time.time()
    body = {"matchers": [{"name": "alertname", "value": "Nothing", "isRegex": False, "isEqual": True}],
            "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 600)),
            "createdBy": "pytest", "comment": "readonly expire test"}
    sid = httpx.post(f"{env['am'].url}/api/v2/silences", json=body, timeout=5).json()["silenceID"]
    try:
        out = cli(env, "expire", "--readonly", sid)
        assert out.returncode == 3 and "read-only session" in out.stderr
        assert am_silences(env)[sid]["status"]["state"] == "active"
    finally:
        expire_all(env, [sid])


# -- the screen, driven with Pilot against the same servers ---------------------------------------

def make_app(env, readonly: bool = False):
    from textual.app import App

    from probes.alertmanager import AlertmanagerClient
    from probes.config import load_config
    from probes.prometheus import PrometheusClient
    from tui.appctx import AppContext
    from tui.screens.alerts import AlertsScreen

    cfg = load_config(str(env["cfg"]))
    ctx = AppContext(cfg, PrometheusClient(cfg.prometheus), AlertmanagerClient(cfg.alertmanager), readonly=readonly)

    class AlertsApp(App):
        def __init__(self):
            super().__init__()
            self.opened = []
            self.ctx = ctx

        def on_mount(self):
            self.push_screen(AlertsScreen(ctx))

        def open_logs(self, request):
            self.opened.append(request)

    return AlertsApp()


async def until(pilot, predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        await pilot.pause(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


async def select(pilot, screen, name: str):
    from textual.widgets import DataTable

    await until(pilot, lambda: any(r.name == name for r in screen.view.rows), 15, f"{name} on screen")
    index = [r.name for r in screen.view.rows].index(name)
    screen.query_one("#alerts-table", DataTable).move_cursor(row=index)
    await pilot.pause()
    assert screen.selected_row().name == name


@pytest.mark.tui
async def test_screen_shows_alerts_opens_logs_silences_and_expires(env, firing):
    from textual.widgets import Button, Input

    from tui.screens.alerts import AlertsScreen
    from tui.screens.alerts_forms import ConfirmScreen, SilenceForm

    app = make_app(env)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        assert await screen.wait_loaded(15) and screen.loaded
        assert "AlwaysBroken" in str(screen.query_one("#rule-problems").render())
        await select(pilot, screen, "TinyLlamaServiceDown")
        row = screen.selected_row()
        details = str(screen.query_one("#alert-details").render())
        assert "TinyLlama service is down" in details and "job = tinycode" in details
        assert "TinyLlama has been down for more than 15 seconds" in details  # the description

        await pilot.press("enter")
        [req] = app.opened
        assert req.selector == f'{{job="tinycode", instance="{row.labels["instance"]}"}}'
        assert req.start == pytest.approx(row.active_since.timestamp() - 300) and req.end is None

        before = set(am_silences(env))
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, SilenceForm)
        matchers = form.query_one("#silence-matchers", Input).value
        assert matchers.startswith('alertname="TinyLlamaServiceDown"') and 'job="tinycode"' in matchers
        assert form.query_one("#silence-duration", Input).value == "2h"
        await pilot.press("enter")  # no comment yet: refused, nothing created
        assert "comment" in str(form.query_one("#silence-error").render())
        assert form.query_one("#silence-create", Button).disabled
        form.query_one("#silence-comment", Input).value = "pytest: screen silence"
        await pilot.pause()
        await pilot.press("enter")  # review: the confirmation step
        assert "Will create" in str(form.query_one("#silence-review").render())
        assert set(am_silences(env)) == before  # nothing POSTed before confirming
        await pilot.click("#silence-create")
        new = await until(pilot, lambda: set(am_silences(env)) - before, 10, "the silence in Alertmanager")
        [sid] = new
        try:
            sil = am_silences(env)[sid]
            assert sil["comment"] == "pytest: screen silence" and sil["createdBy"]
            assert {m["name"]: m["value"] for m in sil["matchers"]} == dict(row.labels)  # every label
            await until(pilot, lambda: any(r.name == "TinyLlamaServiceDown" and sid in r.silenced_by
                                           for r in screen.view.rows), 20, "the row to show its silence")
            await select(pilot, screen, "TinyLlamaServiceDown")

            await pilot.press("x")
            assert isinstance(app.screen, ConfirmScreen) and sid in str(app.screen.question)
            await pilot.press("escape")  # cancel: still active
            await pilot.pause()
            assert am_silences(env)[sid]["status"]["state"] == "active"
            await pilot.press("s")  # the silences list, with the new silence in it
            await pilot.press("x")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.click("#confirm-yes")
            await until(pilot, lambda: am_silences(env)[sid]["status"]["state"] == "expired", 10, "expired")
        finally:
            expire_all(env, [sid])
    await app.ctx.aclose()


@pytest.mark.tui
async def test_screen_readonly_never_writes(env, firing):
    from tui.screens.alerts import AlertsScreen

    app = make_app(env, readonly=True)
    before = set(am_silences(env))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        assert await screen.wait_loaded(15)
        await select(pilot, screen, "GatewayHighErrorRate")
        for key in ("n", "x"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, AlertsScreen)
        messages = [n.message for n in app._notifications]
        assert any("read-only session" in m for m in messages), messages
        assert "[read-only]" in str(screen.query_one("#alerts-status").render())
    assert set(am_silences(env)) == before
    await app.ctx.aclose()


@pytest.mark.tui
async def test_prometheus_down_screen_goes_stale_cli_still_lists_alertmanager(env, firing):
    """Last in the module: stops Prometheus."""
    app = make_app(env)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        assert await screen.wait_loaded(15)
        names = {r.name for r in screen.view.rows}
        env["prom"].stop()
        status = await until(pilot, lambda: "stale since" in (t := str(screen.query_one("#alerts-status").render()))
                             and t, 15, "the stale marker")
        assert "Prometheus at " in status and re.search(r"stale since \d\d:\d\d:\d\d", status)
        assert {r.name for r in screen.view.rows} == names and "prometheus" in screen.view.stale
        toasts = [n.message for n in app._notifications]
        assert toasts.count("Prometheus unreachable") == 1, toasts
        await pilot.press("r")
        await pilot.pause(0.5)
        assert [n.message for n in app._notifications].count("Prometheus unreachable") == 1  # once, not per poll
    await app.ctx.aclose()

    code, doc = as_json(env)
    assert doc["sources"]["prometheus"]["ok"] is False and "refused" in doc["sources"]["prometheus"]["error"]
    assert doc["sources"]["alertmanager"]["ok"] is True
    [gw] = rows(doc, "GatewayHighErrorRate")
    assert gw["source"] == "alertmanager" and gw["state"] == "firing"
    assert code == 2  # a firing critical alert outranks the unreadable Prometheus
