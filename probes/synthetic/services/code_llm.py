"""Code LLM API (seed 004): FastAPI, prometheus_client custom metrics + the instrumentator.

generation_requests_total is bumped before generating (errors included, as in the seed);
latency and tokens are observed on success only; errors: validation -> 400, oom -> 503,
unknown -> 500, each bumping generation_errors_total{error_type}. http_request_duration_seconds
keeps the instrumentator's default buckets 0.1 0.5 1; http_request_duration_highr_seconds (no
labels, the instrumentator's fine buckets 0.01 ... 60) counts every request, as the real one does.
/health and /health/detailed answer the seed's JSON; when the model is unhealthy /health says
"unhealthy" with model_loaded false and 503 (the seed never fails; we need a failure mode).
"""

from __future__ import annotations

import random
import sys
import time

from probes.synthetic.model import Event, LogNormal, Route, TrafficConfig, labels
from probes.synthetic.service import Reply, Request, Service, iso_local, json_reply
from probes.synthetic.services.common import PythonProcess, jdump

TOKEN_BUCKETS = (10, 25, 50, 100, 200, 300, 500)
LATENCY_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0)
INSTRUMENTATOR_BUCKETS = (0.1, 0.5, 1)
HIGHR_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 7.5,
                 10.0, 30.0, 60.0)
ERROR_TYPES = (("validation", "400", "4xx", 0.3), ("oom", "503", "5xx", 0.2), ("unknown", "500", "5xx", 0.5))
DEFAULT_TRAFFIC = TrafficConfig(rate=2.0, routes=(
    Route(labels(handler="/generate", method="POST"), 0.9, LogNormal(0.45, 0.6), 0.03,
          LogNormal(40, 0.5), LogNormal(95, 0.6), model="code-llm", backend="local"),
    Route(labels(handler="/health", method="GET"), 0.1, LogNormal(0.003, 0.3), 0.0),
))


class CodeLlmApi(Service):
    name = "code-llm-api"
    components = ("model",)
    default_traffic = DEFAULT_TRAFFIC
    default_gauges = {"active_generation_requests": 1, "process_resident_memory_bytes": 2_100_000_000}

    def setup(self) -> None:
        r = self.registry
        self.process = PythonProcess(r, cpu_fraction=0.6)
        self.gen_requests = r.counter("generation_requests_total", "Total number of generation requests")
        self.gen_tokens = r.histogram("generation_tokens", "Number of tokens generated per request", (), TOKEN_BUCKETS)
        self.gen_latency = r.histogram("generation_latency_seconds", "Time taken to generate code", (), LATENCY_BUCKETS)
        self.active = r.gauge("active_generation_requests", "Number of currently processing requests")
        self.gen_errors = r.counter("generation_errors_total", "Total number of generation errors", ["error_type"])
        self.http_total = r.counter("http_requests_total", "Total number of requests by method, status and handler.",
                                    ["handler", "method", "status"])
        self.http_duration = r.histogram("http_request_duration_seconds",
                                         "Latency with only few buckets by handler. Made to be only used if "
                                         "aggregation by handler is important.", ["handler", "method"],
                                         INSTRUMENTATOR_BUCKETS)
        self.http_highr = r.histogram("http_request_duration_highr_seconds",
                                      "Latency with many buckets but no API specific labels. Made for more accurate "
                                      "percentile calculations. ", (), HIGHR_BUCKETS)

    def decorate(self, route: Route, error: bool, rng: random.Random) -> dict[str, str]:
        if not error:
            return {"status": "2xx", "status_code": "200"}
        x = rng.random()
        for etype, code, group, w in ERROR_TYPES:
            x -= w
            if x < 0:
                break
        return {"status": group, "status_code": code, "error_type": etype}

    def observe(self, ev: Event, route: Route, rng: random.Random) -> None:
        self.http_total.inc({**ev.labels, "status": ev.extra["status"]})
        self.http_duration.observe(ev.labels, ev.latency_s)
        self.http_highr.observe(None, ev.latency_s)
        if ev.labels["handler"] == "/generate":
            self.gen_requests.inc()
            if ev.error:
                self.gen_errors.inc([ev.extra["error_type"]])
            else:
                self.gen_latency.observe(None, ev.latency_s * 0.97)
                self.gen_tokens.observe(None, ev.tokens_out)
        record = {"timestamp": iso_local(ev.t), "level": "ERROR" if ev.error else "INFO",
                  "message": "Generation failed" if ev.error else "Request processed",
                  "module": "deployment_api", "function": "log_requests", "line": 87,
                  "method": ev.labels["method"], "path": ev.labels["handler"],
                  "status_code": int(ev.extra["status_code"]), "duration_ms": round(ev.latency_s * 1000, 2),
                  "client_ip": "127.0.0.1"}
        self.log(ev.t, "error" if ev.error else "info", jdump(record))

    def tick_extra(self, t: float, dt: float) -> None:
        self.process.advance(dt, 0)

    def refresh_gauges(self, t: float, g: dict[str, float]) -> None:  # type: ignore[override]
        self.active.set(None, g["active_generation_requests"])
        self.process.refresh(g["process_resident_memory_bytes"])

    def health(self) -> Reply:
        ok = self.healthy
        body = {"status": "healthy" if ok else "unhealthy", "timestamp": iso_local(time.time()),
                "model_loaded": ok, "device": "cuda"}
        return json_reply(body, 200 if ok else 503)

    def detailed(self, req: Request) -> Reply:
        if not self.healthy:
            return json_reply({"status": "unhealthy", "error": "model is not loaded",
                               "timestamp": iso_local(time.time())})
        return json_reply({"status": "healthy", "timestamp": iso_local(time.time()),
                           "model": {"loaded": True, "vocab_size": 50257, "inference_test_ms": 42.7},
                           "system": {"device": "cuda", "python_version": sys.version}})

    def health_paths(self) -> tuple[str, ...]:
        return ("/health", "/health/detailed")

    def endpoints(self) -> dict:
        return {("GET", "/health/detailed"): self.detailed}
