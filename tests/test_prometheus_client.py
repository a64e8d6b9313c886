"""PrometheusClient on recorded Prometheus 2.42 answers (tests/fixtures/prometheus), replayed
with their recorded status and content type through httpx.MockTransport."""

from __future__ import annotations

import asyncio
import math
from datetime import datetime, timezone
from urllib.parse import parse_qs

import httpx
import pytest

from probes.config import Endpoint
from probes.prometheus import POST_THRESHOLD, PrometheusClient, server_timeout
from tests.harness.paths import FIXTURES as FIXTURES_ROOT

FIXTURES = FIXTURES_ROOT / "prometheus"
URL = "http://prom.example:9090"


def recorded(name: str) -> httpx.Response:
    body = (FIXTURES / name).read_bytes()
    status, _, ctype = (FIXTURES / f"{name}.status").read_text().strip().partition(" ")
    return httpx.Response(int(status), content=body, headers={"content-type": ctype})


def client_for(handler, **ep) -> PrometheusClient:
    endpoint = Endpoint(URL, **ep)
    return PrometheusClient(endpoint, client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))


def replay(name: str, seen: list | None = None) -> PrometheusClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return recorded(name)
    return client_for(handler)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
async def test_every_fixture_parses_without_protocol_error(name):
    c = replay(name)
    if name.startswith("query_range"):
        r = await c.query_range("q", 0, 60, 15)
    elif name.startswith("query"):
        r = await c.query("q")
    else:
        method = {"alerts.json": c.alerts, "rules.json": c.rules, "targets.json": c.targets,
                  "metadata.json": c.metadata, "label_name_values.json": c.label_values,
                  "buildinfo.json": c.buildinfo}[name]
        r = await method()
    assert r.error is None or r.error.kind != "protocol", r.error


async def test_vector():
    r = await replay("query_vector.json").query("sum by (backend) (rate(x[1m]))")
    assert r.ok and r.result_type == "vector" and r.error is None
    assert [(s.labels["backend"], s.value) for s in r.samples] == [("cloud", 1.4), ("local", 6.49090909090909)]
    assert r.samples[0].ts == 1795325073.665
    assert r.query == "sum by (backend) (rate(x[1m]))"


async def test_vector_labels_kept_verbatim():
    r = await replay("query_vector_labels.json").query("DCGM_FI_DEV_GPU_UTIL")
    assert r.samples[0].labels["modelName"] == "NVIDIA H100 80GB HBM3"
    assert r.samples[1].labels["gpu"] == "1" and r.samples[1].value == 24.0


async def test_nan_is_kept_as_a_float():
    r = await replay("query_nan.json").query("0/0")
    assert r.ok and len(r.samples) == 1 and math.isnan(r.samples[0].value)
    assert r.samples[0].labels == {}


async def test_empty_is_ok_and_empty_not_zero():
    r = await replay("query_empty.json").query("no_such_metric_total")
    assert r.ok and r.empty and r.samples == () and r.scalar() is None


async def test_scalar():
    r = await replay("query_scalar.json").query("scalar(sum(up))")
    assert r.ok and r.result_type == "scalar" and r.scalar() == 9.0


async def test_matrix():
    r = await replay("query_range_matrix.json").query_range("histogram_quantile(...)", 1795324773, 1795325073, 30)
    assert r.ok and r.result_type == "matrix" and len(r.series) == 3
    first = r.series[0]
    assert first.labels == {"model": "claude-sonnet"}
    assert first.points[0] == (1795324863.0, 4.204999999999999) and len(first.points) == 8


async def test_bad_data_carries_error_type_and_text():
    r = await replay("query_bad_data.json").query("sum(rate(api_gateway_requests_total[5m])")
    assert not r.ok and r.error.kind == "bad_data" and r.error.status == 400
    assert r.error.message == ('Prometheus at http://prom.example:9090: bad_data: invalid parameter "query": '
                               '1:41: parse error: unclosed left parenthesis')


async def test_server_timeout_503():
    r = await replay("query_timeout.json").query_range("count_over_time(...)", 0, 3600, 1)
    assert not r.ok and r.error.kind == "timeout" and r.error.status == 503
    assert "query timed out in expression evaluation" in r.error.message


