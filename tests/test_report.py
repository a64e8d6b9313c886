"""Check report formats: nagios first line and perfdata, json keys, prom textfile, plain text."""

from __future__ import annotations

import json

from probes.check_plan import alert_results, rule_result, target_results, SilenceIndex
from probes.checks import CheckResult, CheckRun, Perf
from probes.config import Rule
from probes.promtypes import PromAlert, QueryResult, Sample, Target
from probes.status import Status
from tui.output import write_file
from tui.report import perf_item, render_json, render_nagios, render_plain, render_prom


def a_run() -> CheckRun:
    return CheckRun(results=(
        CheckResult("api-gateway", "health", Status.CRITICAL, "HTTP 503 | redis: disconnected", value=12.5, unit="ms",
                    perfdata=(Perf("api-gateway time", 12.5, "ms", min=0),)),
        CheckResult("err", "rule", Status.OK, "0.2 %", value=0.002, unit="ratio",
                    perfdata=(Perf("err", 0.002, "", "0.01", "0.05"),)),
        CheckResult("evil\x1b[2J", "health", Status.OK, "[bold]x[/]\x07", value=float("nan")),
    ), duration_s=0.123, started_at=1795323600.0, deadline_s=10)


def test_nagios_first_line_and_perfdata():
    lines = render_nagios(a_run()).splitlines()
    assert lines[0] == ("LLMWATCH CRITICAL - 1 of 3 checks not OK: api-gateway: HTTP 503 / redis: disconnected"
                        " | 'api-gateway time'=12.5ms;;;0 'err'=0.002;0.01;0.05")
    assert lines[1] == "[CRITICAL] api-gateway (health): HTTP 503 / redis: disconnected"
    assert "\x1b" not in "\n".join(lines) and "\x07" not in "\n".join(lines)


def test_nagios_long_output_is_worst_first_like_check_multi():
    run = CheckRun(results=tuple(CheckResult(n, "health", st, n) for n, st in (
        ("a-ok", Status.OK), ("b-unknown", Status.UNKNOWN), ("c-crit", Status.CRITICAL), ("d-warn", Status.WARNING),
        ("e-crit", Status.CRITICAL), ("f-ok", Status.OK))), duration_s=0.1, started_at=0.0, deadline_s=10)
    lines = render_nagios(run).splitlines()[1:]
    assert [line.split()[1] for line in lines] == ["c-crit", "e-crit", "d-warn", "b-unknown", "a-ok", "f-ok"]


def test_json_started_at_is_rfc3339_utc_with_an_epoch_beside_it():
    data = json.loads(render_json(a_run()))
    assert data["started_at"] == "2026-11-22T05:00:00.000Z"
    assert data["started_at_epoch"] == 1795323600.0


def test_perf_item_quoting_and_trimming():
    assert perf_item(Perf("it's=odd", 1.0)) == "'it''s_odd'=1"
    assert perf_item(Perf("t", 0.5, "s", "1", "2", 0, 10)) == "'t'=0.5s;1;2;0;10"


def test_json_keys_and_nan_is_null():
    data = json.loads(render_json(a_run()))
    assert (data["status"], data["exit_code"]) == ("CRITICAL", 2)
    assert data["duration_s"] == 0.123
    assert [c["name"] for c in data["checks"]][:2] == ["api-gateway", "err"]
    assert data["checks"][2]["value"] is None
    for c in data["checks"]:
        assert {"name", "kind", "status", "summary", "value", "unit"} <= c.keys()


def test_prom_textfile():
    text = render_prom(a_run())
    assert 'llmwatch_check_status{check="api-gateway",kind="health"} 2' in text
    assert 'llmwatch_check_value{check="err",kind="rule",unit="ratio"} 0.002' in text
    assert 'check="evil"' in text and "\x1b" not in text  # control sequences removed, no NaN value line
    assert text.count("llmwatch_check_value{") == 2
    assert "llmwatch_run_status 2" in text and text.endswith("\n")


def test_prom_label_values_follow_the_exposition_format():
    """Backslash, double quote and line feed escaped; C0, C1, DEL and bidi characters gone; the
    exposition parser of direct-scrape mode reads the file with no bad line and gets the cleaned
    name back."""
    from probes.exposition import parse, parse_series

    name = 'a"b\\c\nd\x1b]0;t\x07\x9b1m\u202ee\x7f'
    run = CheckRun(results=(CheckResult(name, "health", Status.OK, "ok"),), duration_s=0.1, started_at=1.0,
                   deadline_s=1)
    text = render_prom(run)
    assert 'check="a\\"b\\\\c d' in text
    for bad in ("\x1b", "\x07", "\x9b", "\u202e", "\x7f"):
        assert bad not in text
    parsed = parse(text)
    assert parsed.malformed == 0, parsed.problems
    labels = [parse_series(raw)[1] for raw, _, _ in parsed.samples if raw.startswith("llmwatch_check_status")]
    assert labels[0]["check"].startswith('a"b\\c d')


