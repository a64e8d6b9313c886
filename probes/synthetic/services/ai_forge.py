"""AI Forge (seed 003): FastAPI with prometheus-fastapi-instrumentator plus training metrics.

http_requests_total{handler,method,status} with status grouped as 2xx/4xx/5xx (instrumentator).
Latency buckets: prometheus_client defaults (AI Forge configures the instrumentator with them, so
the recorded `p95 > 1s` alert can fire; the instrumentator's own default is only 0.1 0.5 1).
Training jobs are a side stream (default one every 30 s), recorded as events of kind
"training_job" whose latency is the job duration and error means the job failed.
Logs: '%(asctime)s [%(levelname)s] %(name)s: %(message)s'.
"""

from __future__ import annotations

import random
import time
from datetime import datetime

from probes.synthetic.model import Event, LogNormal, Route, TrafficConfig, labels
from probes.synthetic.service import Reply, Service, json_reply
from probes.synthetic.services.common import PythonProcess

JOB_BUCKETS = (30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
JOB_DURATION = LogNormal(420.0, 0.6)
JOB_FAILURE = 0.1
DEFAULT_TRAFFIC = TrafficConfig(rate=2.0, routes=(
    # weights keep the median of the non-monitoring traffic (/health is not traffic) clear of the
    # instrumentator's 0.1 s bucket bound, where two scrapers' windows would split it
    Route(labels(handler="/api/v1/chat", method="POST"), 0.30, LogNormal(0.35, 0.5), 0.02,
          LogNormal(300, 0.5), LogNormal(180, 0.5), model="llama3.2", backend="local"),
    Route(labels(handler="/api/v1/models", method="GET"), 0.30, LogNormal(0.02, 0.4), 0.005),
    Route(labels(handler="/api/v1/training/jobs", method="GET"), 0.15, LogNormal(0.03, 0.4), 0.005),
    Route(labels(handler="/api/v1/training/jobs", method="POST"), 0.05, LogNormal(0.12, 0.4), 0.02),
    Route(labels(handler="/health", method="GET"), 0.20, LogNormal(0.004, 0.3), 0.0),
))


def _asctime(t: float) -> str:
    d = datetime.fromtimestamp(t)
    return d.strftime("%Y-%m-%d %H:%M:%S") + f",{d.microsecond // 1000:03d}"


class AiForge(Service):
    name = "ai-forge"
    components = ("ollama", "storage")
    default_traffic = DEFAULT_TRAFFIC
    default_gauges = {"http_requests_in_progress": 1, "training_loss": 0.85,
                      "process_resident_memory_bytes": 3_400_000_000}

    def setup(self) -> None:
        r = self.registry
        self.process = PythonProcess(r, cpu_fraction=0.4)
        self.http_total = r.counter("http_requests_total", "Total number of requests by method, status and handler.",
                                    ["handler", "method", "status"])
        self.http_duration = r.histogram("http_request_duration_seconds",
                                         "Latency with only few buckets by handler. Made to be only used if "
                                         "aggregation by handler is important.", ["handler", "method"])
        self.in_progress = r.gauge("http_requests_in_progress", "Number of HTTP requests in progress.")
        self.jobs = r.counter("ai_forge_training_jobs_total", "Total training jobs")
        self.jobs_failed = r.counter("ai_forge_training_jobs_failed_total", "Failed jobs")
        self.job_duration = r.histogram("ai_forge_training_job_duration_seconds", "Job duration", (), JOB_BUCKETS)
        self.loss = r.gauge("ai_forge_training_loss", "Current training loss")
        self.job_rate = float(self.options.get("training_job_rate", 1 / 30))
        self._job_due = 0.0

    def decorate(self, route: Route, error: bool, rng: random.Random) -> dict[str, str]:
        if error:
            return {"status": "5xx", "status_code": "500"}
        if rng.random() < 0.02 and route.label_map["handler"] != "/health":
            return {"status": "4xx", "status_code": "422"}
        return {"status": "2xx", "status_code": "200"}

    def observe(self, ev: Event, route: Route, rng: random.Random) -> None:
        self.http_total.inc({**ev.labels, "status": ev.extra["status"]})
        self.http_duration.observe(ev.labels, ev.latency_s)
        level = "ERROR" if ev.error else "INFO"
        msg = (f"{ev.labels['method']} {ev.labels['handler']} {ev.extra['status_code']} "
               f"{round(ev.latency_s * 1000)}ms")
        self.log(ev.t, level, f"{_asctime(ev.t)} [{level}] aiforge.api: {msg}")

    def tick_extra(self, t: float, dt: float) -> None:
        self.process.advance(dt, 0)
        self._job_due += self.job_rate * dt
        while self._job_due >= 1:
            self._job_due -= 1
            self._finish_job(t)

    def _finish_job(self, t: float) -> None:
        rng = self.rng
        duration = JOB_DURATION.draw(rng)
        failed = rng.random() < JOB_FAILURE
        job_id = f"job_{rng.randrange(10**5, 10**6)}"
        self.jobs.inc()
        self.job_duration.observe(None, duration)
        if failed:
            self.jobs_failed.inc()
        ev = self.new_event(t, "training_job", {}, duration, failed, model="llama3.2", backend="local",
                            extra={"job_id": job_id})
        self.events.append(ev)
        level = "ERROR" if failed else "INFO"
        msg = f"Training failed job_id={job_id}" if failed else f"Training completed job_id={job_id}"
        self.log(t, level, f"{_asctime(t)} [{level}] aiforge.training: {msg} duration_s={duration:.0f}")

    def refresh_gauges(self, t: float, g: dict[str, float]) -> None:  # type: ignore[override]
        self.in_progress.set(None, g["http_requests_in_progress"])
        self.loss.set(None, g["training_loss"])
        self.process.refresh(g["process_resident_memory_bytes"])

    def health(self) -> Reply:
        checks = {c: "ok" if self.component_ok(c) else "error" for c in self.components}
        body = {"status": "healthy" if self.healthy else "unhealthy", "version": "0.4.0",
                "timestamp": datetime.fromtimestamp(time.time()).isoformat(), "checks": checks}
        return json_reply(body, 200 if self.healthy else 503)
