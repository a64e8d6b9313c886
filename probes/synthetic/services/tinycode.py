"""TinyCode (seed 000): every tinyllama_* metric of the seed, its JSON logs and /health.

Job name is "tinycode" (the seed's scrape config says 'tinyllama'; our recorded stack says tinycode).
Endpoints /complete /chat /fix /explain, all POST; an error answers 500 and bumps
tinyllama_errors_total{error_type,endpoint}; model errors (timeout, model_error) also bump
tinyllama_model_errors_total. /chat and /explain run a RAG search; /fix runs a safety check and
a plan execution (backup, sometimes a rollback).
"""

from __future__ import annotations

import random

from probes.synthetic.model import Event, LogNormal, Route, TrafficConfig, labels
from probes.synthetic.service import Reply, Service, iso_z, json_reply
from probes.synthetic.services.common import PythonProcess, jdump

_ENDPOINTS = (("/complete", 0.40, 0.45), ("/chat", 0.30, 0.8), ("/fix", 0.15, 1.2), ("/explain", 0.15, 0.9))
DEFAULT_TRAFFIC = TrafficConfig(rate=4.0, routes=tuple(
    Route(labels(method="POST", endpoint=ep), weight=w, latency=LogNormal(med, 0.5), error_rate=0.03,
          tokens_in=LogNormal(350, 0.6), tokens_out=LogNormal(120, 0.5), model="tinyllama", backend="local")
    for ep, w, med in _ENDPOINTS))
ERROR_TYPES = (("timeout", 0.6), ("validation", 0.25), ("model_error", 0.15))
MODEL_ERROR_TYPES = ("timeout", "model_error")


def _weighted(rng: random.Random, items: tuple[tuple[str, float], ...]) -> str:
    x = rng.random() * sum(w for _, w in items)
    for v, w in items:
        x -= w
        if x < 0:
            return v
    return items[-1][0]


