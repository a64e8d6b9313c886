"""probes.http.fetch and the API clients against REAL local sockets: no mocks for transport errors.

Each failure a person meets in the field (nothing listening, a server that hangs, a huge body,
a redirect loop, a proxy's HTML page, a typo in the host name, a self-signed certificate) must
come back as one clear line with the right kind, within the deadline, without a secret in it.
"""

from __future__ import annotations

import base64
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from probes.config import Endpoint
from probes.http import ClientOptions, FetchError, fetch, make_client
from probes.prometheus import PrometheusClient

TOKEN = "tok-SECRET-4242"
PASSWORD = "pw-SECRET-9191"
BIG = 5 * 1024 * 1024
VECTOR = b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]}}'


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[dict] = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json", extra: dict | None = None,
              chunked: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 65536):
                part = body[i:i + 65536]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        Handler.seen.append({"path": self.path, "headers": dict(self.headers)})
        path = self.path.split("?")[0]
        if path == "/big":
            self._send(200, b"x" * BIG, "text/plain")
        elif path == "/big-chunked":
            self._send(200, b"x" * BIG, "text/plain", chunked=True)
        elif path == "/loop":
            self._send(302, b"", extra={"Location": "/loop"})
        elif path == "/html/api/v1/query":
            self._send(502, b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
        elif path == "/echo-auth/api/v1/query":  # a hostile server that echoes credentials back
            self._send(401, f"denied for {self.headers.get('Authorization')}".encode(), "text/plain")
        else:
            self._send(200, VECTOR)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # clients hanging up on purpose (size cap)
        pass


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def get(url: str, opts: ClientOptions | None = None, **kw):
    async with make_client(opts or ClientOptions(timeout=3)) as client:
        return await fetch(client, "GET", url, **kw)


async def test_ok(server):
    resp = await get(server + "/ok")
    assert resp.status == 200 and resp.json()["status"] == "success"


async def test_connection_refused():
    port = closed_port()
    with pytest.raises(FetchError) as e:
        await get(f"http://127.0.0.1:{port}/")
    assert e.value.kind == "refused"
    async with PrometheusClient(Endpoint(f"http://127.0.0.1:{port}", timeout=3)) as c:
        r = await c.query("up")
    assert not r.ok and r.error.kind == "refused" and r.error.status is None
    assert r.error.message == f"Prometheus at http://127.0.0.1:{port}: connection refused (is the server running?)"


async def test_server_that_never_answers_returns_within_deadline():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
    port = listener.getsockname()[1]
    try:
        start = time.monotonic()
        async with PrometheusClient(Endpoint(f"http://127.0.0.1:{port}", timeout=0.5)) as c:
            r = await c.query("up")
        took = time.monotonic() - start
        assert r.error.kind == "timeout" and "no complete answer within 0.5s" in r.error.message
        assert took < 2.0
    finally:
        listener.close()


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
async def test_body_over_the_cap(server, path):
    with pytest.raises(FetchError) as e:
        await get(server + path, max_bytes=1024 * 1024)
    assert e.value.kind == "too_large" and "1.0 MB limit" in e.value.message
    async with PrometheusClient(Endpoint(server)) as c:
        resp = await c.request("GET", path, max_bytes=1024 * 1024)
    assert resp.kind == "too_large" and resp.message.startswith(f"Prometheus at {server}: ")


async def test_redirect_loop(server):
    with pytest.raises(FetchError) as e:
        await get(server + "/loop")
    assert e.value.kind == "redirects" and "redirect loop" in e.value.message


async def test_html_page_through_client(server):
    async with PrometheusClient(Endpoint(server + "/html")) as c:
        r = await c.query("up")
    assert r.error.kind == "not_json" and r.error.status == 502
    assert "expected JSON from /html/api/v1/query, got an HTML page (HTTP 502, text/html)" in r.error.message


async def test_dns_failure():
    async with PrometheusClient(Endpoint("http://no-such-host.invalid:9090", timeout=5)) as c:
        r = await c.query("up")
    assert r.error.kind == "dns", r.error
    assert r.error.message == "Prometheus at http://no-such-host.invalid:9090: DNS lookup failed (check the host name)"


async def test_bearer_token_arrives_and_never_leaks(server):
    Handler.seen.clear()
    async with PrometheusClient(Endpoint(server + "/echo-auth", bearer_token=TOKEN)) as c:
        r = await c.query("up")
    assert Handler.seen[-1]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert r.error.kind == "http" and r.error.status == 401
    assert TOKEN not in r.error.message and "***" in r.error.message


async def test_basic_auth_arrives_and_never_leaks(server):
    Handler.seen.clear()
    async with PrometheusClient(Endpoint(server + "/echo-auth", username="ops", password=PASSWORD)) as c:
        r = await c.query("up")
    sent = Handler.seen[-1]["headers"]["Authorization"]
    assert sent == "Basic " + base64.b64encode(f"ops:{PASSWORD}".encode()).decode()
    encoded = sent.split()[1]
    assert PASSWORD not in r.error.message and encoded not in r.error.message


async def test_userinfo_in_url_is_hidden_in_errors():
    port = closed_port()
    async with PrometheusClient(Endpoint(f"http://ops:{PASSWORD}@127.0.0.1:{port}", timeout=3)) as c:
        r = await c.query("up")
    assert r.error.kind == "refused" and PASSWORD not in r.error.message and "***@127.0.0.1" in r.error.message


# --- TLS with a real self-signed certificate -------------------------------------------------

@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl CLI not installed")
    d: Path = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}", str(cert)
    httpd.shutdown()
    httpd.server_close()


async def test_self_signed_is_tls_error_with_advice(tls_server):
    url, _ = tls_server
    async with PrometheusClient(Endpoint(url, timeout=5)) as c:
        r = await c.query("up")
    assert r.error.kind == "tls"
    assert "ca_file" in r.error.message and "insecure" in r.error.message
    assert r.error.message.startswith(f"Prometheus at {url}: TLS certificate not trusted")


async def test_ca_file_trusts_the_cert(tls_server):
    url, cert = tls_server
    async with PrometheusClient(Endpoint(url, ca_file=cert, timeout=5)) as c:
        r = await c.query("up")
    assert r.ok, r.error


async def test_insecure_skips_verification(tls_server):
    url, _ = tls_server
    async with PrometheusClient(Endpoint(url, insecure=True, timeout=5)) as c:
        r = await c.query("up")
    assert r.ok, r.error


async def test_injected_client_is_not_closed(server):
    http = httpx.AsyncClient()
    async with PrometheusClient(Endpoint(server), client=http) as c:
        assert (await c.query("up")).ok
    assert not http.is_closed
    await http.aclose()


async def test_bearer_token_file_is_read_per_request_so_rotation_works(server, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("first-token-1111\n")
    Handler.seen.clear()
    async with PrometheusClient(Endpoint(server, bearer_token_file=str(token_file))) as c:
        assert (await c.query("up")).ok
        token_file.write_text("second-token-2222\n")
        assert (await c.query("up", at=1)).ok
    assert [s["headers"]["Authorization"] for s in Handler.seen] == ["Bearer first-token-1111",
                                                                     "Bearer second-token-2222"]


async def test_unreadable_bearer_token_file_is_a_config_error(server, tmp_path):
    async with PrometheusClient(Endpoint(server, bearer_token_file=str(tmp_path / "gone"))) as c:
        r = await c.query("up")
    assert r.error.kind == "config" and "cannot read bearer_token_file" in r.error.message
