"""The Loki replay must answer like the recorded Loki 2.6.1, or Loki tests prove nothing."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.harness.logql import LogQLError, parse_stream_query, parse_time_ns
from tests.harness.loki_replay import RECORDED, LokiReplay, load_fixture
from tests.harness.waiting import wait_for

QR = "/loki/api/v1/query_range"
WINDOW = {"start": "1795321473000000000", "end": "1795325999000000000"}


def get(loki: LokiReplay, path: str, **params: str) -> httpx.Response:
    return httpx.get(loki.url + path, params=params, timeout=5)


def entries(resp: httpx.Response) -> list[tuple[int, str, dict[str, str]]]:
    """(ns, line, stream labels) in the order the response lists them."""
    out = []
    for stream in resp.json()["data"]["result"]:
        out.extend((int(ts), line, stream["stream"]) for ts, line in stream["values"])
    return out


@pytest.mark.parametrize("path,params,name", RECORDED, ids=[r[2] for r in RECORDED])
def test_recorded_request_gets_recorded_bytes(loki: LokiReplay, path: str, params: dict[str, str], name: str) -> None:
    fixture = load_fixture(loki.directory, name)
    resp = get(loki, path, **params)
    assert resp.status_code == fixture.status
    assert resp.headers["content-type"] == fixture.content_type
    assert resp.content == fixture.body


def test_every_loki_fixture_is_replayed(loki: LokiReplay) -> None:
    on_disk = {p.name for p in Path(loki.directory).iterdir() if not p.name.endswith(".status")}
    assert on_disk == {name for _, _, name in RECORDED}


def test_errors_are_text_not_json(loki: LokiReplay) -> None:
    resp = get(loki, QR, query='{job="api-gateway"')
    assert resp.status_code == 400
    assert resp.text == "parse error at line 1, col 19: syntax error: unexpected $end, expecting } or ,"
    with pytest.raises(json.JSONDecodeError):
        json.loads(resp.text)


def test_computed_backward_query_equals_recording(loki: LokiReplay) -> None:
    """Same request plus an explicit direction is computed, and must agree with the recording."""
    recorded = json.loads(load_fixture(loki.directory, "query_range_streams.json").body)
    resp = get(loki, QR, query='{job="api-gateway"}', limit="20", start="1795324473000000000",
               end="1795325075850811931", direction="backward")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json; charset=UTF-8"
    assert resp.json()["data"]["result"] == recorded["data"]["result"]


def test_computed_forward_query_equals_recording(loki: LokiReplay) -> None:
    recorded = json.loads(load_fixture(loki.directory, "query_range_streams_forward.json").body)
    resp = get(loki, QR, query='{job="tinycode",level="error"}', limit="10", direction="forward",
               start="1795324473000000000", end=WINDOW["end"])
    assert resp.json()["data"]["result"] == recorded["data"]["result"]


@pytest.mark.parametrize("direction", ["backward", "forward"])
def test_limit_applies_across_streams_in_time_order(loki: LokiReplay, direction: str) -> None:
    every = entries(get(loki, QR, query='{job=~".+"}', limit="1000", direction=direction, **WINDOW))
    some = entries(get(loki, QR, query='{job=~".+"}', limit="7", direction=direction, **WINDOW))
    assert len(some) == 7
    stamps = sorted((ns for ns, _, _ in every), reverse=direction == "backward")
    assert sorted(ns for ns, _, _ in some) == sorted(stamps[:7])
    for stream in get(loki, QR, query='{job=~".+"}', limit="1000", direction=direction, **WINDOW).json()["data"]["result"]:
        ns = [int(ts) for ts, _ in stream["values"]]
        assert ns == sorted(ns, reverse=direction == "backward")
        assert all(isinstance(ts, str) and len(ts) == 19 for ts, _ in stream["values"])


def test_default_limit_is_100_and_default_direction_backward(loki: LokiReplay) -> None:
    got = entries(get(loki, QR, query='{job=~".+"}', **WINDOW))
    assert 0 < len(got) <= 100
    newest = max(ns for ns, _, _ in got)
    assert got[0][0] == max(ns for ns, _, l in got if l == got[0][2])
    assert newest == max(ns for ns, _, _ in entries(get(loki, QR, query='{job=~".+"}', limit="1000", **WINDOW)))


def test_start_inclusive_end_exclusive_and_rfc3339(loki: LokiReplay) -> None:
    ts = 1795325075567484609  # the newest api-gateway error line
    at = entries(get(loki, QR, query='{job="api-gateway",level="error"}', start=str(ts), end=str(ts + 1)))
    assert [e[0] for e in at] == [ts]
    assert entries(get(loki, QR, query='{job="api-gateway",level="error"}', start=str(ts + 1), end=str(ts + 10))) == []
    assert entries(get(loki, QR, query='{job="api-gateway",level="error"}', start=str(ts - 10), end=str(ts))) == []
    rfc = entries(get(loki, QR, query='{job="api-gateway",level="error"}',
                      start="2026-11-22T05:24:35.567484609Z", end="2026-11-22T05:24:35.567484610Z"))
    assert [e[0] for e in rfc] == [ts]


def test_label_matchers_and_line_filters(loki: LokiReplay) -> None:
    not_gw = entries(get(loki, QR, query='{job!="api-gateway", job=~".+"}', limit="1000", **WINDOW))
    assert not_gw and all(labels["job"] != "api-gateway" for _, _, labels in not_gw)
    regex = entries(get(loki, QR, query='{job=~"tiny.*", level!~"info"}', limit="1000", **WINDOW))
    assert regex and all(l["job"] == "tinycode" and l["level"] == "error" for _, _, l in regex)
    phi = entries(get(loki, QR, query='{job="api-gateway"} |= "phi2" != "INFO"', limit="1000", **WINDOW))
    assert phi and all("phi2" in line and "INFO" not in line for _, line, _ in phi)
    esc = entries(get(loki, QR, query='{job=~".+"} |~ "\\\\x1b\\\\[[0-9;]*[A-Za-z]"', limit="1000", **WINDOW))
    assert esc and all("\x1b[" in line for _, line, _ in esc)


def test_empty_result_keeps_loki_shape(loki: LokiReplay) -> None:
    body = get(loki, QR, query='{job="nope"}', **WINDOW).json()
    assert body["status"] == "success"
    assert body["data"]["resultType"] == "streams" and body["data"]["result"] == []
    assert body["data"]["stats"]["summary"]["totalEntriesReturned"] == 0


def test_selector_that_matches_everything_is_refused(loki: LokiReplay) -> None:
    recorded = load_fixture(loki.directory, "query_no_selector_error.txt")
    for query in ('{job=~".*"}', '{job!="x"}'):
        resp = get(loki, QR, query=query, limit="5")
        assert (resp.status_code, resp.content) == (400, recorded.body)


def test_metric_queries_serve_recorded_matrix_and_vector(loki: LokiReplay) -> None:
    matrix = get(loki, QR, query='count_over_time({job="tinycode"}[5m])', step="30")
    assert matrix.json()["data"]["resultType"] == "matrix"
    vector = get(loki, "/loki/api/v1/query", query='rate({job="vllm"}[1m])')
    assert vector.json()["data"]["resultType"] == "vector"


def test_label_values_for_unrecorded_labels(loki: LokiReplay) -> None:
    assert get(loki, "/loki/api/v1/label/level/values").json() == {"status": "success", "data": ["error", "info"]}
    assert get(loki, "/nope").status_code == 404


def test_org_id_and_headers_are_recorded(loki_requests: LokiReplay) -> None:
    httpx.get(loki_requests.url + "/loki/api/v1/labels", headers={"X-Scope-OrgID": "tenant-a"}, timeout=5)
    req = loki_requests.last_request
    assert req.path == "/loki/api/v1/labels"
    assert req.headers["x-scope-orgid"] == "tenant-a"


def test_auth_requirements() -> None:
    with LokiReplay(basic_auth=("ops", "s3cret"), require_org_id="t1") as server:
        url = server.url + "/loki/api/v1/labels"
        assert httpx.get(url, timeout=5).status_code == 401
        assert httpx.get(url, auth=("ops", "wrong"), timeout=5).status_code == 401
        no_org = httpx.get(url, auth=("ops", "s3cret"), timeout=5)
        assert (no_org.status_code, no_org.text) == (401, "no org id\n")
        assert httpx.get(url, auth=("ops", "s3cret"), headers={"X-Scope-OrgID": "t1"}, timeout=5).status_code == 200
    with LokiReplay(bearer_token="tok") as server:
        url = server.url + "/ready"
        assert httpx.get(url, timeout=5).status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer tok"}, timeout=5).text == "ready\n"


def test_logql_parser_and_times() -> None:
    q = parse_stream_query('{a="b", c=~"d.+"} |= `x` !~ "y\\\\d"')
    assert [(m.name, m.op, m.value) for m in q.matchers] == [("a", "=", "b"), ("c", "=~", "d.+")]
    assert [(f.op, f.value) for f in q.filters] == [("|=", "x"), ("!~", "y\\d")]
    with pytest.raises(LogQLError, match=r"col 7: syntax error: unexpected \$end"):
        parse_stream_query('{a="b"')
    assert parse_time_ns("1795324473", 0) == 1795324473 * 10**9
    assert parse_time_ns("1795324473000000001", 0) == 1795324473000000001
    assert parse_time_ns("1795324473.5", 0) == 1795324473500000000
    assert parse_time_ns(None, 42) == 42


def test_wait_for_reports_what_it_waited_for() -> None:
    assert wait_for(lambda: 3, timeout=1) == 3
    with pytest.raises(AssertionError, match="waiting for the moon"):
        wait_for(lambda: False, timeout=0.2, interval=0.05, message="the moon")