class TinyCode(Service):
    name = "tinycode"
    components = ("ollama", "redis", "rag_system", "database")
    default_traffic = DEFAULT_TRAFFIC
    default_gauges = {"active_sessions": 12, "concurrent_requests": 3, "memory_usage_bytes": 1_150_000_000,
                      "cpu_usage_percent": 35.0, "disk_usage_bytes": 5_200_000_000, "file_handles_open": 84,
                      "process_resident_memory_bytes": 1_150_000_000}
    gauge_limits = {"cpu_usage_percent": 100.0}

    def setup(self) -> None:
        r = self.registry
        self.requests = r.counter("tinyllama_requests_total", "Total requests", ["method", "endpoint", "status"])
        self.duration = r.histogram("tinyllama_request_duration_seconds", "Request duration", ["endpoint"])
        self.errors = r.counter("tinyllama_errors_total", "Total errors", ["error_type", "endpoint"])
        self.sessions = r.gauge("tinyllama_active_sessions", "Active sessions")
        self.concurrent = r.gauge("tinyllama_concurrent_requests", "Concurrent requests")
        self.inference = r.histogram("tinyllama_model_inference_time_seconds", "Model inference time", ["model"])
        self.model_requests = r.counter("tinyllama_model_requests_total", "Model requests", ["model", "status"])
        self.model_errors = r.counter("tinyllama_model_errors_total", "Model errors", ["model", "error_type"])
        self.tokens = r.counter("tinyllama_tokens_generated_total", "Tokens generated")
        self.context = r.gauge("tinyllama_context_length_bytes", "Context length of the last request in bytes")
        self.rag_search = r.histogram("tinyllama_rag_search_duration_seconds", "RAG search duration")
        self.rag_docs = r.counter("tinyllama_rag_documents_indexed_total", "Documents indexed")
        self.rag_hits = r.counter("tinyllama_rag_cache_hits_total", "RAG cache hits")
        self.rag_misses = r.counter("tinyllama_rag_cache_misses_total", "RAG cache misses")
        self.safety = r.counter("tinyllama_safety_checks_total", "Safety checks", ["level", "result"])
        self.plans = r.counter("tinyllama_plan_executions_total", "Plan executions", ["risk_level", "status"])
        self.backups = r.counter("tinyllama_backups_created_total", "Backups created")
        self.rollbacks = r.counter("tinyllama_rollbacks_total", "Plan rollbacks")
        self.memory = r.gauge("tinyllama_memory_usage_bytes", "Memory usage in bytes")
        self.cpu = r.gauge("tinyllama_cpu_usage_percent", "CPU usage percent")
        self.disk = r.gauge("tinyllama_disk_usage_bytes", "Disk usage in bytes")
        self.fds = r.gauge("tinyllama_file_handles_open", "Open file handles")
        self.process = PythonProcess(r)
        self.rag_docs.inc(None, 1500)

    def decorate(self, route: Route, error: bool, rng: random.Random) -> dict[str, str]:
        extra = {"status": "500" if error else "200", "request_id": f"req_{rng.randrange(10**5, 10**6)}",
                 "user_id": f"user_{rng.randrange(100, 1000)}"}
        if error:
            extra["error_type"] = _weighted(rng, ERROR_TYPES)
        return extra

    def observe(self, ev: Event, route: Route, rng: random.Random) -> None:
        ep, status = ev.labels["endpoint"], ev.extra["status"]
        self.requests.inc({"method": "POST", "endpoint": ep, "status": status})
        self.duration.observe([ep], ev.latency_s)
        err = ev.extra.get("error_type")
        if err:
            self.errors.inc({"error_type": err, "endpoint": ep})
        if err != "validation":  # validation errors never reach the model
            ok = err is None
            self.model_requests.inc({"model": "tinyllama", "status": "success" if ok else "error"})
            self.inference.observe(["tinyllama"], ev.latency_s * 0.85)
            if not ok:
                self.model_errors.inc({"model": "tinyllama", "error_type": err})
        self.tokens.inc(None, ev.tokens_out)
        if ev.tokens_in:
            self.context.set(None, ev.tokens_in * 4)
        if ep in ("/chat", "/explain"):
            self.rag_search.observe(None, LogNormal(0.04, 0.5).draw(rng))
            (self.rag_hits if rng.random() < 0.7 else self.rag_misses).inc()
        if ep == "/fix" and not err:
            self.safety.inc({"level": "strict", "result": "passed" if rng.random() < 0.92 else "failed"})
            risk = _weighted(rng, (("low", 0.6), ("medium", 0.3), ("high", 0.1)))
            outcome = _weighted(rng, (("completed", 0.9), ("failed", 0.04), ("rolled_back", 0.06)))
            self.plans.inc({"risk_level": risk, "status": outcome})
            self.backups.inc()
            if outcome == "rolled_back":
                self.rollbacks.inc()
        if rng.random() < 0.01:
            self.rag_docs.inc()
        line = {"timestamp": iso_z(ev.t), "level": "ERROR" if err else "INFO", "logger": "tinyllama.api",
                "message": "Request failed" if err else "Request completed",
                "request_id": ev.extra["request_id"], "endpoint": ep, "method": "POST",
                "status_code": int(status)}
        if err:
            line["error_type"] = err
        line.update({"duration_ms": round(ev.latency_s * 1000), "user_id": ev.extra["user_id"],
                     "model": "tinyllama"})
        self.log(ev.t, "error" if err else "info", jdump(line))

    def tick_extra(self, t: float, dt: float) -> None:
        self.process.advance(dt, 0)

    def refresh_gauges(self, t: float, g: dict[str, float]) -> None:  # type: ignore[override]
        self.sessions.set(None, g["active_sessions"])
        self.concurrent.set(None, g["concurrent_requests"])
        self.memory.set(None, g["memory_usage_bytes"])
        self.cpu.set(None, g["cpu_usage_percent"])
        self.disk.set(None, g["disk_usage_bytes"])
        self.fds.set(None, g["file_handles_open"])
        self.process.refresh(g["process_resident_memory_bytes"], g["file_handles_open"])

    def health(self) -> Reply:
        import time
        ok = self.component_ok
        docs = int(self.rag_docs.get())

        def st(name: str) -> str:
            return "healthy" if ok(name) else "unhealthy"
        body = {
            "status": "healthy" if self.healthy else "unhealthy",
            "timestamp": iso_z(time.time(), 0),
            "checks": {
                "ollama": {"status": st("ollama"), "response_time_ms": 50},
                "redis": {"status": st("redis"), "response_time_ms": 2},
                "rag_system": {"status": st("rag_system"), "documents_indexed": docs},
                "database": {"status": st("database"), "connection_pool": "8/10"},
            },
            "version": "1.0.0",
            "uptime_seconds": int(time.time() - self.started),
        }
        return json_reply(body, 200 if self.healthy else 503)
