"""A loopback HTTP server that replays the Loki 2.6.1 responses recorded in tests/fixtures/loki.

No Loki can be installed here, so llmwatch's Loki client is tested against this instead. It must
behave like the recording, not like our idea of Loki: a recorded request gets the recorded bytes,
status and content type; any other stream query is answered from the recorded log lines with
Loki's rules (start inclusive, end exclusive, `limit` across all streams, backward = newest first,
nanosecond strings), so tests can drive limit/direction/start and label or line filters.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .paths import FIXTURES
from .logql import (
    LogQLError,
    StreamQuery,
    Unsupported,
    is_metric_query,
    now_ns,
    parse_duration_ns,
    parse_stream_query,
    parse_time_ns,
)

JSON_UTF8 = "application/json; charset=UTF-8"
JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
INDEXED_LABELS = ("job", "level", "service_name")  # what /labels.json says Loki indexed

# (path, exact query parameters, fixture file): the requests listed in fixtures/README.md.
_START = "1795324473000000000"
RECORDED: list[tuple[str, dict[str, str], str]] = [
    ("/ready", {}, "ready.txt"),
    ("/loki/api/v1/labels", {}, "labels.json"),
    ("/loki/api/v1/label/job/values", {}, "label_job_values.json"),
    ("/loki/api/v1/query_range", {"query": '{job="api-gateway"}', "limit": "20", "start": _START,
                                  "end": "1795325075850811931"}, "query_range_streams.json"),
    ("/loki/api/v1/query_range", {"query": '{job="tinycode", level="error"}', "limit": "10",
                                  "direction": "forward", "start": _START}, "query_range_streams_forward.json"),
    ("/loki/api/v1/query_range", {"query": '{job=~".+"} |= "error" | json | duration_ms > 100', "limit": "10",
                                  "start": _START}, "query_range_filter.json"),
    ("/loki/api/v1/query_range", {"query": '{job=~".+"} |~ "not markup|\\\\x1b"', "limit": "10",
                                  "start": "1795321473000000000"}, "query_range_hostile.json"),
    ("/loki/api/v1/query_range", {"query": "sum by (level) (count_over_time({job=\"api-gateway\"}[1m]))",
                                  "step": "60", "start": _START}, "query_range_matrix.json"),
    ("/loki/api/v1/query", {"query": 'sum by (job) (rate({job=~".+"}[1m]))'}, "query_instant_vector.json"),
    ("/loki/api/v1/query_range", {"query": '{job="api-gateway"'}, "query_parse_error.txt"),
    ("/loki/api/v1/query_range", {"query": '{job=~".*"}'}, "query_no_selector_error.txt"),
    ("/loki/api/v1/query_range", {"query": '{job="nope"}', "start": _START}, "query_empty.json"),
]
STREAM_FIXTURES = ("query_range_streams.json", "query_range_streams_forward.json",
                   "query_range_hostile.json", "query_range_filter.json")


def fixtures_dir() -> Path:
    """tests/fixtures/loki: the recorded Loki 2.6.1 answers."""
    return FIXTURES / "loki"


@dataclass(frozen=True)
class Fixture:
    body: bytes
    status: int
    content_type: str


def load_fixture(directory: Path, name: str) -> Fixture:
    """The body plus its .status line ("400 application/json; charset=UTF-8")."""
    body = (directory / name).read_bytes()
    status_file = directory / f"{name}.status"
    status, ctype = 200, JSON
    if status_file.exists():
        code, _, ctype = status_file.read_text().strip().partition(" ")
        status = int(code)
    return Fixture(body, status, ctype)


@dataclass(frozen=True)
class RecordedRequest:
    """What a client sent, for tests that assert on headers (X-Scope-OrgID, auth)."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


