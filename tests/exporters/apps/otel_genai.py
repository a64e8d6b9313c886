"""An LLM client app instrumented with the OpenTelemetry SDK and opentelemetry-exporter-prometheus,
recording the GenAI semantic-convention metrics as the instrumentations do.

gen_ai.client.operation.duration (s), gen_ai.client.token.usage ({token}, gen_ai.token.type
input|output) and gen_ai.server.time_to_first_token (s), with the conventions' advisory bucket
boundaries (doubling from 0.01 s; token counts by powers of 4). The provider attribute is
gen_ai.provider.name (current conventions) or gen_ai.system (older ones, still emitted by many
instrumentations): the second argument picks it. error.type is set on failures only.

The LLM calls are stand-ins: POST /v1/chat {model, provider, tokens_in, tokens_out,
simulate_seconds, ttft_seconds, fail}; the traffic generator records each request's truth.
GET /health answers {"status": "ok"} (503 "unhealthy" when LLMWATCH_APP_STATE says so).

Run: python otel_genai.py PORT provider_name|system
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from _state import healthy

DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]

PROVIDER_KEY = "gen_ai.system" if len(sys.argv) > 2 and sys.argv[2] == "system" else "gen_ai.provider.name"
reader = PrometheusMetricReader()
provider = MeterProvider(resource=Resource.create({"service.name": "genai-chat"}), metric_readers=[reader])
meter = provider.get_meter("opentelemetry.instrumentation.openai_v2", "0.1b0")
duration = meter.create_histogram("gen_ai.client.operation.duration", unit="s",
                                  description="GenAI operation duration",
                                  explicit_bucket_boundaries_advisory=DURATION_BUCKETS)
tokens = meter.create_histogram("gen_ai.client.token.usage", unit="{token}",
                                description="Measures number of input and output tokens used",
                                explicit_bucket_boundaries_advisory=TOKEN_BUCKETS)
ttft = meter.create_histogram("gen_ai.server.time_to_first_token", unit="s",
                              description="Time to generate first token for successful responses",
                              explicit_bucket_boundaries_advisory=TTFT_BUCKETS)


def chat(body: dict) -> tuple[int, dict]:
    attrs = {"gen_ai.operation.name": "chat", PROVIDER_KEY: body.get("provider", "openai"),
             "gen_ai.request.model": body.get("model", "gpt-4o-mini"), "server.address": "127.0.0.1"}
    started = time.monotonic()
    time.sleep(float(body.get("ttft_seconds", 0.0)))
    first = time.monotonic() - started
    time.sleep(max(0.0, float(body.get("simulate_seconds", 0.1)) - first))
    if body.get("fail"):
        duration.record(time.monotonic() - started, {**attrs, "error.type": "500"})
        return 502, {"error": "provider failed"}
    duration.record(time.monotonic() - started, attrs)
    ttft.record(first, attrs)
    tokens.record(int(body.get("tokens_in", 0)), {**attrs, "gen_ai.token.type": "input"})
    tokens.record(int(body.get("tokens_out", 0)), {**attrs, "gen_ai.token.type": "output"})
    return 200, {"content": "ok"}


class Handler(BaseHTTPRequestHandler):
    def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path.startswith("/metrics"):
            self._send(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
        elif self.path == "/health":
            ok = healthy()
            self._send(200 if ok else 503, json.dumps({"status": "ok" if ok else "unhealthy"}).encode())
        else:
            self._send(404, b'{"error":"not found"}')

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        code, out = chat(json.loads(self.rfile.read(length) or b"{}"))
        self._send(code, json.dumps(out).encode())

    def log_message(self, *args) -> None:
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
