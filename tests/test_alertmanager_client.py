"""AlertmanagerClient on recorded Alertmanager 0.25 answers, and amtool-style matcher parsing."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import pytest

from probes.alertmanager import AlertmanagerClient, Matcher, MatcherError, parse_matcher, parse_matchers, rfc3339
from probes.config import Endpoint
from tests.harness.paths import FIXTURES as FIXTURES_ROOT

FIXTURES = FIXTURES_ROOT / "alertmanager"
URL = "http://am.example:9093"


def recorded(name: str) -> httpx.Response:
    body = (FIXTURES / name).read_bytes()
    status, _, ctype = (FIXTURES / f"{name}.status").read_text().strip().partition(" ")
    return httpx.Response(int(status), content=body, headers={"content-type": ctype})


def client_for(handler) -> AlertmanagerClient:
    return AlertmanagerClient(Endpoint(URL), client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))


def replay(name: str, seen: list | None = None) -> AlertmanagerClient:
    def handler(request):
        if seen is not None:
            seen.append(request)
        return recorded(name)
    return client_for(handler)


async def test_alerts():
    seen: list[httpx.Request] = []
    r = await replay("alerts.json", seen).alerts()
    assert r.ok and len(r.value) == 1
    a = r.value[0]
    assert a.name == "GatewayHighErrorRate" and a.state == "active" and a.fingerprint == "ce653977025c64bc"
    assert a.starts_at == datetime(2026, 11, 22, 5, 21, 39, 429000, tzinfo=timezone.utc)
    assert a.silenced_by == () and a.inhibited_by == () and a.receivers == ("webhook",)
    assert a.annotations["summary"] == "High error rate" and a.generator_url.startswith("http://vm:19090/graph")
    assert seen[0].url.params["active"] == "true" and seen[0].url.params["silenced"] == "true"


async def test_alerts_after_silence_are_suppressed():
    r = await replay("alerts_after_silence.json").alerts()
    a = r.value[0]
    assert a.state == "suppressed" and a.silenced_by == ("38dcffa7-2103-42f2-9ad4-1f1858423ced",)


async def test_alert_filters_are_sent_as_matchers():
    seen: list[httpx.Request] = []
    await replay("alerts.json", seen).alerts(silenced=False, filters=["severity=critical", Matcher("job", "a.*", True)])
    params = seen[0].url.params
    assert params["silenced"] == "false"
    assert params.get_list("filter") == ['severity="critical"', 'job=~"a.*"']


async def test_bad_filter_is_an_error_result():
    r = await replay("alerts.json").alerts(filters=["sev erity=x"])
    assert not r.ok and r.error.kind == "bad_data" and "bad matcher" in r.error.message


async def test_silences():
    r = await replay("silences.json").silences()
    assert r.ok and len(r.value) == 1
    s = r.value[0]
    assert s.id == "38dcffa7-2103-42f2-9ad4-1f1858423ced" and s.state == "active"
    assert s.matchers == (Matcher("alertname", "GatewayHighErrorRate", False, True),)
    assert s.created_by == "ops" and s.comment == "deploying fix"
    assert s.ends_at == datetime(2026, 11, 22, 6, 24, 33, tzinfo=timezone.utc)


async def test_create_silence_posts_the_recorded_body():
    seen: list[httpx.Request] = []
    start = datetime(2026, 11, 22, 5, 24, 33, tzinfo=timezone.utc)
    r = await replay("post_silence.json", seen).create_silence(
        ["alertname=GatewayHighErrorRate"], start, start.timestamp() + 3600, "ops", "deploying fix")
    assert r.ok and r.value == "38dcffa7-2103-42f2-9ad4-1f1858423ced"
    req = seen[0]
    assert req.method == "POST" and req.url.path == "/api/v2/silences"
    body = json.loads(req.content)
    assert body == {"matchers": [{"name": "alertname", "value": "GatewayHighErrorRate", "isRegex": False,
                                  "isEqual": True}],
                    "startsAt": "2026-11-22T05:24:33.000Z", "endsAt": "2026-11-22T06:24:33.000Z",
                    "createdBy": "ops", "comment": "deploying fix"}


async def test_bad_silence_becomes_typed_error():
    r = await replay("post_silence_bad.json").create_silence(["a=b"], 0, 1, "ops", "x")
    assert not r.ok and r.error.kind == "bad_data" and r.error.status == 400
    assert r.error.message.startswith("Alertmanager at http://am.example:9093: bad_data: parsing silence body")
    assert 'cannot parse "x" as "2006"' in r.error.message


async def test_silence_needs_a_matcher():
    r = await replay("post_silence.json").create_silence([], 0, 1, "ops", "x")
    assert r.error.kind == "bad_data" and "at least one matcher" in r.error.message


async def test_expire_silence():
    seen: list[httpx.Request] = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200)
    r = await client_for(handler).expire_silence("38dcffa7-2103-42f2-9ad4-1f1858423ced")
    assert r.ok and r.value is None
    assert seen[0].method == "DELETE" and seen[0].url.path == "/api/v2/silence/38dcffa7-2103-42f2-9ad4-1f1858423ced"


async def test_expire_unknown_silence_reads_json_string_error():
    r = await client_for(lambda req: httpx.Response(404, json="silence 123 not found")).expire_silence("123")
    assert not r.ok and r.error.kind == "not_found" and "silence 123 not found" in r.error.message


async def test_status():
    r = await replay("status.json").status()
    assert r.ok and r.value["versionInfo"]["version"] == "0.25.0" and r.value["cluster"]["status"] == "disabled"


async def test_html_and_not_array():
    r = await client_for(lambda req: httpx.Response(502, html="<html>bad gateway</html>")).alerts()
    assert r.error.kind == "not_json" and "HTML page (HTTP 502" in r.error.message
    r = await client_for(lambda req: httpx.Response(200, json={"status": "success"})).silences()
    assert r.error.kind == "protocol"


@pytest.mark.parametrize("text, expected", [
    ("alertname=Foo", Matcher("alertname", "Foo", False, True)),
    ("severity!=info", Matcher("severity", "info", False, False)),
    ('job=~"api.*"', Matcher("job", "api.*", True, True)),
    ("instance!~host-\\d+", Matcher("instance", "host-\\d+", True, False)),
    ('summary="a \\"quoted\\" word, with comma"', Matcher("summary", 'a "quoted" word, with comma', False, True)),
    (" env = 'prod' ", Matcher("env", "'prod'", False, True)),  # ' is no quote in amtool 0.25
    ("empty=", Matcher("empty", "", False, True)),
])
def test_parse_matcher(text, expected):
    assert parse_matcher(text) == expected


@pytest.mark.parametrize("text", ["noop", "1abc=x", 'a="unterminated', "a=~(", "=x"])
def test_parse_matcher_rejects(text):
    with pytest.raises(MatcherError):
        parse_matcher(text)


def test_matcher_round_trips_to_amtool_syntax():
    for text in ['job=~"api.*"', 'severity!="info"', 'a="x \\"y\\""']:
        assert str(parse_matcher(text)) == text


def test_parse_matchers_like_amtool():
    assert parse_matchers(["HighLatency", "severity=warning"]) == [
        Matcher("alertname", "HighLatency"), Matcher("severity", "warning")]
    assert parse_matchers(['{job="a,b", level!~"debug|info"}']) == [
        Matcher("job", "a,b"), Matcher("level", "debug|info", True, False)]


def test_rfc3339():
    assert rfc3339(0) == "1970-01-01T00:00:00.000Z"
    assert rfc3339(datetime(2026, 1, 2, 3, 4, 5, 678900)) == "2026-01-02T03:04:05.678Z"
