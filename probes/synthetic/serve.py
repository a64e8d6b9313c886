"""Loopback HTTP servers for the fake services, with a real "down": the socket is closed.

Why close the socket instead of answering 503: Prometheus marks a target down on connection
refused, and llmwatch must tell "refused" from "unhealthy". Re-opening binds the SAME port so
scrape configs written at start-up stay valid.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qsl, urlsplit

from probes.synthetic.service import Reply, Request

Handler = Callable[[Request], Reply]
HOST = "127.0.0.1"


def _make_handler_class(handle: Handler, server_header: str) -> type[BaseHTTPRequestHandler]:
    class _H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"   # one request per connection: "down" leaves nothing open
        server_version = server_header
        sys_version = ""

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            req = Request(self.command, parts.path, dict(parse_qsl(parts.query)), body,
                          {k.lower(): v for k, v in self.headers.items()})
            try:
                reply = handle(req)
            except Exception as exc:  # a bug in a fake must show up as a 500, not a hang
                reply = Reply(500, f"internal error: {exc}".encode(), "text/plain; charset=utf-8")
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for k, v in reply.headers:
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                try:
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
            return

    return _H


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class LoopbackServer:
    """One HTTP server on 127.0.0.1 that can be closed and re-opened on the same port."""

    def __init__(self, handle: Handler, port: int = 0, server_header: str = "synthetic"):
        self._handle = handle
        self._header = server_header
        self.port = port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self) -> int:
        with self._lock:
            if self._httpd is None:
                httpd = _Server((HOST, self.port), _make_handler_class(self._handle, self._header))
                self.port = httpd.server_address[1]
                self._httpd = httpd
                self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                                name=f"synthetic-http-{self.port}", daemon=True)
                self._thread.start()
            return self.port

    def stop(self) -> None:
        with self._lock:
            httpd, self._httpd = self._httpd, None
            if httpd is not None:
                httpd.shutdown()
                httpd.server_close()
                if self._thread is not None:
                    self._thread.join(timeout=2)
