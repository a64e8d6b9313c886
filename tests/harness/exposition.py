"""A tiny /metrics server: a stand-in scrape target that needs nothing but the stdlib.

The harness's own tests use it so they prove Prometheus, rules and Alertmanager work even when
the synthetic LLM stack (probes.synthetic) is broken or absent; a harness that only worked with
a healthy stack could not tell the two failures apart.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class ExpositionServer:
    """Serves Prometheus text format; `harness_requests_total` grows by 1 per scrape."""

    def __init__(self, job: str = "standin") -> None:
        self.job = job
        self.scrapes = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def address(self) -> str:
        assert self._server is not None, "not started"
        return f"127.0.0.1:{self._server.server_address[1]}"

    def render(self) -> bytes:
        with self._lock:
            self.scrapes += 1
            count = self.scrapes
        return (
            "# HELP harness_requests_total Requests seen by the stand-in target.\n"
            "# TYPE harness_requests_total counter\n"
            f'harness_requests_total{{model="tiny",status="ok"}} {count * 3}\n'
            f'harness_requests_total{{model="tiny",status="error"}} {count}\n'
            "# HELP harness_queue_depth Requests waiting.\n"
            "# TYPE harness_queue_depth gauge\n"
            "harness_queue_depth 7\n"
        ).encode()

    def start(self) -> "ExpositionServer":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                body = owner.render()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name=f"expo-{self.job}", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "ExpositionServer":
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
