"""The demo's synthetic Loki answers like the recorded Loki 2.6.1 (tests/fixtures/loki).

Most tests serve a fixed set of log lines (a duck-typed stack holding known LogLines and a fixed
clock), so counts, order and timestamps can be asserted exactly; one test runs over a real
synthetic Stack. The server itself is always the real HTTP server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from probes.config import Endpoint
from probes.loki import LokiClient
from probes.synthetic.loki import LogQLError, MetricQuery, SyntheticLoki, parse_logql
from probes.synthetic.model import LogLine
from tests.harness.waiting import wait_for

T0 = 1795324800.0  # a whole minute, so step-aligned points are easy to reason about
NOW_NS = int((T0 + 120) * 1e9)
S = 10**9


class FixedStack:
    """What SyntheticLoki reads from a Stack: .services, .logs(name, since), .port(name)."""

    def __init__(self, lines: dict[str, list[LogLine]]):
        self.services = dict.fromkeys(lines)
        self._lines = lines

    def logs(self, name: str, since: float | None = None) -> list[LogLine]:
        return [x for x in self._lines[name] if since is None or x.t > since]

    def port(self, name: str) -> int:
        return 20000 + list(self.services).index(name)


def _line(dt: float, svc: str, level: str, text: str) -> LogLine:
    return LogLine(T0 + dt, svc, level, text)


LINES = {
    "tinycode": [
        _line(1, "tinycode", "info", '{"level": "INFO", "message": "GET /health ok"}'),
        _line(2, "tinycode", "error", '{"level": "ERROR", "message": "Request failed", "error_type": "timeout"}'),
        _line(2, "tinycode", "error", '{"level": "ERROR", "message": "Request failed", "error_type": "validation"}'),
        _line(30, "tinycode", "info", "[bold red]not markup[/] and \x1b[2J screen clear"),
        _line(65, "tinycode", "info", '{"level": "INFO", "message": "request completed"}'),
    ],
    "api-gateway": [
        _line(3, "api-gateway", "info", '{"level": "INFO", "message": "completed", "model": "tinyllama"}'),
        _line(4, "api-gateway", "error", '{"level": "ERROR", "message": "upstream error", "model": "phi2"}'),
        _line(61, "api-gateway", "error", '{"level": "ERROR", "message": "upstream error", "model": "claude-sonnet"}'),
        _line(62, "api-gateway", "info", '{"level": "INFO", "message": "completed", "model": "claude-sonnet"}'),
    ],
    "dcgm": [],  # no logs: must not appear in label values
}


@pytest.fixture(scope="module")
def loki():
    server = SyntheticLoki(FixedStack(LINES), clock=lambda: NOW_NS)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fixtures(fixtures_dir: Path) -> Path:
    return fixtures_dir / "loki"


def get(loki: SyntheticLoki, path: str, **params: Any) -> httpx.Response:
    return httpx.get(loki.url + path, params={k: str(v) for k, v in params.items()}, timeout=5)


def q(loki: SyntheticLoki, query: str, **params: Any) -> httpx.Response:
    params.setdefault("start", int(T0 * S))
    return get(loki, "/loki/api/v1/query_range", query=query, **params)


def entries(resp: httpx.Response) -> list[tuple[int, str, dict[str, str]]]:
    """(ns, line, labels) in the order the server listed them, streams concatenated."""
    assert resp.status_code == 200, resp.text
    return [(int(ts), line, s["stream"]) for s in resp.json()["data"]["result"] for ts, line in s["values"]]


def shape(x: Any) -> Any:
    """The JSON skeleton: keys and value kinds (int and float are both "number", as in JSON)."""
    if isinstance(x, dict):
        return {k: shape(v) for k, v in x.items()}
    if isinstance(x, list):
        return [shape(x[0])] if x else []
    return "number" if isinstance(x, (int, float)) and not isinstance(x, bool) else type(x).__name__


def recorded(fixtures: Path, name: str) -> tuple[int, str, bytes]:
    code, _, ctype = (fixtures / f"{name}.status").read_text().strip().partition(" ")
    return int(code), ctype, (fixtures / name).read_bytes()


# ---- same structure as the recordings ---------------------------------------------------------

@pytest.mark.parametrize("name, path, params", [
    ("query_range_streams.json", "/loki/api/v1/query_range", {"query": '{job="api-gateway"}', "limit": 20}),
    ("query_range_streams_forward.json", "/loki/api/v1/query_range",
     {"query": '{job="tinycode", level="error"}', "limit": 10, "direction": "forward"}),
    ("query_range_hostile.json", "/loki/api/v1/query_range", {"query": '{job=~".+"} |~ "not markup|\\\\x1b"'}),
    ("query_empty.json", "/loki/api/v1/query_range", {"query": '{job="nope"}'}),
    ("query_range_matrix.json", "/loki/api/v1/query_range",
     {"query": 'sum by (level) (count_over_time({job="api-gateway"}[1m]))', "step": 60}),
    ("query_instant_vector.json", "/loki/api/v1/query", {"query": 'sum by (job) (rate({job=~".+"}[1m]))',
                                                         "time": int(T0 + 62) * S}),
])
def test_same_shape_status_and_content_type_as_recorded(loki, fixtures, name, path, params):
    status, ctype, body = recorded(fixtures, name)
    want = json.loads(body)
    if path.endswith("query_range"):
        params = {"start": int(T0 * S), **params}
    resp = get(loki, path, **params)
    got = resp.json()
    assert (resp.status_code, resp.headers["content-type"]) == (status, ctype)
    assert shape(got["data"]["stats"]) == shape(want["data"]["stats"])
    assert got["status"] == "success" and got["data"].keys() == want["data"].keys()
    assert got["data"]["resultType"] == want["data"]["resultType"]
    for item in got["data"]["result"]:
        labels = item.get("stream", item.get("metric"))
        assert labels and all(isinstance(v, str) for v in labels.values())
        if "stream" in item:  # ns as decimal strings, 19 digits, lines as strings
            assert item.keys() == {"stream", "values"}
            assert all(isinstance(ts, str) and ts.isdigit() and len(ts) == 19 and isinstance(line, str)
                       for ts, line in item["values"])
        else:
            points = item["values"] if "values" in item else [item["value"]]
            assert all(isinstance(t, (int, float)) and isinstance(v, str) and float(v) > 0 for t, v in points)
    if name != "query_empty.json":
        assert got["data"]["result"], "the equivalent query must find the fixed lines"


@pytest.mark.parametrize("path, name", [("/ready", "ready.txt"), ("/loki/api/v1/labels", "labels.json"),
                                        ("/loki/api/v1/label/job/values", "label_job_values.json")])
def test_ready_and_labels_like_recorded(loki, fixtures, path, name):
    status, ctype, body = recorded(fixtures, name)
    resp = get(loki, path)
    assert (resp.status_code, resp.headers["content-type"]) == (status, ctype)
    if name == "ready.txt":
        assert resp.content == body
    else:
        assert shape(resp.json()) == shape(json.loads(body))
    assert get(loki, "/loki/api/v1/labels").json()["data"] == ["instance", "job", "level", "service"]
    assert get(loki, "/loki/api/v1/label/job/values").json()["data"] == ["api-gateway", "tinycode"]
    assert get(loki, "/loki/api/v1/label/level/values").json()["data"] == ["error", "info"]


@pytest.mark.parametrize("query, name", [('{job="api-gateway"', "query_parse_error.txt"),
                                         ('{job=~".*"}', "query_no_selector_error.txt")])
def test_errors_are_the_recorded_text(loki, fixtures, query, name):
    status, ctype, body = recorded(fixtures, name)
    resp = get(loki, "/loki/api/v1/query_range", query=query)
    assert (resp.status_code, resp.headers["content-type"], resp.content) == (status, ctype, body)


@pytest.mark.parametrize("path, params, text", [
    ("/loki/api/v1/query_range", {"query": '{job="x"} | json'}, "parse error at line 1, col 11"),
    ("/loki/api/v1/query_range", {"query": 'avg_over_time({job="x"}[1m])'}, "parse error at line 1"),
    ("/loki/api/v1/query_range", {"query": 'rate({job="x"}[1x])'}, "expecting RANGE"),
    ("/loki/api/v1/query_range", {"query": '{job=~"("}'}, "parse error : error parsing regexp"),
    ("/loki/api/v1/query_range", {"query": '{job="x"}', "limit": "-1"}, "limit must be a positive value"),
    ("/loki/api/v1/query_range", {"query": '{job="x"}', "limit": "ten"}, 'cannot parse "ten"'),
    ("/loki/api/v1/query_range", {"query": '{job="x"}', "direction": "up"}, "invalid direction"),
    ("/loki/api/v1/query_range", {"query": '{job="x"}', "start": "20", "end": "10"}, "end timestamp must not"),
    ("/loki/api/v1/query_range", {"query": 'rate({job="x"}[1m])', "step": "0"}, "zero or negative"),
    ("/loki/api/v1/query_range", {"query": 'rate({job="x"}[1m])', "start": "0", "step": "1"}, "11,000 points"),
    ("/loki/api/v1/query", {"query": '{job="x"}'}, "log queries are not supported as an instant query"),
])
def test_bad_queries_are_400_plain_text(loki, path, params, text):
    resp = get(loki, path, **params)
    assert resp.status_code == 400 and resp.headers["content-type"] == "application/json; charset=UTF-8"
    assert text in resp.text and not resp.text.startswith("{")


def test_unknown_path_is_404(loki):
    assert get(loki, "/loki/api/v1/nope").status_code == 404


# ---- log queries ------------------------------------------------------------------------------

def test_line_filters_chain_and_label_matchers(loki):
    assert [e[1] for e in entries(q(loki, '{job="tinycode"} |= "failed" != "timeout"'))] == [
        LINES["tinycode"][2].line]
    got = entries(q(loki, '{job=~"tiny.*|api-gateway", level!="info"} |~ "(?i)upstream|request" !~ "phi2"'))
    assert sorted(e[1] for e in got) == sorted([LINES["tinycode"][1].line, LINES["tinycode"][2].line,
                                                LINES["api-gateway"][2].line])
    assert all(e[2]["level"] == "error" for e in got)
    assert entries(q(loki, '{service="api-gateway", instance="127.0.0.1:20001"} |= `"model": "phi2"`'))[0][1] \
        == LINES["api-gateway"][1].line
    hostile = entries(q(loki, '{job=~".+"} |~ "not markup|\\\\x1b"'))
    assert [e[1] for e in hostile] == [LINES["tinycode"][3].line]  # returned as-is: the UI cleans it


def test_direction_limit_and_window(loki):
    back = entries(q(loki, '{job=~".+"}', limit=3))
    assert [e[0] for e in back] == sorted((e[0] for e in back), reverse=True)
    assert [e[1] for e in back] == [LINES["tinycode"][4].line, LINES["api-gateway"][3].line,
                                    LINES["api-gateway"][2].line]
    fwd = entries(q(loki, '{job=~".+"}', limit=2, direction="forward"))
    assert [e[0] for e in fwd] == [int((T0 + 1) * 1e6) * 1000, int((T0 + 2) * 1e6) * 1000]
    # start inclusive, end exclusive
    exact = int((T0 + 3) * S)
    assert [e[1] for e in entries(q(loki, '{job="api-gateway"}', start=exact, end=int((T0 + 4) * S)))] == [
        LINES["api-gateway"][0].line]
    assert entries(q(loki, '{job="api-gateway"}', start=exact + 1, end=int((T0 + 4) * S))) == []
    since = entries(get(loki, "/loki/api/v1/query_range", query='{job=~".+"}', since="60s"))
    assert len(since) == 3  # now = T0+120: the lines at 61, 62 and 65 s
    assert get(loki, "/loki/api/v1/query_range", query='{job=~".+"}').json()["data"]["stats"]["summary"][
        "totalEntriesReturned"] == 9  # default start: an hour back


def test_equal_timestamps_get_distinct_ns_so_follow_never_skips(loki):
    two = entries(q(loki, '{job="tinycode", level="error"}', direction="forward"))
    assert two[1][0] == two[0][0] + 1
    # follow by polling: start = last seen + 1 returns exactly the rest
    first = entries(q(loki, '{job="tinycode"}', limit=2, direction="forward"))
    rest = entries(q(loki, '{job="tinycode"}', start=first[-1][0] + 1, direction="forward"))
    assert [e[1] for e in first + rest] == [x.line for x in LINES["tinycode"]]


def test_post_form_body_is_accepted(loki):
    resp = httpx.post(loki.url + "/loki/api/v1/query_range", timeout=5,
                      data={"query": '{job="tinycode"} |= "health"', "start": str(int(T0 * S))})
    assert [e[1] for e in entries(resp)] == [LINES["tinycode"][0].line]


# ---- metric queries ---------------------------------------------------------------------------

def _matrix(resp: httpx.Response) -> dict[tuple, dict[float, str]]:
    assert resp.status_code == 200, resp.text
    data = resp.json()["data"]
    assert data["resultType"] == "matrix"
    return {tuple(sorted(s["metric"].items())): {t: v for t, v in s["values"]} for s in data["result"]}


def test_sum_by_level_count_over_time_on_step_aligned_points(loki):
    got = _matrix(q(loki, 'sum by (level) (count_over_time({job=~".+"}[1m]))', step=60,
                    start=int((T0 + 10) * S), end=int((T0 + 100) * S)))
    # points at T0, T0+60, T0+120 (aligned as the recording); a point counts (t-1m, t]
    assert got == {(("level", "error"),): {T0 + 60: "3", T0 + 120: "1"},
                   (("level", "info"),): {T0 + 60: "3", T0 + 120: "2"}}


def test_rate_sum_and_plain_count_over_time(loki):
    total = _matrix(q(loki, 'sum(rate({job=~".+"} |= "completed" [1m]))', step=60, end=int((T0 + 100) * S)))
    # "completed" at 3 s, then at 62 and 65 s: 1 and 2 lines per minute
    assert total == {(): {T0 + 60: "0.016666666666666666", T0 + 120: "0.03333333333333333"}}
    per_stream = _matrix(q(loki, 'count_over_time({job="api-gateway"}[30s])', step=30, end=int((T0 + 70) * S)))
    labels = {dict(k)["level"]: dict(k) for k in per_stream}
    assert labels["error"] == {"instance": "127.0.0.1:20001", "job": "api-gateway", "level": "error",
                               "service": "api-gateway"}
    assert per_stream[tuple(sorted(labels["error"].items()))] == {T0 + 30: "1", T0 + 90: "1"}
    post = _matrix(q(loki, 'sum(count_over_time({job="api-gateway"}[30s])) by (level)', step=30,
                     end=int((T0 + 70) * S)))
    assert set(post) == {(("level", "error"),), (("level", "info"),)}


def test_instant_vector(loki):
    resp = get(loki, "/loki/api/v1/query", query='sum by (job) (count_over_time({job=~".+"}[1m]))',
               time=f"{T0 + 62.5}")
    data = resp.json()["data"]
    assert data["resultType"] == "vector"
    assert {s["metric"]["job"]: s["value"] for s in data["result"]} == {
        "api-gateway": [T0 + 62.5, "4"], "tinycode": [T0 + 62.5, "1"]}  # (2.5 s, 62.5 s]


def test_parser_subset():
    m = parse_logql('sum by (level) (count_over_time({job="x"} |= "a" |~ `b\\d` [5m]))')
    assert isinstance(m, MetricQuery) and m.by == ("level",) and m.range_s == 300
    assert m.inner.filters == (("|=", "a"), ("|~", "b\\d"))
    assert parse_logql('rate({job="x"}[90s])').by is None
    for bad in ("", "{}", '{job="x"} |', 'sum by (job) ({job="x"})', 'count_over_time({job="x"})',
                'topk(3, rate({job="x"}[1m]))', '{job="x"} extra'):
        with pytest.raises(LogQLError):
            parse_logql(bad)


# ---- the llmwatch Loki client reads it --------------------------------------------------------

async def test_loki_client_reads_the_synthetic_loki(loki):
    client = LokiClient(Endpoint(loki.url))
    try:
        logs = await client.query_range('{job=~".+"} |= "error"', int(T0 * S), NOW_NS, limit=10)
        assert logs.ok and logs.result_type == "streams" and len(logs.entries) == 4  # "error_type" too
        assert [e.ts_ns for e in logs.entries] == sorted((e.ts_ns for e in logs.entries), reverse=True)
        assert logs.last_ns == int((T0 + 61) * 1e6) * 1000 and logs.stats["totalEntriesReturned"] == 4
        metric = await client.query_range_metric('sum by (level) (count_over_time({job=~".+"}[1m]))',
                                                 T0 + 10, T0 + 100, 60)
        assert metric.ok and metric.result_type == "matrix"
        assert {s.labels["level"]: s.points[-1][1] for s in metric.series} == {"error": 1.0, "info": 2.0}
        vec = await client.query('sum(count_over_time({job="tinycode"}[1h]))', at=T0 + 100)
        assert vec.ok and [s.value for s in vec.samples] == [5.0]
        assert (await client.labels()).value == ["instance", "job", "level", "service"]
        assert (await client.label_values("job")).value == ["api-gateway", "tinycode"]
        assert (await client.ready()).value is True
        bad = await client.query_range('{job="x"', int(T0 * S), NOW_NS)
        assert not bad.ok and bad.error.message.count("parse error at line 1, col 9") == 1
    finally:
        await client.aclose()


def test_over_a_real_synthetic_stack():
    from probes.synthetic import Stack

    stack = Stack(["api-gateway", "ollama"], seed=5).start()
    server = SyntheticLoki(stack)
    try:
        server.start()
        def five() -> list | None:
            got = entries(get(server, "/loki/api/v1/query_range", query='{job="api-gateway"}', limit=5))
            return got if len(got) == 5 else None

        got = wait_for(five, timeout=5, message="5 gateway log lines")
        assert len(got) == 5 and all(json.loads(line)["message"] in ("completed", "upstream error")
                                     for _, line, _ in got)
        assert got[0][2]["instance"] == f"127.0.0.1:{stack.port('api-gateway')}"
        assert get(server, "/loki/api/v1/label/job/values").json()["data"] == ["api-gateway"]  # ollama logs nothing
    finally:
        server.stop()
        stack.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/ready", timeout=2)
