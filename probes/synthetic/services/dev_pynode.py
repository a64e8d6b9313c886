"""Dev-PyNode (seed 001): a Node.js backend instrumented with prom-client.

prom-client dialect: integers without ".0", `le` first, buckets then _sum then _count, no
*_created series, blank line between families, default process_* and nodejs_* metrics.
Only POST /api/ai/generate calls an AI provider (ai_requests_total{model,provider,status}).
Like the seed's middleware (and the real express app in tests/exporters), every request it really
answers is counted too: Prometheus' scrapes of /metrics and health probes of /health and /ready
appear in http_requests_total{route="/metrics"...} (monitoring traffic llmwatch leaves out).
"""

from __future__ import annotations

import random
import time

from probes.synthetic.exposition import NODE, NODE_DEFAULT_BUCKETS
from probes.synthetic.model import Event, LogNormal, Route, TrafficConfig, labels
from probes.synthetic.service import Reply, Request, Service, iso_z, json_reply
from probes.synthetic.services.common import jdump

HTTP_BUCKETS = (0.1, 0.3, 0.5, 0.7, 1, 3, 5, 7, 10)
AI_ROUTE = "/api/ai/generate"
DEFAULT_TRAFFIC = TrafficConfig(rate=3.0, routes=(
    Route(labels(method="GET", route="/api/projects"), 0.30, LogNormal(0.08, 0.5), 0.01),
    Route(labels(method="GET", route="/api/users/:id"), 0.20, LogNormal(0.05, 0.5), 0.01),
    Route(labels(method="POST", route="/api/files"), 0.10, LogNormal(0.35, 0.6), 0.02),
    Route(labels(method="GET", route="/health"), 0.15, LogNormal(0.01, 0.3), 0.0),
    Route(labels(method="POST", route=AI_ROUTE), 0.15, LogNormal(2.2, 0.45), 0.04,
          LogNormal(600, 0.5), LogNormal(300, 0.5), model="gpt-4", backend="openai"),
    Route(labels(method="POST", route=AI_ROUTE), 0.10, LogNormal(0.9, 0.4), 0.03,
          LogNormal(600, 0.5), LogNormal(250, 0.5), model="llama3", backend="ollama"),
))
_QUERIES = {"/api/projects": ("SELECT", "projects"), "/api/users/:id": ("SELECT", "users"),
            "/api/files": ("INSERT", "files"), AI_ROUTE: ("INSERT", "ai_requests")}