def test_plain_has_no_escape_codes():
    text = render_plain(a_run())
    assert text.splitlines()[0].startswith("LLMWATCH CRITICAL - ")
    assert "\x1b" not in text and "\x07" not in text


def test_write_file_is_atomic(tmp_path):
    target = tmp_path / "x.prom"
    write_file(target, "a 1")
    write_file(target, "a 2")
    assert target.read_text() == "a 2\n" and [p.name for p in tmp_path.iterdir()] == ["x.prom"]


def q(*values, ok=True):
    return QueryResult(query="q", ok=ok, result_type="vector",
                       samples=tuple(Sample({"job": f"j{i}"}, v, 0.0) for i, v in enumerate(values)))


def test_rule_thresholds_and_states():
    rule = Rule(name="r", promql="x", warn="0.01", crit="0.05", unit="ratio")
    assert rule_result(rule, q(0.001)).status is Status.OK
    r = rule_result(rule, q(0.02))
    assert r.status is Status.WARNING and "outside the warning range 0.01" in r.summary
    r = rule_result(rule, q(0.001, 0.2))
    assert r.status is Status.CRITICAL and 'job="j1"' in r.summary and r.value == 0.2
    assert rule_result(rule, q()).status is Status.UNKNOWN
    assert rule_result(Rule(name="r", promql="x", no_data="ok"), q()).status is Status.OK
    assert rule_result(rule, q(float("nan"))).summary.startswith("no traffic")
    assert rule_result(Rule(name="r", promql="x", crit="@0:0"), q(0.0)).status is Status.CRITICAL


def test_targets_grouped_by_job():
    t = [Target({"job": "a"}, "http://h:1/metrics", "up", "", None),
         Target({"job": "b"}, "http://h:2/metrics", "down", "connection refused", None),
         Target({"job": "b"}, "http://h:3/metrics", "up", "", None)]
    by = {r.name: r for r in target_results(t)}
    assert by["target:a"].status is Status.OK and by["target:a"].summary == "1/1 up"
    assert by["target:b"].status is Status.CRITICAL and "1 of 2 targets down" in by["target:b"].summary


def test_alert_severity_pending_silenced_ignored():
    import re
    alerts = [PromAlert({"alertname": "A", "severity": "critical"}, {"summary": "s"}, "firing", None, 1.0),
              PromAlert({"alertname": "B", "severity": "warning"}, {}, "firing", None, 1.0),
              PromAlert({"alertname": "C", "severity": "info"}, {}, "firing", None, 1.0),
              PromAlert({"alertname": "D", "severity": "critical"}, {}, "pending", None, 1.0),
              PromAlert({"alertname": "E", "severity": "critical"}, {}, "firing", None, 1.0),
              PromAlert({"alertname": "Noisy", "severity": "critical"}, {}, "firing", None, 1.0)]
    silences = SilenceIndex(silenced=((frozenset({"alertname": "E", "severity": "critical"}.items()), ("sid-1",)),))
    by = {r.name: r for r in alert_results(alerts, silences, [re.compile("^Noisy$")])}
    assert by["alert:A"].status is Status.CRITICAL
    assert by["alert:B"].status is Status.WARNING and by["alert:C"].status is Status.WARNING
    assert by["alert:D"].status is Status.OK and by["alert:D"].summary.startswith("pending")
    assert by["alert:E"].status is Status.OK and by["alert:E"].silenced and "sid-1" in by["alert:E"].summary
    assert "alert:Noisy" not in by


def test_slo_results():
    from probes.check_plan import slo_results
    from probes.config import Slo
    from probes.signals import SignalValue

    def sv(signal, state, value, unit):
        return SignalValue(signal=signal, system="gw", title="GW", job="api", state=state, value=value, unit=unit,
                           method="ratio", query="q")
    slo = Slo(error_rate=0.01, latency_p95=2.0, availability=0.999)
    out = {r.name: r for r in slo_results(
        [sv("error_rate", "ok", 0.02, "ratio"), sv("latency_p95", "ok", 1.5, "s"),
         sv("ttft_p95", "ok", 9.0, "s"), sv("error_rate", "not_exported", None, "ratio")],
        {"api": 0.9995, "db": 0.99}, slo)}
    assert out["slo:gw:api:error_rate"].status is Status.CRITICAL
    assert out["slo:gw:api:latency_p95"].status is Status.OK
    assert out["slo:api:availability"].status is Status.OK and out["slo:db:availability"].status is Status.CRITICAL
    assert len(out) == 4  # ttft has no target; not_exported is not a check
    [quiet] = slo_results([sv("error_rate", "no_traffic", None, "ratio")], {}, Slo(error_rate=0.01))
    assert quiet.status is Status.OK and quiet.summary.startswith("no traffic")
