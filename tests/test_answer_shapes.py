"""Malformed answers (a string where an object belongs, as proxies send) are "unexpected answer from
<system>" with the place named, never an AttributeError; doctor honours --timeout against a
hung or slow Prometheus.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from probes.alertmanager import AlertmanagerClient
from probes.config import Endpoint
from probes.loki import LokiClient
from probes.prometheus import PrometheusClient
from tests.harness.hostile import HostileServer
from tests.harness.terminal import LLMWATCH, ROOT, clean_env

OK = "success"
SHAPES = {
    "/api/v1/targets": ({"status": OK, "data": {"activeTargets": ["oops"]}}, "data.activeTargets[0]: expected an object"),
    "/api/v1/alerts": ({"status": OK, "data": {"alerts": [{"labels": "oops"}]}}, "data.alerts[0].labels: expected an object"),
    "/api/v1/rules": ({"status": OK, "data": {"groups": "oops"}}, "data.groups: expected a list"),
    "/api/v1/status/buildinfo": ({"status": OK, "data": "oops"}, "data: expected an object"),
    "/api/v1/label/__name__/values": ({"status": OK, "data": {"a": 1}}, "data: expected a list"),
    "/api/v1/query": ({"status": OK, "data": {"resultType": "vector", "result": ["oops"]}},
                      "data.result[0]: expected an object"),
    "/api/v1/query_range": ({"status": OK, "data": {"resultType": "matrix", "result": [{"metric": {}, "values": "x"}]}},
                            "data.result[0].values: expected a list"),
}


async def _prom_calls(client: PrometheusClient) -> dict:
    return {"/api/v1/targets": await client.targets(), "/api/v1/alerts": await client.alerts(),
            "/api/v1/rules": await client.rules(), "/api/v1/status/buildinfo": await client.buildinfo(),
            "/api/v1/label/__name__/values": await client.label_values(), "/api/v1/query": await client.query("up"),
            "/api/v1/query_range": await client.query_range("up", 0, 60, 15)}


@pytest.mark.parametrize("path", SHAPES)
async def test_prometheus_decoders_name_the_place(path):
    doc, where = SHAPES[path]
    with HostileServer("x", shapes={path: doc}) as server:
        client = PrometheusClient(Endpoint(server.url))
        try:
            got = (await _prom_calls(client))[path]
        finally:
            await client.aclose()
    assert not got.ok and got.error.kind == "protocol"
    assert got.error.message == f"unexpected answer from Prometheus at {server.url} ({path}): {where}, got a string" \
        or got.error.message.startswith(f"unexpected answer from Prometheus at {server.url} ({path}): {where}")
    assert "AttributeError" not in got.error.message


@pytest.mark.parametrize("path, doc, where", [
    ("/api/v2/alerts", [{"status": "oops"}], "alerts[0].status: expected an object"),
    ("/api/v2/alerts", {"a": 1}, "alerts: expected a list"),
    ("/api/v2/silences", [{"id": "a", "matchers": ["x"]}], "silences[0].matchers[0]: expected an object"),
    ("/api/v2/silences", [{"status": {}}], "silences[0].id: missing"),
    ("/api/v2/status", "oops", "status: expected an object"),
])
async def test_alertmanager_decoders_name_the_place(path, doc, where):
    with HostileServer("x", shapes={path: doc}) as server:
        client = AlertmanagerClient(Endpoint(server.url))
        try:
            got = {"/api/v2/alerts": client.alerts, "/api/v2/silences": client.silences,
                   "/api/v2/status": client.status}[path]
            got = await got()
        finally:
            await client.aclose()
    assert not got.ok and got.error.kind == "protocol"
    assert f"unexpected answer from Alertmanager at {server.url} ({path}): {where}" in got.error.message


@pytest.mark.parametrize("doc, where", [
    ("oops", "answer: expected an object"),
    ({"status": OK, "data": "oops"}, "data: expected an object"),
    ({"status": OK, "data": {"resultType": "streams", "result": [{"stream": "x", "values": []}]}},
     "data.result[0].stream: expected an object"),
    ({"status": OK, "data": {"resultType": "streams", "result": [{"values": [["abc", "line"]]}]}},
     "data.result[0].values[0]: expected"),
])
async def test_loki_decoder_names_the_place(doc, where):
    with HostileServer("x", shapes={"/loki/api/v1/query_range": doc}) as server:
        client = LokiClient(Endpoint(server.url))
        try:
            got = await client.query_range('{job="x"}', 0, 10**18)
        finally:
            await client.aclose()
    assert not got.ok and got.error.kind == "protocol" and where in got.error.message, got.error


async def test_ollama_decoder_names_the_place():
    from probes.config import Service
    from probes.ollama import loaded_models

    with HostileServer("x", shapes={"/api/ps": {"models": ["oops"]}}) as server:
        with pytest.raises(ValueError, match=r"unexpected answer from Ollama /api/ps: models\[0\]: expected an object"):
            await loaded_models(Service("ollama", f"{server.url}/"))


def run(tmp_path, *args, timeout=60):
    return subprocess.run([LLMWATCH, *args], capture_output=True, text=True, env=clean_env(tmp_path), timeout=timeout,
                          cwd=ROOT)


def test_check_and_doctor_on_malformed_answers(tmp_path):
    shapes = {path: doc for path, (doc, _) in SHAPES.items()}
    with HostileServer("x", shapes=shapes) as server:
        check = run(tmp_path, "check", "--prometheus-url", server.url, "--format", "json")
        doctor = run(tmp_path, "doctor", "--prometheus-url", server.url)
    assert check.returncode == 3, check.stderr
    summaries = [c["summary"] for c in json.loads(check.stdout)["checks"]]
    assert summaries and all("check failed" not in s and "AttributeError" not in s for s in summaries)
    assert any("unexpected answer from Prometheus" in s for s in summaries), summaries
    assert doctor.returncode == 3 and "internal error" not in doctor.stderr + doctor.stdout
    assert "unexpected answer from Prometheus" in doctor.stdout, doctor.stdout


@pytest.mark.parametrize("hang", ["/api/v1/", "/api/v1/query"])
def test_doctor_honours_its_timeout_against_a_hung_prometheus(hang, tmp_path):
    with HostileServer("x", hang=(hang,)) as server:
        started = time.monotonic()
        p = run(tmp_path, "doctor", "--prometheus-url", server.url, "--timeout", "2s")
        took = time.monotonic() - started
    assert took < 5, took
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert "UNKNOWN: cannot reach Prometheus" in p.stdout and "within 2s" in p.stdout