async def test_too_many_points():
    r = await replay("query_too_many_points.json").query_range("up", 0, 86400, 1)
    assert r.error.kind == "bad_data" and "11,000 points" in r.error.message


async def test_warnings_and_infos_surface():
    def handler(request):
        return httpx.Response(200, json={"status": "success", "warnings": ["PromQL warning: x is not a counter"],
                                         "infos": ["PromQL info: metric might not be a counter"],
                                         "data": {"resultType": "vector", "result": []}})
    r = await client_for(handler).query("rate(x[5m])")
    assert r.ok and r.warnings == ("PromQL warning: x is not a counter",)
    assert r.infos == ("PromQL info: metric might not be a counter",)


async def test_warnings_kept_on_error():
    def handler(request):
        return httpx.Response(422, json={"status": "error", "errorType": "execution", "error": "many-to-many",
                                         "warnings": ["partial response"]})
    r = await client_for(handler).query("a / b")
    assert r.error.kind == "execution" and r.warnings == ("partial response",) and r.error.status == 422


async def test_html_proxy_page():
    def handler(request):
        return httpx.Response(502, text="<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
                              headers={"content-type": "text/html"})
    r = await client_for(handler).query("up")
    assert not r.ok and r.error.kind == "not_json" and r.error.status == 502
    assert r.error.message.startswith("Prometheus at http://prom.example:9090: expected JSON from /api/v1/query, "
                                      "got an HTML page (HTTP 502")
    assert "\n" not in r.error.message


async def test_html_page_with_200_is_not_json():
    r = await client_for(lambda req: httpx.Response(200, text="<!DOCTYPE html><html>login</html>")).alerts()
    assert not r.ok and r.error.kind == "not_json" and "HTML page" in r.error.message


async def test_json_that_is_not_prometheus():
    r = await client_for(lambda req: httpx.Response(200, json={"hello": "world"})).query("up")
    assert r.error.kind == "protocol" and "not a Prometheus API answer" in r.error.message


async def test_malformed_data_is_protocol_error_not_exception():
    r = await client_for(lambda req: httpx.Response(200, json={"status": "success", "data": {"resultType": "vector",
                                                                                     "result": [{"x": 1}]}})).query("up")
    assert r.error.kind == "protocol"


async def test_401_text_hints_at_credentials_and_hides_token():
    r = await client_for(lambda req: httpx.Response(401, text="Unauthorized"), bearer_token="s3cr3t-token").query("up")
    assert r.error.kind == "http" and r.error.status == 401
    assert "HTTP 401: Unauthorized (check bearer_token" in r.error.message and "s3cr3t" not in r.error.message


async def test_alerts():
    r = await replay("alerts.json").alerts()
    assert r.ok and len(r.value) == 3
    firing = [a for a in r.value if a.state == "firing"]
    assert firing[0].name == "GatewayHighErrorRate" and firing[0].value == pytest.approx(3.836363636363636)
    assert firing[0].active_at == datetime(2026, 11, 22, 5, 21, 24, 429773, tzinfo=timezone.utc)
    assert {a.state for a in r.value} == {"pending", "firing"}


async def test_rules():
    r = await replay("rules.json").rules()
    assert r.ok and [g.name for g in r.value] == ["ai-forge", "dev-pynode", "hybrid-ai-stack", "tinyllama_alerts"]
    rules = {rule.name: rule for g in r.value for rule in g.rules}
    gw = rules["GatewayHighErrorRate"]
    assert gw.type == "alerting" and gw.state == "firing" and gw.health == "ok" and gw.duration == 15
    assert len(gw.alerts) == 1 and gw.alerts[0].state == "firing"
    assert ">" in rules["HighLatency"].query  # \u003e decoded
    assert r.value[0].interval == 5 and r.value[0].file == "/etc/prometheus/alert_rules.yml"


async def test_targets():
    r = await replay("targets.json").targets()
    assert r.ok and r.value
    dcgm = next(t for t in r.value if t.job == "dcgm")
    assert dcgm.health == "down" and dcgm.last_error == 'Get "http://127.0.0.1:18008/metrics": EOF'
    assert dcgm.scrape_url == "http://127.0.0.1:18008/metrics" and dcgm.last_scrape.year == 2026
    assert all(t.health in ("up", "down", "unknown") for t in r.value)


