"""Loopback HTTP(S) server for health-probe tests, serving the bodies real LLM stacks return.

Routes are seed-shaped (TinyCode, Dev-PyNode, Code LLM API) or copied from the servers' sources
(vLLM, LiteLLM, llama.cpp, TGI, Triton, Ollama, nginx), plus the hostile cases: a 5 MB body with
and without Content-Length, a redirect loop, escape sequences in bodies.
"""

from __future__ import annotations

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

JSON = "application/json"
TINYCODE_OK = {
    "status": "healthy", "timestamp": "2024-01-01T12:00:00Z",
    "checks": {
        "ollama": {"status": "healthy", "response_time_ms": 50},
        "redis": {"status": "healthy", "response_time_ms": 2},
        "rag_system": {"status": "healthy", "documents_indexed": 1500},
        "database": {"status": "healthy", "connection_pool": "8/10"},
    },
    "version": "1.0.0", "uptime_seconds": 3600,
}
TINYCODE_REDIS_DOWN = {**TINYCODE_OK, "status": "unhealthy",
                       "checks": {**TINYCODE_OK["checks"], "redis": {"status": "unhealthy", "response_time_ms": 0}}}
PYNODE_STORAGE_DOWN = {"status": "unhealthy", "timestamp": "2024-01-01T12:00:00Z", "version": "1.0.0", "uptime": 12.5,
                       "services": {"database": "connected", "redis": "connected", "storage": "disconnected"}}
CODELLM = {"status": "healthy", "timestamp": "2024-01-01T12:00:00", "model_loaded": True, "device": "cuda:0"}
NGINX_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
             b"</center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n")
BIG = b"x" * (5 * 1024 * 1024)

# path -> (status, content type, body, extra headers)
ROUTES: dict[str, tuple[int, str, bytes, dict[str, str]]] = {}


def route(path: str, status: int, body: object = b"", ctype: str = JSON, **headers: str) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ROUTES[path] = (status, ctype, raw, headers)


route("/tinycode", 200, TINYCODE_OK)
route("/tinycode-redis-down", 503, TINYCODE_REDIS_DOWN)
route("/pynode-storage-down", 503, PYNODE_STORAGE_DOWN)
route("/codellm", 200, CODELLM)
route("/codellm-unloaded", 200, {**CODELLM, "model_loaded": False})
route("/codellm-detailed-error", 200, {"status": "unhealthy", "error": "CUDA out of memory", "timestamp": "x"})
route("/vllm", 200, b"", "")
route("/vllm-dead", 503, b"", "")
route("/litellm/health/readiness", 200, {"status": "connected", "db": "connected", "cache": None,
                                         "litellm_version": "1.40.0", "success_callbacks": ["prometheus"]})
route("/litellm/health/readiness-nodb", 200, {"status": "connected", "db": "Not connected", "cache": None,
                                              "litellm_version": "1.40.0", "success_callbacks": []})
route("/litellm/health/liveliness", 200, "I'm alive!")
# What a real 1.108.7 proxy without a database answers (tests/exporters run the proxy itself).
route("/litellm/health/readiness-1108", 200, {"status": "healthy", "db": "Not connected"})
route("/litellm/health/readiness-dbdown", 200, {"status": "connected", "db": "disconnected", "cache": None})
route("/llamacpp", 200, {"status": "ok"})
route("/llamacpp-loading", 503, {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}})
route("/tgi-down", 503, {"error": "unhealthy", "error_type": "healthcheck"})
route("/triton-not-ready", 400, b"", "")
route("/ollama", 200, b"Ollama is running", "text/plain; charset=utf-8")
route("/html502", 502, NGINX_502, "text/html")
route("/big", 200, BIG, "text/plain")
route("/invalid-json", 200, b'{"status": "ok",', JSON)
route("/login", 200, b'<!DOCTYPE html><html><head><title>Sign in - SSO</title></head><body><form method="post">'
      b'<input name="user"><input type="password" name="pw"></form></body></html>', "text/html; charset=utf-8")
route("/degraded", 200, {"status": "degraded"})
route("/weird-status", 200, {"status": "purple"})
route("/hostile", 503, b"\x1b[2J\x1b[H\x1b]0;pwned\x07down\r\nnext line", "text/plain")
route("/hostile-json", 503, {"status": "unhealthy", "checks": {"re\x1b[2Jdis": {"status": "unhealthy\x1b]0;x\x07"}}})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?")[0]
        if path == "/loop":
            self._send(302, b"", "", Location="/loop")
        elif path == "/big-stream":  # no Content-Length: the cap must hold while streaming
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for _ in range(5 * 16):
                    self.wfile.write(b"y" * 65536)
            except OSError:
                pass
            self.close_connection = True
        elif path in ROUTES:
            status, ctype, body, headers = ROUTES[path]
            self._send(status, body, ctype, **headers)
        else:
            self._send(404, b'{"detail":"Not Found"}', JSON)

    def _send(self, status: int, body: bytes, ctype: str, **headers: str) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Model", "tinyllama")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the client gave up on a capped body
            pass

    def log_message(self, *args) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    request_queue_size = 128  # the default backlog of 5 drops concurrent SYNs: 1 s retransmits
    def handle_error(self, request, client_address) -> None:  # rejected TLS handshakes, resets
        pass


def serve(ssl_context: ssl.SSLContext | None = None) -> Iterator[str]:
    server = QuietServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if ssl_context is not None:
        server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
