"""LokiClient on recorded Loki 2.6.1 answers: streams, direction, hostile lines, metrics, text errors."""

from __future__ import annotations

import math

import httpx
import pytest

from probes.config import Endpoint
from probes.loki import LokiClient, flatten_streams, to_ns
from tests.harness.paths import FIXTURES as FIXTURES_ROOT

FIXTURES = FIXTURES_ROOT / "loki"
URL = "http://loki.example:3100"
START, END = 1795324473000000000, 1795325075850811931


def recorded(name: str) -> httpx.Response:
    body = (FIXTURES / name).read_bytes()
    status, _, ctype = (FIXTURES / f"{name}.status").read_text().strip().partition(" ")
    return httpx.Response(int(status), content=body, headers={"content-type": ctype})


def replay(name: str, seen: list | None = None, **ep) -> LokiClient:
    def handler(request):
        if seen is not None:
            seen.append(request)
        return recorded(name)
    return LokiClient(Endpoint(URL, **ep), client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))


async def test_streams_flattened_newest_first_with_exact_ns():
    seen: list[httpx.Request] = []
    r = await replay("query_range_streams.json", seen).query_range('{job="api-gateway"}', START, END, limit=20)
    assert r.ok and r.result_type == "streams" and len(r.entries) == 20
    ts = [e.ts_ns for e in r.entries]
    assert ts == sorted(ts, reverse=True) and all(isinstance(t, int) for t in ts)
    assert r.entries[0].ts_ns == 1795325075567484609  # exact: a float would round this
    assert r.entries[0].labels["level"] == "error" and '"upstream error"' in r.entries[0].line
    assert {e.labels["level"] for e in r.entries} == {"error", "info"}  # two streams interleaved
    assert r.last_ns == 1795325075567484609 and r.stats["totalEntriesReturned"] == 20
    p = seen[0].url.params
    assert p["start"] == str(START) and p["end"] == str(END) and p["limit"] == "20" and p["direction"] == "backward"


async def test_forward_is_oldest_first():
    seen: list[httpx.Request] = []
    r = await replay("query_range_streams_forward.json", seen).query_range(
        '{job="tinycode", level="error"}', START, END, limit=10, direction="forward")
    ts = [e.ts_ns for e in r.entries]
    assert r.ok and ts == sorted(ts) and len(ts) == 10 and seen[0].url.params["direction"] == "forward"


async def test_filter_pipeline_labels():
    r = await replay("query_range_filter.json").query_range('{job=~".+"} |= "error" | json', START, END, limit=10)
    assert r.ok and len(r.entries) == 10
    assert all("level_extracted" in e.labels for e in r.entries)


async def test_hostile_lines_arrive_verbatim():
    r = await replay("query_range_hostile.json").query_range('{job=~".+"}', START, END, limit=10)
    lines = [e.line for e in r.entries]
    assert "\x1b[2J\x1b[H screen clear attempt" in lines and "\x1b]0;pwned title\x07 title change" in lines
    assert any(line.startswith("[bold red]") for line in lines)  # escaping is the widget's job


async def test_metric_matrix():
    seen: list[httpx.Request] = []
    r = await replay("query_range_matrix.json", seen).query_range_metric(
        'sum by (level) (count_over_time({job="api-gateway"}[1m]))', 1795324473, 1795325073, 60)
    assert r.ok and r.result_type == "matrix" and [s.labels["level"] for s in r.series] == ["error", "info"]
    assert r.series[0].points[1] == (1795324920.0, 194.0)
    p = seen[0].url.params
    assert p["start"] == "1795324473000000000" and p["step"] == "60"


async def test_instant_vector():
    r = await replay("query_instant_vector.json").query('sum by (job) (rate({job=~".+"}[1m]))')
    assert r.ok and r.result_type == "vector" and len(r.samples) == 6
    assert r.samples[1].labels == {"job": "api-gateway"} and r.samples[1].value == 5.15


async def test_empty():
    r = await replay("query_empty.json").query_range('{job="nope"}', START, END)
    assert r.ok and r.entries == () and r.last_ns is None


@pytest.mark.parametrize("name, text", [
    ("query_parse_error.txt", "parse error at line 1, col 19: syntax error: unexpected $end, expecting } or ,"),
    ("query_no_selector_error.txt", "parse error : queries require at least one regexp or equality matcher"),
])
async def test_text_errors_with_json_content_type(name, text):
    r = await replay(name).query_range('{job="api-gateway"', START, END)
    assert not r.ok and r.error.kind == "bad_data" and r.error.status == 400
    assert r.error.message.startswith(f"Loki at http://loki.example:3100: {text}")
    assert "JSON" not in r.error.message


async def test_labels_and_values():
    assert (await replay("labels.json").labels()).value == ["job", "level", "service_name"]
    seen: list[httpx.Request] = []
    r = await replay("label_job_values.json", seen).label_values("job")
    assert r.value == ["ai-forge", "api-gateway", "code-llm-api", "litellm", "tinycode", "vllm"]
    assert seen[0].url.path == "/loki/api/v1/label/job/values"


async def test_ready_and_not_ready():
    assert (await replay("ready.txt").ready()).value is True
    c = LokiClient(Endpoint(URL), client=httpx.AsyncClient(transport=httpx.MockTransport(
        lambda req: httpx.Response(503, text="Ingester not ready: waiting for 15s after being ready\n"))))
    r = await c.ready()
    assert r.value is False and r.error.kind == "not_ready" and "Ingester not ready" in r.error.message


async def test_org_id_header_is_sent():
    seen: list[httpx.Request] = []
    from probes.http import ClientOptions, make_client
    ep = Endpoint(URL, org_id="tenant-a")
    http = make_client(ClientOptions.from_endpoint(ep))
    http._transport = httpx.MockTransport(lambda req: (seen.append(req), recorded("labels.json"))[1])
    async with LokiClient(ep, client=http) as c:
        await c.labels()
    await http.aclose()
    assert seen[0].headers["X-Scope-OrgID"] == "tenant-a"


async def test_bad_direction():
    r = await replay("query_empty.json").query_range("{a=\"b\"}", START, END, direction="sideways")
    assert r.error.kind == "bad_data"


def test_to_ns_keeps_ints_exact_and_converts_seconds():
    assert to_ns(1795325075567484609) == 1795325075567484609
    assert to_ns(1795324473) == 1795324473000000000
    assert to_ns(1795324473.5) == 1795324473500000000


def test_flatten_streams_tie_order_is_stable():
    res = [{"stream": {"s": "a"}, "values": [["2", "x"], ["1", "y"]]}, {"stream": {"s": "b"}, "values": [["2", "z"]]}]
    fwd = flatten_streams(res, "forward")
    assert [e.line for e in fwd] == ["y", "x", "z"]
    assert not math.isnan(fwd[0].ts)
