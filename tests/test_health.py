"""Health probes against real HTTP servers on 127.0.0.1 serving the bodies real stacks return.

Every server here is a real socket: the point is to see what a probe does with a 503, an nginx
error page, a 5 MB body, a peer that never answers, a redirect loop or a self-signed certificate,
not what a mock thinks those look like.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import httpx
import pytest

import probes.health as health
from probes.config import Service
from probes.health import MAX_BODY_BYTES, HealthResult, probe, probe_all
from probes.status import Status
from tests.harness.health_server import route, serve


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    yield from serve()


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """Accepts connections (kernel backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture(scope="module")
def cert(tmp_path_factory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "30", "-subj", "/CN=llmwatch-test",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=30)
    return cert, key


@pytest.fixture(scope="module")
def tls_base(cert) -> Iterator[str]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    yield from serve(ctx)


def svc(url: str, *conditions: str, timeout: float = 3.0, **kw) -> Service:
    return Service(name="svc", url=url, conditions=tuple(conditions), timeout=timeout, **kw)


def assert_one_clean_line(r: HealthResult) -> None:
    for text in (r.summary, r.body_excerpt, *(c.detail for c in r.components), *(c.message for c in r.conditions)):
        assert "\n" not in text and "\r" not in text and "\x1b" not in text and "\x07" not in text, text
    assert len(r.summary) <= 300


# --- the seed services, default rules --------------------------------------------------------------

async def test_tinycode_healthy(base):
    r = await probe(svc(f"{base}/tinycode"))
    assert r.status == Status.OK, r.summary
    assert r.http_status == 200 and r.error_kind is None
    assert r.summary.startswith("HTTP 200, ") and r.summary.endswith(" ms")
    assert [(c.name, c.status) for c in r.components] == [
        ("ollama", Status.OK), ("redis", Status.OK), ("rag_system", Status.OK), ("database", Status.OK)]
    assert 0 < r.response_time_ms < 3000
    assert '"status": "healthy"' in r.body_excerpt
    assert_one_clean_line(r)


async def test_tinycode_redis_unhealthy_names_redis(base):
    r = await probe(svc(f"{base}/tinycode-redis-down"))
    assert r.status == Status.CRITICAL
    assert r.summary == "HTTP 503, redis: unhealthy"
    assert r.line == "CRITICAL: HTTP 503, redis: unhealthy"
    assert {c.name: c.status for c in r.components}["redis"] == Status.CRITICAL
    assert {c.name: c.status for c in r.components}["ollama"] == Status.OK


async def test_pynode_disconnected_storage(base):
    r = await probe(svc(f"{base}/pynode-storage-down"))
    assert r.status == Status.CRITICAL
    assert r.summary == "HTTP 503, storage: disconnected"
    assert [(c.name, c.status) for c in r.components] == [
        ("database", Status.OK), ("redis", Status.OK), ("storage", Status.CRITICAL)]


async def test_code_llm_api(base):
    assert (await probe(svc(f"{base}/codellm"))).status == Status.OK
    unloaded = await probe(svc(f"{base}/codellm-unloaded"))
    assert unloaded.status == Status.CRITICAL and unloaded.summary == "HTTP 200, model_loaded: false"
    # /health/detailed answers 200 with "unhealthy" when inference fails: the body decides.
    broken = await probe(svc(f"{base}/codellm-detailed-error"))
    assert broken.status == Status.CRITICAL and broken.summary == "HTTP 200, status: unhealthy"


async def test_vllm_empty_bodies(base):
    ok = await probe(svc(f"{base}/vllm"))
    assert ok.status == Status.OK and ok.body_excerpt == ""
    dead = await probe(svc(f"{base}/vllm-dead"))
    assert dead.status == Status.CRITICAL and dead.summary == "HTTP 503, empty body"


async def test_litellm(base):
    assert (await probe(svc(f"{base}/litellm/health/readiness"))).status == Status.OK
    # No database configured is LiteLLM's normal DB-less answer, not a failure (issue 13, item 1)
    for path in ("readiness-nodb", "readiness-1108"):
        nodb = await probe(svc(f"{base}/litellm/health/{path}"))
        assert nodb.status == Status.OK, nodb.summary
        assert [c.detail for c in nodb.components] == ["db: Not connected (none configured)"]
    dbdown = await probe(svc(f"{base}/litellm/health/readiness-dbdown"))
    assert dbdown.status == Status.CRITICAL and dbdown.summary == "HTTP 200, db: disconnected"
    alive = await probe(svc(f"{base}/litellm/health/liveliness"))
    assert alive.status == Status.OK
    assert alive.conditions[-1].text == "[BODY] is a healthy word"


async def test_llamacpp_and_tgi_error_bodies(base):
    assert (await probe(svc(f"{base}/llamacpp"))).status == Status.OK
    loading = await probe(svc(f"{base}/llamacpp-loading"))
    assert loading.status == Status.CRITICAL and loading.summary == "HTTP 503, Loading model"
    tgi = await probe(svc(f"{base}/tgi-down"))
    assert tgi.status == Status.CRITICAL and tgi.summary == "HTTP 503, unhealthy"
    triton = await probe(svc(f"{base}/triton-not-ready"))
    assert triton.status == Status.CRITICAL and triton.summary == "HTTP 400, empty body"


async def test_plain_text_ok_and_degraded_and_unknown_words(base):
    assert (await probe(svc(f"{base}/ollama"))).status == Status.OK
    degraded = await probe(svc(f"{base}/degraded"))
    assert degraded.status == Status.WARNING and degraded.summary == "HTTP 200, status: degraded"
    weird = await probe(svc(f"{base}/weird-status"))
    assert weird.status == Status.UNKNOWN and "'purple' is not a known health word" in weird.summary


async def test_html_error_page(base):
    r = await probe(svc(f"{base}/html502"))
    assert r.status == Status.CRITICAL
    assert r.summary == "HTTP 502, HTML page: 502 Bad Gateway"
    assert_one_clean_line(r)
    json_needed = await probe(svc(f"{base}/html502", "[BODY].status == ok"))
    assert json_needed.status == Status.CRITICAL and "body is not JSON" in json_needed.summary


async def test_invalid_json_with_body_condition(base):
    r = await probe(svc(f"{base}/invalid-json", "[BODY].status == ok"))
    assert r.status == Status.CRITICAL
    assert r.summary == "HTTP 200, [BODY].status == ok: body is not JSON"


async def test_invalid_json_sent_as_json_is_critical_under_the_default_rules(base):
    r = await probe(svc(f"{base}/invalid-json"))
    assert r.status == Status.CRITICAL
    assert r.summary.startswith("HTTP 200, invalid JSON: Expecting") and "line 1 column" in r.summary


async def test_an_html_login_page_with_200_is_not_the_service(base):
    r = await probe(svc(f"{base}/login"))
    assert r.status == Status.CRITICAL and r.summary == "HTTP 200, HTML page instead of JSON (login page?)"
    assert_one_clean_line(r)
    assert (await probe(svc(f"{base}/login", "[STATUS] == 200"))).status == Status.OK  # explicit: user's call


async def test_html_where_the_endpoint_answered_json_before_is_critical(base):
    route("/flip", 200, {"status": "ok"})
    assert (await probe(svc(f"{base}/flip"))).status == Status.OK
    route("/flip", 200, b"<!DOCTYPE html><html><body>Welcome to nginx!</body></html>", "text/html")
    r = await probe(svc(f"{base}/flip"))
    assert r.status == Status.CRITICAL and "HTML page instead of JSON" in r.summary
    route("/static-ok", 200, b"<html><body>OK</body></html>", "text/html")  # never JSON: a status page
    assert (await probe(svc(f"{base}/static-ok"))).status == Status.OK


async def test_empty_200_stays_healthy(base):
    assert (await probe(svc(f"{base}/vllm"))).status == Status.OK
    route("/empty-json", 200, b"", "application/json")
    assert (await probe(svc(f"{base}/empty-json"))).status == Status.OK


async def test_hostile_bodies_are_inert(base):
    for path in ("/hostile", "/hostile-json"):
        r = await probe(svc(f"{base}{path}"))
        assert r.status == Status.CRITICAL
        assert_one_clean_line(r)
    r = await probe(svc(f"{base}/hostile"))
    assert r.summary == "HTTP 503, down next line"
    assert r.body_excerpt == "down⏎next line"


# --- explicit conditions --------------------------------------------------------------------------------

async def test_explicit_conditions_pass(base):
    r = await probe(svc(f"{base}/tinycode", "[STATUS] == 200", "[BODY].checks.ollama.status == healthy",
                        "[RESPONSE_TIME] < 5000", "[CONNECTED] == true", "[IP] == 127.0.0.1",
                        "[HEADER].content-type == pat(application/json*)", "[HEADER].X-Model == tinyllama",
                        "len([BODY].checks) > 4", "[BODY].status == any(ok, healthy)"))
    assert r.status == Status.OK, [c.message for c in r.conditions if not c.ok]
    assert len(r.conditions) == 9 and all(c.ok for c in r.conditions)


async def test_explicit_conditions_replace_default_rules(base):
    # The user decided [STATUS] == 503 is what they want to see (a maintenance page): honour it.
    r = await probe(svc(f"{base}/tinycode-redis-down", "[STATUS] == 503"))
    assert r.status == Status.OK
    assert any(c.status == Status.CRITICAL for c in r.components)  # still shown


async def test_failed_condition_is_critical_and_summarised(base):
    r = await probe(svc(f"{base}/tinycode-redis-down", "[BODY].checks.redis.status == healthy", "[STATUS] == 200"))
    assert r.status == Status.CRITICAL
    assert r.summary == "HTTP 503, [BODY].checks.redis.status (unhealthy) == healthy is false, +1 more failed"


async def test_malformed_condition_is_unknown(base):
    r = await probe(svc(f"{base}/tinycode", "[BODY.status = ok"))
    assert r.status == Status.UNKNOWN
    assert "malformed condition '[BODY.status = ok': unclosed '['" in r.summary


async def test_failed_outranks_malformed(base):
    r = await probe(svc(f"{base}/vllm-dead", "[BODY.status = ok", "[STATUS] == 200"))
    assert r.status == Status.CRITICAL


# --- transport failures ---------------------------------------------------------------------------------

async def test_closed_port(closed_port):
    r = await probe(svc(f"http://127.0.0.1:{closed_port}/health", "[STATUS] == 200"))
    assert r.status == Status.CRITICAL and r.error_kind == "refused"
    assert r.summary == "connection refused"
    assert r.http_status is None and r.response_time_ms is None
    assert r.conditions[0].ok is False  # evaluated as "not connected", for the detail view


async def test_slow_server_times_out_within_the_timeout(silent_port):
    start = time.monotonic()
    r = await probe(svc(f"http://127.0.0.1:{silent_port}/health", timeout=0.5))
    elapsed = time.monotonic() - start
    assert r.status == Status.CRITICAL and r.error_kind == "timeout"
    assert "timed out" in r.summary
    assert elapsed < 0.5 + 0.4


async def test_redirect_loop(base):
    r = await probe(svc(f"{base}/loop"))
    assert r.status == Status.CRITICAL and r.error_kind == "redirects"
    assert "redirect" in r.summary


@pytest.mark.parametrize("path", ["/big", "/big-stream"])
async def test_five_megabyte_body_is_capped(base, path):
    r = await probe(svc(f"{base}{path}"))
    assert r.status == Status.WARNING
    assert r.summary == f"HTTP 200, body over the {MAX_BODY_BYTES // 1048576} MB limit"
    assert r.body_excerpt == ""
    body_needed = await probe(svc(f"{base}{path}", "[BODY].status == ok"))
    assert body_needed.status == Status.CRITICAL and "1 MB limit" in body_needed.summary
    status_only = await probe(svc(f"{base}{path}", "[STATUS] == 200"))
    assert status_only.status == Status.OK


async def test_bad_scheme_and_bad_ca_file_never_raise(base, tmp_path):
    r = await probe(svc("ftp://127.0.0.1/health"))
    assert r.status in (Status.CRITICAL, Status.UNKNOWN) and r.summary
    missing = await probe(svc(f"{base}/tinycode", ca_file=str(tmp_path / "nope.pem")))
    assert missing.status == Status.UNKNOWN and missing.error_kind == "config"
    assert "ca_file" in missing.summary


async def test_url_userinfo_never_shown(base):
    url = base.replace("http://", "http://admin:s3cret@") + "/tinycode"
    r = await probe(svc(url))
    assert r.status == Status.OK
    assert "s3cret" not in r.url and "admin" not in r.url


async def test_now_is_recorded(base):
    fixed = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    r = await probe(svc(f"{base}/tinycode"), now=fixed)
    assert r.checked_at == fixed


async def test_shared_client_is_used_and_left_open(base):
    async with httpx.AsyncClient() as client:
        r = await probe(svc(f"{base}/llamacpp", "[IP] == 127.0.0.1"), client=client)
        assert r.status == Status.OK
        assert not client.is_closed


async def test_internal_errors_become_unknown(base, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("bug")
    monkeypatch.setattr(health, "_judge", boom)
    r = await probe(svc(f"{base}/tinycode"))
    assert r.status == Status.UNKNOWN and r.error_kind == "internal" and "RuntimeError" in r.summary


# --- TLS ------------------------------------------------------------------------------------------------

async def test_self_signed_default_is_critical_with_advice(tls_base):
    r = await probe(svc(f"{tls_base}/tinycode"))
    assert r.status == Status.CRITICAL and r.error_kind == "tls"
    assert "ca_file" in r.summary and "insecure" in r.summary
    assert_one_clean_line(r)


async def test_self_signed_with_ca_file(tls_base, cert):
    r = await probe(svc(f"{tls_base}/tinycode", "[STATUS] == 200", "[CERTIFICATE_EXPIRATION] > 24h",
                        ca_file=str(cert[0])))
    assert r.status == Status.OK, r.summary


async def test_self_signed_insecure(tls_base):
    r = await probe(svc(f"{tls_base}/tinycode", insecure=True))
    assert r.status == Status.OK, r.summary
    assert (await probe(svc(f"{tls_base}/tinycode", "[CERTIFICATE_EXPIRATION] > 24h", insecure=True))).ok


async def test_certificate_expiration_value(tls_base):
    # The test certificate lives 30 days.
    r = await probe(svc(f"{tls_base}/llamacpp", "[CERTIFICATE_EXPIRATION] > 29d", "[CERTIFICATE_EXPIRATION] < 31d",
                        "[CERTIFICATE_EXPIRATION] > 60d", insecure=True))
    assert [c.ok for c in r.conditions] == [True, True, False]
    assert r.status == Status.CRITICAL
    assert r.conditions[0].actual.startswith("4w")  # shown as a duration, not milliseconds
    plain = await probe(svc(f"{tls_base.replace('https', 'http')}/llamacpp"))
    assert plain.status == Status.CRITICAL  # plain HTTP to a TLS port is not an answer


async def test_certificate_expiration_on_plain_http_fails(base):
    r = await probe(svc(f"{base}/llamacpp", "[CERTIFICATE_EXPIRATION] > 24h"))
    assert r.status == Status.CRITICAL and "no TLS certificate" in r.summary


# --- probe_all ------------------------------------------------------------------------------------------

async def test_probe_all_one_deadline_order_and_shared_clients(base, silent_port, closed_port, monkeypatch):
    made = []
    real = health.make_client
    monkeypatch.setattr(health, "make_client", lambda opts, **kw: made.append(opts) or real(opts, **kw))
    services = [
        Service("tiny", f"{base}/tinycode", timeout=5),
        Service("slow", f"http://127.0.0.1:{silent_port}/", timeout=30),
        Service("gone", f"http://127.0.0.1:{closed_port}/"),
        Service("pynode", f"{base}/pynode-storage-down", timeout=5),
        Service("auth", f"{base}/llamacpp", headers={"Authorization": "Bearer x"}),
    ]
    start = time.monotonic()
    results = await probe_all(services, deadline=0.6)
    assert time.monotonic() - start < 0.6 + 0.5
    assert [r.name for r in results] == ["tiny", "slow", "gone", "pynode", "auth"]
    assert [r.status for r in results] == [Status.OK, Status.CRITICAL, Status.CRITICAL, Status.CRITICAL, Status.OK]
    assert "timed out" in results[1].summary
    assert len(made) == 2  # one client for the plain services, one for the one with its own headers


async def test_probe_all_empty():
    assert await probe_all([], deadline=1) == []


async def test_probe_all_many_concurrent(base):
    services = [replace(svc(f"{base}/tinycode"), name=f"s{i}") for i in range(30)]
    start = time.monotonic()
    results = await probe_all(services, deadline=5)
    assert all(r.ok for r in results) and len(results) == 30
    assert time.monotonic() - start < 5


# --- default body rules, pure -----------------------------------------------------------------------------

def test_body_rules_spring_style_and_dependency_lists():
    from probes.healthbody import body_components, judge_top_status

    spring = {"status": "UP", "components": {"db": {"status": "UP"}, "diskSpace": {"status": "DOWN"},
                                             "ping": {"details": {}}}}
    assert judge_top_status(spring).ok
    assert [(c.name, c.status) for c in body_components(spring)] == [("db", Status.OK), ("diskSpace", Status.CRITICAL)]
    deps = {"dependencies": [{"name": "qdrant", "status": "pass"}, {"id": "minio", "state": "failing",
                                                                    "error": "timeout"}]}
    assert [c.detail for c in body_components(deps)] == ["qdrant: pass", "minio: failing (timeout)"]


def test_body_rules_ignore_plain_strings_that_are_not_states():
    from probes.healthbody import body_components, judge_top_status

    doc = {"services": {"redis": "connected", "version": "7.2.1", "url": "redis://x"}, "uptime": "3h"}
    assert [c.name for c in body_components(doc)] == ["redis"]
    assert judge_top_status({"status": 1}) is None  # a number that is not an HTTP status
    assert judge_top_status({"status": 503}).status == Status.CRITICAL
    assert judge_top_status({"healthy": False}).status == Status.CRITICAL
    assert judge_top_status({"State": "Running"}).ok
    assert judge_top_status(["not", "an", "object"]) is None
