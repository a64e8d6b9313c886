"""A hostile server on loopback: Prometheus, Alertmanager, Loki and health endpoints in one port.

Why one fake instead of the real servers: the real ones never send what an attacker (or a broken
proxy, or an exporter with a bug) sends. This one answers every API llmwatch calls with the
shapes the real servers use, but every string field (versions, job/instance labels, alert names,
annotations, silence ids and comments, bodies, error texts, log lines) carries `text`: by default
PAYLOAD, escape sequences that retitle the window, write the clipboard, plant hyperlinks, ask the
terminal to answer (DSR), C1 controls, bidi overrides, Rich markup, and a 20 kB line.

Knobs (constructor arguments, or attributes changed while it runs):
  points   (start, end, step) -> [(ts, value-string)] for every range query: chart inputs
  shapes   path -> a JSON document sent instead of the real shape (a string where an object
           belongs, as seen from proxies)
  hang     path prefixes that never answer (the server sleeps until stopped)
  echo     every string field carries the request line and headers instead (secrets tests)
  redirect path -> absolute URL answered with 307 (cross-host redirect tests)
`requests` counts requests per path; `seen` keeps (method, path, headers) of each, `bodies` the
(path, body) of each request that had one. POSTs to /hooks/... (a webhook) answer 200.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

# Injected sequences, each with a marker that must never reach a terminal as a control sequence.
OSC_TITLE = "\x1b]0;pwned-title\x07"
OSC_CLIPBOARD = "\x1b]52;c;cHduZWQ=\x07"
OSC_LINK = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"
CSI_CLEAR = "\x1b[2J\x1b[H"
CSI_DSR = "\x1b[6n"
C1_CSI = "\x9b31m"
C1_OSC = "\x9d0;c1-title\x9c"
BIDI = "\u202eevil\u202c\u2066iso\u2069\u200f\u061c"
MARKUP = "[bold red]MARKUP[/bold red][link=http://evil.example/]L[/link]"
SEQUENCES = OSC_TITLE + OSC_CLIPBOARD + OSC_LINK + CSI_CLEAR + CSI_DSR + C1_CSI + C1_OSC + BIDI
SHORT = MARKUP + "2.42.0" + SEQUENCES + "\x07\x08\r\x7f"
PAYLOAD = SHORT + "A" * 20_000 + SEQUENCES

VLLM_NAMES = ("vllm:num_requests_running", "vllm:request_success_total", "vllm:e2e_request_latency_seconds_count",
              "vllm:e2e_request_latency_seconds_bucket", "vllm:kv_cache_usage_perc", "vllm:num_requests_waiting",
              "vllm:time_to_first_token_seconds_bucket", "vllm:time_to_first_token_seconds_count",
              "vllm:prompt_tokens_total", "vllm:generation_tokens_total", "http_requests_total")

Points = Callable[[float, float, float], list[tuple[float, str]]]


def good_points(start: float, end: float, step: float) -> list[tuple[float, str]]:
    """Ordinary points inside the window: what a healthy Prometheus sends."""
    n = max(2, min(int((end - start) / max(step, 1e-3)), 500))
    return [(start + (end - start) * i / (n - 1), f"{0.5 + (i % 7) / 10:g}") for i in range(n)]


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".000Z"


class HostileServer:
    def __init__(self, text: str = PAYLOAD, *, points: Points = good_points, shapes: dict[str, Any] | None = None,
                 hang: tuple[str, ...] = (), echo: bool = False, redirect: dict[str, str] | None = None):
        self.text = text
        self.points = points
        self.shapes = dict(shapes or {})
        self.hang = tuple(hang)
        self.echo = echo
        self.redirect = dict(redirect or {})
        self.requests: Counter[str] = Counter()
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.bodies: list[tuple[str, bytes]] = []
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> "HostileServer":
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._server = _Quiet(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> "HostileServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answers ------------------------------------------------------------------------------
    def s(self, handler: "_Handler") -> str:
        """The string every field carries for this request."""
        if not self.echo:
            return self.text
        heads = " ".join(f"{k}: {v}" for k, v in handler.headers.items())
        return f"{handler.command} {handler.path} {heads}"

    def answer(self, handler: "_Handler", method: str, path: str, params: dict[str, str]) -> tuple[int, str, bytes]:
        t = self.s(handler)
        if path in self.shapes:
            return 200, "application/json", json.dumps(self.shapes[path]).encode()
        if method == "POST" and path.startswith("/hooks/"):
            return 200, "text/plain", b"ok"
        if path.startswith("/api/v1/"):
            return self._prometheus(path, params, t)
        if path.startswith("/api/v2/"):
            return self._alertmanager(method, path, t)
        if path.startswith("/loki/"):
            return self._loki(path, params, t)
        if path in ("/-/ready", "/ready"):
            return 200, "text/plain", b"ready"
        if path == "/health-json":
            return _json(200, {"status": "unhealthy", "checks": {t: {"status": "down", "error": t}}})
        if path == "/metrics":
            return 200, "text/plain; version=0.0.4", b"# HELP x " + t.encode() + b"\nbroken line " + t.encode() + b"\n"
        return 503, "text/plain; charset=utf-8", t.encode()

    def _prometheus(self, path: str, params: dict[str, str], t: str) -> tuple[int, str, bytes]:
        now = time.time()
        labels = {"job": t, "instance": t, "model_name": t, "handler": t}
        if path == "/api/v1/status/buildinfo":
            data: Any = {"version": t, "revision": t, "branch": t, "goVersion": t}
        elif path == "/api/v1/query":
            q = params.get("query", "")
            if q.startswith("group by (job, __name__)"):
                data = _vector([{"__name__": n, "job": t} for n in VLLM_NAMES], now)
            elif "hostile_error" in q:
                return _json(422, {"status": "error", "errorType": "execution", "error": t})
            else:
                data = _vector([labels], now)
        elif path == "/api/v1/query_range":
            start, end, step = (float(params.get(k, d)) for k, d in (("start", now - 3600), ("end", now),
                                                                      ("step", 60)))
            values = [[ts, v] for ts, v in self.points(start, end, step)]
            data = {"resultType": "matrix", "result": [{"metric": labels, "values": values}]}
        elif path == "/api/v1/targets":
            data = {"activeTargets": [{"labels": {"job": t, "instance": t}, "scrapePool": t, "scrapeUrl": "http://x/" + t,
                                       "health": "down", "lastError": t, "lastScrape": _iso(now),
                                       "lastScrapeDuration": 0.01, "scrapeInterval": "15s"}], "droppedTargets": []}
        elif path == "/api/v1/alerts":
            data = {"alerts": [self._prom_alert(t, now)]}
        elif path == "/api/v1/rules":
            data = {"groups": [{"name": t, "file": t, "interval": 15, "rules": [
                {"name": t, "type": "alerting", "health": "err", "lastError": t, "query": t, "state": "firing",
                 "labels": {"severity": "critical"}, "annotations": {"summary": t}, "alerts": [self._prom_alert(t, now)],
                 "duration": 0, "lastEvaluation": _iso(now), "evaluationTime": 0.001}]}]}
        elif path.startswith("/api/v1/label/"):
            data = list(VLLM_NAMES) + [t]
        elif path == "/api/v1/metadata":
            data = {t: [{"type": "counter", "help": t, "unit": ""}]}
        else:
            return _json(404, {"status": "error", "errorType": "not_found", "error": t})
        return _json(200, {"status": "success", "data": data, "warnings": [t]})

    @staticmethod
    def _prom_alert(t: str, now: float) -> dict:
        return {"labels": {"alertname": t, "severity": "critical", "job": t, "instance": t},
                "annotations": {"summary": t, "description": t}, "state": "firing",
                "activeAt": _iso(now - 600), "value": "1e+00"}

    def _alertmanager(self, method: str, path: str, t: str) -> tuple[int, str, bytes]:
        now = time.time()
        if path == "/api/v2/alerts":
            return _json(200, [{"labels": {"alertname": t, "severity": "critical", "job": t, "instance": t},
                                "annotations": {"summary": t}, "startsAt": _iso(now - 600), "endsAt": _iso(now + 600),
                                "updatedAt": _iso(now), "fingerprint": t, "generatorURL": t,
                                "status": {"state": "suppressed", "silencedBy": [t], "inhibitedBy": [t]},
                                "receivers": [{"name": t}]}])
        if path == "/api/v2/silences" and method == "POST":
            return _json(200, {"silenceID": t})
        if path == "/api/v2/silences":
            return _json(200, [{"id": t, "status": {"state": "active"}, "createdBy": t, "comment": t,
                                "startsAt": _iso(now - 60), "endsAt": _iso(now + 3600), "updatedAt": _iso(now),
                                "matchers": [{"name": "alertname", "value": t, "isRegex": False, "isEqual": True}]}])
        if path.startswith("/api/v2/silence/"):
            return _json(500, {"code": 500, "message": t})
        if path == "/api/v2/status":
            return _json(200, {"versionInfo": {"version": t}, "cluster": {"status": t}, "config": {"original": t},
                               "uptime": _iso(now)})
        return _json(404, {"code": 404, "message": t})

    def _loki(self, path: str, params: dict[str, str], t: str) -> tuple[int, str, bytes]:
        now_ns = time.time_ns()
        if path.endswith("/labels") or "/label/" in path:
            return _json(200, {"status": "success", "data": ["job", "level", t]})
        query = params.get("query", "")
        if "count_over_time" in query or "rate(" in query:
            values = [[now_ns / 1e9 - 60 * i, "3"] for i in range(5, 0, -1)]
            data: Any = {"resultType": "matrix", "result": [{"metric": {"level": "error", "job": t}, "values": values}]}
        else:
            values = [[str(now_ns - i * 1_000_000_000), t] for i in range(1, 4)]
            data = {"resultType": "streams", "result": [{"stream": {"job": t, "level": "error", "instance": t},
                                                         "values": values}],
                    "stats": {"summary": {"execTime": 0.001}}}
        return _json(200, {"status": "success", "data": data})


def _vector(label_sets: list[dict[str, str]], now: float) -> dict:
    return {"resultType": "vector", "result": [{"metric": m, "value": [now, "1"]} for m in label_sets]}


def _json(status: int, doc: Any) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(doc).encode()


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address) -> None:  # clients that gave up
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_owner: HostileServer

    def _handle(self) -> None:
        owner = self.server_owner
        parts = urlsplit(self.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if body and "form-urlencoded" in (self.headers.get("Content-Type") or ""):
            params.update(parse_qsl(body.decode(), keep_blank_values=True))
        owner.requests[parts.path] += 1
        owner.seen.append((self.command, self.path, dict(self.headers.items())))
        if body:
            owner.bodies.append((parts.path, body))
        if any(parts.path.startswith(p) for p in owner.hang):
            owner._stop.wait(120)
            return
        if parts.path in owner.redirect:
            self._send(307, "text/plain", b"", Location=owner.redirect[parts.path])
            return
        status, ctype, payload = owner.answer(self, self.command, parts.path, params)
        self._send(status, ctype, payload)

    do_GET = do_POST = do_DELETE = _handle  # noqa: N815 - http.server's naming

    def _send(self, status: int, ctype: str, body: bytes, **headers: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *args) -> None:
        pass