async def test_metadata_label_values_buildinfo():
    md = await replay("metadata.json").metadata()
    assert md.value["vllm:prompt_tokens_total"][0]["type"] == "counter"
    names = await replay("label_name_values.json").label_values()
    assert "DCGM_FI_DEV_GPU_UTIL" in names.value and all(isinstance(n, str) for n in names.value)
    bi = await replay("buildinfo.json").buildinfo()
    assert bi.value["version"] == "2.42.0+ds"


async def test_metadata_for_one_metric_sends_param():
    seen: list[httpx.Request] = []
    await replay("metadata.json", seen).metadata("up")
    assert seen[0].url.path == "/api/v1/metadata" and seen[0].url.params["metric"] == "up"


async def test_label_values_path_is_quoted():
    seen: list[httpx.Request] = []
    await replay("label_name_values.json", seen).label_values("a/b")
    assert seen[0].url.raw_path == b"/api/v1/label/a%2Fb/values"


async def test_ready():
    r = await replay("ready.txt").ready()
    assert r.ok and r.value is True
    r = await client_for(lambda req: httpx.Response(503, text="Service Unavailable")).ready()
    assert not r.ok and r.value is False and r.error.kind == "not_ready" and "HTTP 503" in r.error.message


async def test_short_query_is_get_with_server_timeout_below_deadline():
    seen: list[httpx.Request] = []
    c = replay("query_vector.json", seen)
    await c.query("up", at=1795325073.5, timeout=5)
    req = seen[0]
    assert req.method == "GET" and req.url.path == "/api/v1/query"
    assert req.url.params["query"] == "up" and req.url.params["time"] == "1795325073.5"
    assert 0 < float(req.url.params["timeout"]) < 5 and float(req.url.params["timeout"]) == server_timeout(5)


async def test_long_query_is_post_form():
    seen: list[httpx.Request] = []
    c = replay("query_range_matrix.json", seen)
    long_q = "sum(" + " + ".join(f'rate(m{{job="j{i}"}}[5m])' for i in range(120)) + ")"
    assert len(long_q) > POST_THRESHOLD
    r = await c.query_range(long_q, 100, 200, 15)
    req = seen[0]
    assert r.ok and req.method == "POST" and req.headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(req.content.decode())
    assert form["query"] == [long_q] and form["start"] == ["100"] and form["step"] == ["15"]


async def test_identical_concurrent_queries_are_issued_once():
    calls = 0
    gate = asyncio.Event()

    async def handler(request):
        nonlocal calls
        calls += 1
        await gate.wait()
        return recorded("query_vector.json")

    c = client_for(handler)
    tasks = [asyncio.create_task(c.query("up")) for _ in range(5)] + [asyncio.create_task(c.query("other"))]
    await asyncio.sleep(0.05)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert calls == 2 and all(r.ok for r in results)
    assert results[0] is results[1]
    await c.query("up")  # after completion a new call goes out again
    assert calls == 3


async def test_one_caller_cancelled_does_not_cancel_the_others():
    gate = asyncio.Event()

    async def handler(request):
        await gate.wait()
        return recorded("query_vector.json")

    c = client_for(handler)
    a = asyncio.create_task(c.query("up"))
    b = asyncio.create_task(c.query("up"))
    await asyncio.sleep(0.02)
    a.cancel()
    await asyncio.sleep(0.01)
    gate.set()
    assert (await b).ok
    with pytest.raises(asyncio.CancelledError):
        await a


async def test_context_manager_closes_own_client():
    async with PrometheusClient(Endpoint("http://127.0.0.1:9")) as c:
        assert c.display == "http://127.0.0.1:9"
    assert c._client is None


async def test_path_prefix_is_kept():
    seen: list[httpx.Request] = []

    def handler(request):
        seen.append(request)
        return recorded("query_vector.json")

    c = PrometheusClient(Endpoint("http://h:9090/prometheus/"), client=httpx.AsyncClient(
        transport=httpx.MockTransport(handler)))
    await c.query("up")
    assert seen[0].url.path == "/prometheus/api/v1/query"


async def test_bad_ca_file_is_a_result_not_an_exception(tmp_path):
    async with PrometheusClient(Endpoint("https://127.0.0.1:9", ca_file=str(tmp_path / "missing.pem"))) as c:
        r = await c.query("up")
    assert not r.ok and r.error.kind == "config" and "ca_file" in r.error.message