def _labels_key(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


class LogStore:
    """Every recorded log line, grouped by its indexed stream labels and de-duplicated."""

    def __init__(self, directory: Path) -> None:
        streams: dict[str, tuple[dict[str, str], dict[tuple[int, str], str]]] = {}
        for name in STREAM_FIXTURES:
            doc = json.loads((directory / name).read_bytes())
            for item in doc["data"]["result"]:
                # Parsed labels (| json) are not stream labels: keep only what Loki indexed.
                labels = {k: v for k, v in item["stream"].items() if k in INDEXED_LABELS}
                entries = streams.setdefault(_labels_key(labels), (labels, {}))[1]
                for ts, line in item["values"]:
                    entries[(int(ts), line)] = ts
        self.streams = {
            key: (labels, sorted((ns, ts, line) for (ns, line), ts in entries.items()))
            for key, (labels, entries) in streams.items()
        }
        empty = json.loads((directory / "query_empty.json").read_bytes())
        self.stats_template: dict[str, Any] = empty["data"]["stats"]

    def label_values(self, name: str) -> list[str]:
        return sorted({labels[name] for labels, _ in self.streams.values() if name in labels})

    def select(self, query: StreamQuery, start: int, end: int, limit: int, forward: bool) -> list[dict[str, Any]]:
        """Loki's semantics: start <= ts < end, `limit` entries over all streams, streams sorted."""
        hits: list[tuple[int, str, str, str]] = []
        for key, (labels, entries) in self.streams.items():
            if not query.selects(labels):
                continue
            hits.extend((ns, key, ts, line) for ns, ts, line in entries if start <= ns < end and query.keeps(line))
        hits.sort(key=lambda h: h[0], reverse=not forward)
        chosen: dict[str, list[list[str]]] = {}
        for _, key, ts, line in hits[:limit]:
            chosen.setdefault(key, []).append([ts, line])
        return [{"stream": self.streams[key][0], "values": chosen[key]} for key in sorted(chosen)]


class LokiReplay:
    """Threaded loopback server; use as a context manager or start()/stop()."""

    def __init__(
        self,
        directory: Path | None = None,
        *,
        basic_auth: tuple[str, str] | None = None,
        bearer_token: str | None = None,
        require_org_id: str | None = None,
    ) -> None:
        self.directory = directory or fixtures_dir()
        if not self.directory.is_dir():
            raise FileNotFoundError(f"Loki fixtures not found at {self.directory}")
        self.basic_auth = basic_auth
        self.bearer_token = bearer_token
        self.require_org_id = require_org_id
        self.store = LogStore(self.directory)
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("LokiReplay not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def endpoint(self) -> Any:
        """A probes.config.Endpoint pointing here (org_id left for the test to set)."""
        from probes.config import Endpoint

        return Endpoint(url=self.url)

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            return self.requests[-1]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def start(self) -> "LokiReplay":
        handler = type("Handler", (_Handler,), {"replay": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="loki-replay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "LokiReplay":
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # -- request handling (called from handler threads) -----------------------------------------
    def record(self, req: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(req)

    def auth_failure(self, headers: dict[str, str]) -> Fixture | None:
        """401 like the reverse proxy in front of a real Loki, or Loki's own "no org id"."""
        auth = headers.get("authorization", "")
        if self.basic_auth is not None:
            expected = "Basic " + base64.b64encode(":".join(self.basic_auth).encode()).decode()
            if auth != expected:
                return Fixture(b"401 Unauthorized\n", 401, TEXT)
        if self.bearer_token is not None and auth != f"Bearer {self.bearer_token}":
            return Fixture(b"401 Unauthorized\n", 401, TEXT)
        if self.require_org_id is not None and headers.get("x-scope-orgid") != self.require_org_id:
            return Fixture(b"no org id\n", 401, TEXT)
        return None

    def respond(self, path: str, params: dict[str, str]) -> Fixture:
        for rec_path, rec_params, name in RECORDED:
            if rec_path == path and rec_params == params:
                return load_fixture(self.directory, name)
        if path == "/ready":
            return load_fixture(self.directory, "ready.txt")
        if path == "/loki/api/v1/labels":
            return load_fixture(self.directory, "labels.json")
        if path.startswith("/loki/api/v1/label/") and path.endswith("/values"):
            name = unquote(path[len("/loki/api/v1/label/") : -len("/values")])
            if name == "job":
                return load_fixture(self.directory, "label_job_values.json")
            body = json.dumps({"status": "success", "data": self.store.label_values(name)}, separators=(",", ":"))
            return Fixture(body.encode(), 200, JSON)
        if path in ("/loki/api/v1/query_range", "/loki/api/v1/query"):
            try:
                return self._query(path, params)
            except LogQLError as exc:
                return Fixture(str(exc).encode(), 400, JSON_UTF8)
            except Unsupported as exc:
                return Fixture(f"loki replay: {exc}".encode(), 501, TEXT)
        return Fixture(b"404 page not found\n", 404, TEXT)

    def _query(self, path: str, params: dict[str, str]) -> Fixture:
        query = params.get("query", "")
        if is_metric_query(query):
            name = "query_range_matrix.json" if path.endswith("query_range") else "query_instant_vector.json"
            return load_fixture(self.directory, name)
        parsed = parse_stream_query(query)
        if all(m.empty_compatible() for m in parsed.matchers):
            return load_fixture(self.directory, "query_no_selector_error.txt")
        if path.endswith("/query"):
            raise Unsupported("instant log queries were not recorded; use query_range")
        end = parse_time_ns(params.get("end"), now_ns())
        if "since" in params and "start" not in params:
            start = end - parse_duration_ns(params["since"])
        else:
            start = parse_time_ns(params.get("start"), end - 3600 * 10**9)
        if end < start:
            raise LogQLError("end timestamp must not be before or equal to start time")
        try:
            limit = int(params.get("limit", "100"))
        except ValueError:
            raise LogQLError(f'cannot parse "{params["limit"]}" to a valid limit') from None
        if limit <= 0:
            raise LogQLError("limit must be a positive value")
        direction = params.get("direction", "backward").lower()
        if direction not in ("backward", "forward"):
            raise LogQLError(f'invalid direction "{direction}"')
        result = self.store.select(parsed, start, end, limit, forward=direction == "forward")
        stats = json.loads(json.dumps(self.store.stats_template))
        stats["summary"]["totalEntriesReturned"] = sum(len(s["values"]) for s in result)
        body = {"status": "success", "data": {"resultType": "streams", "result": result, "stats": stats}}
        # As recorded: equality-only selectors came back with "; charset=UTF-8", regex ones without.
        ctype = JSON_UTF8 if parsed.equality_only else JSON
        return Fixture(json.dumps(body, separators=(",", ":")).encode(), 200, ctype)


class _Handler(BaseHTTPRequestHandler):
    replay: LokiReplay
    protocol_version = "HTTP/1.1"
    server_version = "loki-replay"

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            params.update(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.replay.record(RecordedRequest(method, parts.path, params, headers))
        reply = self.replay.auth_failure(headers) or self.replay.respond(parts.path, params)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        if reply.status == 401 and self.replay.basic_auth is not None:
            self.send_header("WWW-Authenticate", 'Basic realm="loki"')
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(reply.body)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep pytest output clean
        pass