class DevPyNode(Service):
    name = "dev-pynode"
    dialect = NODE
    components = ("database", "redis", "storage")
    default_traffic = DEFAULT_TRAFFIC
    default_gauges = {"active_connections": 25, "database_connections_active": 12,
                      "process_resident_memory_bytes": 182_000_000, "nodejs_heap_size_used_bytes": 61_000_000}

    def setup(self) -> None:
        r = self.registry
        # prom-client default metrics come first, as collectDefaultMetrics() registers them first
        self.cpu_user = r.counter("process_cpu_user_seconds_total", "Total user CPU time spent in seconds.")
        self.cpu_sys = r.counter("process_cpu_system_seconds_total", "Total system CPU time spent in seconds.")
        self.cpu_all = r.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
        self.start_time = r.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
        self.rss = r.gauge("process_resident_memory_bytes", "Resident memory size in bytes.")
        self.vmem = r.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.")
        self.heap = r.gauge("process_heap_bytes", "Process heap size in bytes.")
        self.open_fds = r.gauge("process_open_fds", "Number of open file descriptors.")
        self.max_fds = r.gauge("process_max_fds", "Maximum number of open file descriptors.")
        self.lag = r.gauge("nodejs_eventloop_lag_seconds", "Lag of event loop in seconds.")
        self.heap_total = r.gauge("nodejs_heap_size_total_bytes", "Process heap size from Node.js in bytes.")
        self.heap_used = r.gauge("nodejs_heap_size_used_bytes", "Process heap size used from Node.js in bytes.")
        self.version = r.gauge("nodejs_version_info", "Node.js version info.", ["version", "major", "minor", "patch"])
        self.http_duration = r.histogram("http_request_duration_seconds", "Duration of HTTP requests in seconds",
                                         ["method", "route", "status_code"], HTTP_BUCKETS)
        self.http_total = r.counter("http_requests_total", "Total number of HTTP requests",
                                    ["method", "route", "status_code"])
        self.active = r.gauge("active_connections", "Number of active connections")
        self.db_conns = r.gauge("database_connections_active", "Number of active database connections", ["database"])
        self.db_query = r.histogram("database_query_duration_seconds", "Duration of database queries in seconds",
                                    ["query_type", "table"], NODE_DEFAULT_BUCKETS)
        self.ai_total = r.counter("ai_requests_total", "Total number of AI requests", ["model", "provider", "status"])
        self.ai_duration = r.histogram("ai_request_duration_seconds", "Duration of AI requests in seconds",
                                       ["model", "provider"], NODE_DEFAULT_BUCKETS)
        self.ai_tokens = r.counter("ai_tokens_used_total", "Total number of AI tokens used",
                                   ["model", "provider", "token_type"])
        self.cpu = 0.0

    def decorate(self, route: Route, error: bool, rng: random.Random) -> dict[str, str]:
        ok = "201" if route.label_map["route"] == "/api/files" else "200"
        return {"status_code": "500" if error else ok}

    def observe(self, ev: Event, route: Route, rng: random.Random) -> None:
        lab = {**ev.labels, "status_code": ev.extra["status_code"]}
        self.http_total.inc(lab)
        self.http_duration.observe(lab, ev.latency_s)
        q = _QUERIES.get(ev.labels["route"])
        if q:
            self.db_query.observe({"query_type": q[0], "table": q[1]}, LogNormal(0.004, 0.6).draw(rng))
        if ev.labels["route"] == AI_ROUTE:
            ai = {"model": ev.model, "provider": ev.backend}
            self.ai_total.inc({**ai, "status": "error" if ev.error else "success"})
            self.ai_duration.observe(ai, ev.latency_s * 0.95)
            if not ev.error:
                self.ai_tokens.inc({**ai, "token_type": "prompt"}, ev.tokens_in)
                self.ai_tokens.inc({**ai, "token_type": "completion"}, ev.tokens_out)
        level = "error" if ev.error else "info"
        line = {"level": level, "message": "Request failed" if ev.error else "Request completed",
                "method": ev.labels["method"], "route": ev.labels["route"],
                "status_code": int(ev.extra["status_code"]), "duration_ms": round(ev.latency_s * 1000)}
        if ev.labels["route"] == AI_ROUTE:
            line.update(model=ev.model, provider=ev.backend)
        line.update(service="dev-pynode-backend", timestamp=iso_z(ev.t, 3))
        self.log(ev.t, level, jdump(line).replace(", ", ",").replace(": ", ":"))

    def tick_extra(self, t: float, dt: float) -> None:
        self.cpu += 0.12 * dt

    def refresh_gauges(self, t: float, g: dict[str, float]) -> None:  # type: ignore[override]
        self.cpu_user.values[()] = round(self.cpu * 0.8, 6)
        self.cpu_sys.values[()] = round(self.cpu * 0.2, 6)
        self.cpu_all.values[()] = round(self.cpu, 6)
        self.start_time.set(None, int(self.started))
        self.rss.set(None, g["process_resident_memory_bytes"])
        self.vmem.set(None, g["process_resident_memory_bytes"] * 6)
        self.heap.set(None, g["nodejs_heap_size_used_bytes"] * 1.6)
        self.open_fds.set(None, 31)
        self.max_fds.set(None, 1048576)
        self.lag.set(None, 0.0021)
        self.heap_total.set(None, g["nodejs_heap_size_used_bytes"] * 1.3)
        self.heap_used.set(None, g["nodejs_heap_size_used_bytes"])
        self.version.set(("v20.11.1", "20", "11", "1"), 1)
        self.active.set(None, g["active_connections"])
        self.db_conns.set({"database": "postgres"}, g["database_connections_active"])

    def health(self) -> Reply:
        services = {c: "connected" if self.component_ok(c) else "disconnected" for c in self.components}
        body = {"status": "healthy" if self.healthy else "unhealthy", "timestamp": iso_z(time.time(), 3),
                "version": "1.0.0", "uptime": time.time() - self.started, "services": services}
        return json_reply(body, 200 if self.healthy else 503)

    def ready(self, req: Request) -> Reply:
        if self.healthy:
            return json_reply({"status": "ready"})
        return json_reply({"status": "not ready"}, 503)

    def endpoints(self) -> dict:
        return {("GET", "/ready"): self.ready}

    def health_paths(self) -> tuple[str, ...]:
        return ("/health", "/ready")

    def handle(self, req: Request) -> Reply:
        began = time.monotonic()
        reply = super().handle(req)
        if req.path == "/metrics" or req.path in self.health_paths():  # res.on('finish') in the seed
            lab = {"method": req.method, "route": req.path, "status_code": str(reply.status)}
            with self.lock:
                self.http_total.inc(lab)
                self.http_duration.observe(lab, time.monotonic() - began)
        return reply

    def not_found(self, req: Request) -> Reply:  # Express' default 404 page
        return Reply(404, f"Cannot {req.method} {req.path}".encode(), "text/html; charset=utf-8")
