"""Hybrid AI Stack API gateway (seed 002, "Monitoring & Observability Guide"), as the seed writes it.

Flask with prometheus_client and the seed's metric table: api_gateway_requests_total{model,
backend,status,complexity}, api_gateway_request_duration_seconds (histogram), the in-progress
gauge, api_gateway_cost_total{model} and api_gateway_cost_per_request, model and routing latency
histograms, api_gateway_health and ollama_models_loaded. /metrics via generate_latest; /health.

The backends are stand-ins: POST /v1/chat {complexity, simulate_seconds, cost, fail} routes low
-> tinyllama and medium -> phi2 (local, free) and high -> claude-sonnet (cloud, the given cost),
sleeps and answers; the traffic generator records each request's truth. Health is steered by the
JSON file in LLMWATCH_APP_STATE ({"healthy": false}).

Run: python hybrid_gateway.py PORT
"""

from __future__ import annotations

import sys
import time

from flask import Flask, Response, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from _state import healthy

app = Flask(__name__)

REQUESTS = Counter("api_gateway_requests_total", "Total requests processed",
                   ["model", "backend", "status", "complexity"])
DURATION = Histogram("api_gateway_request_duration_seconds", "Request latency distribution", ["model", "backend"])
IN_PROGRESS = Gauge("api_gateway_requests_in_progress", "Concurrent requests")
COST = Counter("api_gateway_cost_total", "Cumulative API costs", ["model"])
COST_PER_REQUEST = Gauge("api_gateway_cost_per_request", "Average cost per request")
MODEL_LATENCY = Histogram("api_gateway_model_latency_seconds", "Model inference time", ["model"])
ROUTING_LATENCY = Histogram("api_gateway_routing_latency_seconds", "Routing decision time")
HEALTH = Gauge("api_gateway_health", "Service health status (1=healthy, 0=unhealthy)")
MODELS_LOADED = Gauge("ollama_models_loaded", "Number of models loaded")

ROUTES = {"low": ("tinyllama", "local"), "medium": ("phi2", "local"), "high": ("claude-sonnet", "cloud")}
_totals = {"requests": 0, "cost": 0.0}
HEALTH.set(1)
MODELS_LOADED.set(2)


@app.route("/v1/chat", methods=["POST"])
def chat():
    body = request.get_json(force=True) or {}
    started = time.time()
    with IN_PROGRESS.track_inprogress():
        complexity = body.get("complexity", "low")
        model, backend = ROUTES[complexity]
        ROUTING_LATENCY.observe(time.time() - started)
        time.sleep(float(body.get("simulate_seconds", 0.1)))
        MODEL_LATENCY.labels(model).observe(time.time() - started)
        failed = bool(body.get("fail"))
        cost = 0.0 if failed or backend == "local" else float(body.get("cost", 0.0))
        REQUESTS.labels(model, backend, "error" if failed else "success", complexity).inc()
        if cost:
            COST.labels(model).inc(cost)
        _totals["requests"] += 1
        _totals["cost"] += cost
        COST_PER_REQUEST.set(_totals["cost"] / _totals["requests"])
        DURATION.labels(model, backend).observe(time.time() - started)
    if failed:
        return jsonify({"error": f"{backend} backend failed"}), 502
    return jsonify({"model": model, "backend": backend, "response": "ok", "cost": cost})


@app.route("/health")
def health():
    ok = healthy()
    HEALTH.set(1 if ok else 0)
    body = {"status": "healthy" if ok else "unhealthy", "backends": {"ollama": "up" if ok else "down",
                                                                      "claude": "up"}, "models_loaded": 2}
    return jsonify(body), 200 if ok else 503


@app.route("/metrics")
def metrics():
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
