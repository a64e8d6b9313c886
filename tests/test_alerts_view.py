"""probes.alerts on recorded payloads: merge by label subset, sort, silences, failing sources."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import datetime, timedelta, timezone

import pytest

from probes.alertmanager import Matcher, _parse_alerts, _parse_silences
from probes.alerts import (AM_NOT_IN, AM_UNKNOWN, AlertRow, load_alerts, merge, rule_problems, silence_matchers,
                           span_text, age_text, validate_silence, view_status, with_stale, default_author)
from probes.promtypes import ApiError, ApiResult, PromAlert, parse_alerts, parse_rules
from probes.status import Status
from tests.harness.paths import FIXTURES as FIXTURES_ROOT

FIX = FIXTURES_ROOT
T0 = datetime(2026, 11, 22, 5, 0, tzinfo=timezone.utc)


def fixture(name: str):
    return json.loads((FIX / name).read_text())


def prom_alerts():
    return parse_alerts(fixture("prometheus/alerts.json")["data"])


def am_alerts(name="alerts.json"):
    return _parse_alerts(fixture(f"alertmanager/{name}"))


def palert(labels, state="firing", minutes=0, value=1.0):
    return PromAlert(labels=labels, annotations={"summary": "s"}, state=state,
                     active_at=T0 + timedelta(minutes=minutes), value=value)


def am_alert(labels, state="active", silenced=(), inhibited=()):
    return _parse_alerts([{"labels": labels, "annotations": {}, "startsAt": "2026-11-22T05:00:00Z",
                           "endsAt": "2026-11-22T06:00:00Z", "fingerprint": "f" + str(len(labels)),
                           "status": {"state": state, "silencedBy": list(silenced), "inhibitedBy": list(inhibited)}}])[0]


def test_recorded_payloads_merge_firing_first_then_severity():
    rows = merge(prom_alerts(), am_alerts())
    assert [(r.name, r.state, r.severity) for r in rows] == [
        ("GatewayHighErrorRate", "firing", "critical"),
        ("TinyLlamaModelTimeout", "pending", "critical"),
        ("TinyLlamaHighErrorRate", "pending", "warning"),
    ]
    gw = rows[0]
    assert gw.am_state == "active" and gw.silenced_by == () and gw.fingerprint == "ce653977025c64bc"
    assert gw.summary == "High error rate" and gw.value == pytest.approx(3.836363636363636)
    assert gw.active_since == datetime(2026, 11, 22, 5, 21, 24, 429773, tzinfo=timezone.utc)
    assert all(r.am_state == AM_NOT_IN for r in rows[1:])  # pending alerts are never sent
    assert rows[1].labels["job"] == "tinycode" and rows[1].description == "Model is experiencing timeout errors"


def test_recorded_silence_suppresses_and_status_follows():
    firing = merge(prom_alerts(), am_alerts())
    silenced = merge(prom_alerts(), am_alerts("alerts_after_silence.json"))
    sid = fixture("alertmanager/silences.json")[0]["id"]
    assert silenced[0].am_state == "suppressed" and silenced[0].silenced_by == (sid,)
    from probes.alerts import AlertsView
    assert view_status(AlertsView(rows=tuple(firing))) is Status.CRITICAL
    assert view_status(AlertsView(rows=tuple(silenced))) is Status.OK  # silenced does not count


def test_external_labels_match_by_subset_and_one_to_one_by_fewest_extras():
    ext = {"cluster": "prod"}
    p_any = palert({"alertname": "Down", "severity": "warning"}, minutes=1)
    p_one = palert({"alertname": "Down", "severity": "warning", "instance": "a"}, minutes=2)
    a_any = am_alert({**p_any.labels, **ext})
    a_one = am_alert({**p_one.labels, **ext}, state="suppressed", silenced=["s-1"])
    for am in ([a_any, a_one], [a_one, a_any]):  # order of the AM answer must not matter
        rows = merge([p_one, p_any], am)
        by_inst = {r.labels.get("instance"): r for r in rows}
        assert by_inst["a"].silenced_by == ("s-1",) and by_inst["a"].am_state == "suppressed"
        assert by_inst[None].silenced_by == () and by_inst[None].am_state == "active"
        assert by_inst["a"].am_labels["cluster"] == "prod"
        assert len(rows) == 2 and all(r.source == "prometheus" for r in rows)


def test_different_label_value_does_not_match():
    rows = merge([palert({"alertname": "Down", "instance": "a"})], [am_alert({"alertname": "Down", "instance": "b"})])
    assert [(r.labels["instance"], r.source, r.am_state) for r in rows] == [
        ("a", "prometheus", AM_NOT_IN), ("b", "alertmanager", "active")]


def test_alertmanager_only_alert_is_a_firing_row_and_sources_may_be_missing():
    other = am_alert({"alertname": "FromOtherProm", "severity": "critical"})
    rows = merge([], [other])
    assert rows[0].state == "firing" and rows[0].source == "alertmanager" and rows[0].value is None
    no_am = merge(prom_alerts(), None)
    assert {r.am_state for r in no_am} == {AM_UNKNOWN}
    only_am = merge(None, am_alerts())
    assert [r.name for r in only_am] == ["GatewayHighErrorRate"] and only_am[0].source == "alertmanager"


def test_sort_severity_then_oldest_unknown_severity_last():
    alerts = [palert({"alertname": "C", "severity": "page"}, minutes=0),
              palert({"alertname": "B", "severity": "warning"}, minutes=5),
              palert({"alertname": "A", "severity": "warning"}, minutes=1),
              palert({"alertname": "D", "severity": "info"}, minutes=0),
              palert({"alertname": "E", "severity": "Critical"}, minutes=9),
              palert({"alertname": "P", "severity": "critical"}, state="pending", minutes=0),
              PromAlert({"alertname": "X"}, {}, "inactive", None, None)]
    assert [r.name for r in merge(alerts, [])] == ["E", "A", "B", "D", "C", "P"]


def test_rule_problems_from_rules_payload():
    data = copy.deepcopy(fixture("prometheus/rules.json")["data"])
    assert rule_problems(parse_rules(data)) == []
    rule = data["groups"][1]["rules"][0]
    rule["health"], rule["lastError"] = "err", "many-to-many matching not allowed"
    [p] = rule_problems(parse_rules(data))
    assert (p.rule, p.group, p.error, p.type) == (rule["name"], data["groups"][1]["name"],
                                                  "many-to-many matching not allowed", "alerting")


def test_silence_matchers_use_all_labels_alertname_first():
    row = merge([palert({"severity": "warning", "alertname": "Down", "job": 'we"ird'})], None)[0]
    assert [str(m) for m in silence_matchers(row)] == ['alertname="Down"', 'job="we\\"ird"', 'severity="warning"']
    am_row = merge([palert({"alertname": "Down"})], [am_alert({"alertname": "Down", "cluster": "prod"})])[0]
    assert [m.name for m in silence_matchers(am_row)] == ["alertname", "cluster"]  # like the AM UI


def test_validate_silence(monkeypatch):
    ms = [Matcher("alertname", "Down")]
    monkeypatch.setenv("USER", "oncall")
    spec = validate_silence(ms, "90m", "  deploying fix ", None, T0.timestamp())
    assert spec.author == "oncall" == default_author() and spec.comment == "deploying fix"
    assert spec.ends_at - spec.starts_at == timedelta(minutes=90) and spec.starts_at == T0
    with pytest.raises(ValueError, match="comment"):
        validate_silence(ms, "2h", "  ", "me", 0)
    with pytest.raises(ValueError, match="bad duration"):
        validate_silence(ms, "2 hours", "x", "me", 0)
    with pytest.raises(ValueError, match="positive"):
        validate_silence(ms, "0s", "x", "me", 0)
    with pytest.raises(ValueError, match="matcher"):
        validate_silence([], "2h", "x", "me", 0)


def test_age_and_span_text():
    now = T0.timestamp()
    assert [span_text(s) for s in (0, 45, 61, 600, 3600, 3660 * 2, 86400 + 7200, -5)] == \
        ["0s", "45s", "1m1s", "10m", "1h", "2h2m", "1d2h", "0s"]
    assert age_text(None, now) == "-" and age_text(T0 - timedelta(minutes=3), now) == "3m"


# -- load_alerts with stub clients answering from the recorded payloads ----------------------------

class StubProm:
    system, display = "Prometheus", "http://prom:9090"

    def __init__(self, fail=None, delay=0.0):
        self.fail, self.delay = fail, delay

    async def _answer(self, value):
        await asyncio.sleep(self.delay)
        if self.fail:
            return ApiResult(ok=False, error=ApiError("refused", f"Prometheus at {self.display}: {self.fail}"))
        return ApiResult(ok=True, value=value)

    async def alerts(self):
        return await self._answer(prom_alerts())

    async def rules(self):
        return await self._answer(parse_rules(fixture("prometheus/rules.json")["data"]))


class StubAm(StubProm):
    system, display = "Alertmanager", "http://am:9093"

    async def alerts(self, **kw):
        return await self._answer(am_alerts("alerts_after_silence.json"))

    async def silences(self):
        return await self._answer(_parse_silences(fixture("alertmanager/silences.json")))


async def test_load_alerts_both_sources():
    view = await load_alerts(StubProm(), StubAm(), timeout=5)
    assert view.errors == {} and view.prometheus and view.alertmanager
    assert [s.id for s in view.silences] == ["38dcffa7-2103-42f2-9ad4-1f1858423ced"]
    assert view.rows[0].am_state == "suppressed" and view_status(view) is Status.OK


async def test_one_source_down_the_other_still_shows():
    view = await load_alerts(StubProm(fail="connection refused"), StubAm(), timeout=5)
    assert list(view.errors) == ["prometheus"] and "connection refused" in view.errors["prometheus"]
    assert [r.name for r in view.rows] == ["GatewayHighErrorRate"] and view.rows[0].source == "alertmanager"
    assert view_status(view) is Status.UNKNOWN  # the only alert is silenced; Prometheus unreadable
    view = await load_alerts(StubProm(), StubAm(fail="connection refused"), timeout=5)
    assert list(view.errors) == ["alertmanager"] and len(view.rows) == 3
    assert view_status(view) is Status.CRITICAL  # a firing critical outranks "could not check"
    view = await load_alerts(StubProm(), None, timeout=5)
    assert view.errors == {} and not view.alertmanager and view.rows[0].am_state == AM_UNKNOWN


async def test_timeout_is_an_error_not_a_hang():
    t0 = asyncio.get_running_loop().time()
    view = await load_alerts(StubProm(delay=5), StubAm(), timeout=0.3)
    assert asyncio.get_running_loop().time() - t0 < 2
    assert view.errors["prometheus"] == "Prometheus at http://prom:9090: no answer within 0.3s"
    assert [r.name for r in view.rows] == ["GatewayHighErrorRate"]


async def test_stale_rows_are_kept_when_a_source_fails():
    good = await load_alerts(StubProm(), StubAm(), timeout=5)
    bad = await load_alerts(StubProm(fail="connection refused"), StubAm(), timeout=5)
    merged = with_stale(bad, good)
    assert merged.stale == frozenset({"prometheus"}) and "prometheus" in merged.errors
    assert [r.name for r in merged.rows] == [r.name for r in good.rows]
    assert with_stale(good, bad) is good
    assert with_stale(bad, None) is bad


def test_row_is_frozen():
    row = merge([palert({"alertname": "A"})], None)[0]
    assert isinstance(row, AlertRow)
    with pytest.raises(Exception):
        row.state = "pending"  # type: ignore[misc]


# -- the screen on stub data: untrusted text, fixed clock, missing pieces -------------------------

class HostileProm(StubProm):
    async def alerts(self):
        return ApiResult(ok=True, value=[PromAlert(
            labels={"alertname": "Evil[bold red]X[/]", "severity": "critical", "job": 'a"b\\c', "instance": "\x1b[2Jh"},
            annotations={"summary": "[link=http://x]click[/link]\x1b]0;title\x07", "description": "line1\nline2"},
            state="firing", active_at=T0 - timedelta(minutes=3), value=2.0)])

    async def rules(self):
        return ApiResult(ok=True, value=[])


@pytest.mark.tui
async def test_screen_renders_untrusted_text_as_text_with_fixed_clock():
    from textual.app import App

    from probes.config import Config
    from tui.appctx import AppContext
    from tui.screens.alerts import AlertsScreen, log_request

    ctx = AppContext(Config(), prometheus=HostileProm(), alertmanager=None, clock=lambda: T0.timestamp())
    notes = []

    class NoLogsApp(App):  # no open_logs: the screen must say so instead of failing
        def on_mount(self):
            self.push_screen(AlertsScreen(ctx))

        def notify(self, message, **kw):
            notes.append(message)

    app = NoLogsApp()
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        assert await screen.wait_loaded(5)
        await pilot.pause()
        details = str(screen.query_one("#alert-details").render())
        assert "Evil[bold red]X[/]" in details and "[link=http://x]click[/link]" in details
        assert "\x1b" not in details and "\x07" not in details and "line1\nline2" in details
        status = str(screen.query_one("#alerts-status").render())
        assert "Alertmanager: not configured" in status and "1 firing" in status
        table = screen.query_one("#alerts-table")
        assert str(table.get_row_at(0)[3]) == "3m"  # age from ctx.clock, not the wall clock
        await pilot.press("enter")
        assert notes and "Logs are not available" in notes[-1] and '{job="a\\"b\\\\c", instance="\\x1b[2Jh"}' in notes[-1]
        await pilot.press("n")
        assert "Alertmanager not configured" in notes[-1] and isinstance(app.screen, AlertsScreen)
        silences = screen.query_one("#silences-table")
        await pilot.press("s")
        assert silences.display and silences.has_focus
        await pilot.press("s")
        assert not silences.display
        await pilot.press("escape")
        assert not isinstance(app.screen, AlertsScreen)  # popped back to the app's screen
    bare = merge([palert({"alertname": "X"})], None)[0]
    assert log_request(bare, 0).selector == '{job=~".+"}' and log_request(bare, 0).start == T0.timestamp() - 300
