"""Hybrid AI Stack API gateway (seed 002): Flask + prometheus_client, local vs cloud routing.

The router maps complexity to model: low -> tinyllama, medium -> phi2 (both local via Ollama,
cost 0), high -> claude-sonnet (cloud, $3/M input and $15/M output tokens). Failed requests carry
no usage, so they cost nothing. No token metrics: the seed has none.
GET /health -> {"status": "healthy"|"unhealthy", "backends": {"ollama": "up"|"down",
"claude": "up"|"down"}, "models_loaded": N}; 503 when a backend is down.
"""

from __future__ import annotations

import random

from probes.synthetic.model import Event, LogNormal, Route, TrafficConfig, labels
from probes.synthetic.service import Reply, Service, iso_z, json_reply
from probes.synthetic.services.common import PythonProcess, jdump

ROUTING = LogNormal(0.002, 0.4)
DEFAULT_TRAFFIC = TrafficConfig(rate=8.0, routes=(
    Route(labels(model="tinyllama", backend="local", complexity="low"), 0.55, LogNormal(0.30, 0.5), 0.02,
          LogNormal(250, 0.6), LogNormal(150, 0.5), model="tinyllama", backend="local"),
    Route(labels(model="phi2", backend="local", complexity="medium"), 0.27, LogNormal(0.70, 0.4), 0.03,
          LogNormal(400, 0.6), LogNormal(250, 0.5), model="phi2", backend="local"),
    Route(labels(model="claude-sonnet", backend="cloud", complexity="high"), 0.18, LogNormal(1.50, 0.35), 0.03,
          LogNormal(1200, 0.5), LogNormal(500, 0.5), 3.0, 15.0, model="claude-sonnet", backend="cloud"),
))


class ApiGateway(Service):
    name = "api-gateway"
    components = ("ollama", "claude")
    default_traffic = DEFAULT_TRAFFIC
    default_gauges = {"requests_in_progress": 3, "ollama_models_loaded": 2,
                      "process_resident_memory_bytes": 96_000_000}

    def setup(self) -> None:
        r = self.registry
        self.process = PythonProcess(r)
        self.requests = r.counter("api_gateway_requests_total", "Total requests processed",
                                  ["model", "backend", "status", "complexity"])
        self.duration = r.histogram("api_gateway_request_duration_seconds", "Request latency distribution",
                                    ["model", "backend"])
        self.in_progress = r.gauge("api_gateway_requests_in_progress", "Concurrent requests")
        self.cost = r.counter("api_gateway_cost_total", "Cumulative API costs in USD", ["model"])
        # unlabelled, as a real Flask gateway exports it from the start (tests/exporters/apps)
        self.cost_per_request = r.gauge("api_gateway_cost_per_request", "Average cost per request")
        self.model_latency = r.histogram("api_gateway_model_latency_seconds", "Model inference time", ["model"])
        self.routing = r.histogram("api_gateway_routing_latency_seconds", "Routing decision time")
        self.health_gauge = r.gauge("api_gateway_health", "Service health status (1=healthy, 0=unhealthy)")
        self.models_loaded = r.gauge("ollama_models_loaded", "Number of models loaded")
        self._n: dict[str, int] = {}

    def decorate(self, route: Route, error: bool, rng: random.Random) -> dict[str, str]:
        return {"routing_s": repr(ROUTING.draw(rng))}

    def observe(self, ev: Event, route: Route, rng: random.Random) -> None:
        model = ev.model
        status = "error" if ev.error else "success"
        self.requests.inc({**ev.labels, "status": status})
        self.duration.observe({"model": model, "backend": ev.backend}, ev.latency_s)
        routing = min(float(ev.extra["routing_s"]), ev.latency_s * 0.5)
        self.routing.observe(None, routing)
        self.model_latency.observe([model], ev.latency_s - routing)
        self.cost.inc([model], ev.cost_usd)
        self._n[model] = self._n.get(model, 0) + 1
        spent = sum(self.cost.get([m]) for m in self._n)
        self.cost_per_request.set(None, spent / sum(self._n.values()))
        line = {"timestamp": iso_z(ev.t), "level": "ERROR" if ev.error else "INFO",
                "message": "upstream error" if ev.error else "completed", "model": model,
                "backend": ev.backend, "complexity": ev.labels["complexity"],
                "duration_ms": round(ev.latency_s * 1000)}
        self.log(ev.t, "error" if ev.error else "info", jdump(line))

    def tick_extra(self, t: float, dt: float) -> None:
        self.process.advance(dt, 0)

    def refresh_gauges(self, t: float, g: dict[str, float]) -> None:  # type: ignore[override]
        self.in_progress.set(None, g["requests_in_progress"])
        self.health_gauge.set(None, 1 if self.healthy else 0)
        self.models_loaded.set(None, g["ollama_models_loaded"] if self.component_ok("ollama") else 0)
        self.process.refresh(g["process_resident_memory_bytes"])

    def health(self) -> Reply:
        backends = {c: "up" if self.component_ok(c) else "down" for c in self.components}
        g = self.gauge_values()
        body = {"status": "healthy" if self.healthy else "unhealthy", "backends": backends,
                "models_loaded": int(g["ollama_models_loaded"]) if self.component_ok("ollama") else 0}
        return json_reply(body, 200 if self.healthy else 503)
