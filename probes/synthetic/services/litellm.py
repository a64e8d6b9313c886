"""LiteLLM proxy (reference section 5) with a local Ollama deployment and two cloud ones.

A request for requested_model goes to its primary deployment. When that call fails, LiteLLM
tries the fallback deployment (FALLBACK_SUCCESS of the time it works): the deployment counters
show the failure and the fallback, the proxy answers 200 and the event is not an error. When the
fallback also fails (or there is none) the proxy answers 500/429 and the event is an error.
Spend uses the provider's price per token; Ollama costs 0. GET /health is deliberately absent
(real LiteLLM makes paid calls there): use /health/liveliness and /health/readiness.

As a real 1.108 proxy exposes it (tests/exporters runs one): /metrics answers 307 to /metrics/;
with a master_key, /metrics/ needs it as a bearer token and a scrape without it is a 401 that the
proxy counts as a failed request with route="/metrics" and requested_model=""; deployment metrics
carry api_base="" (use api_provider); readiness without a database says {"status": "healthy",
"db": "Not connected"}; also litellm_requests_metric_total, litellm_llm_api_failed_requests_metric_total,
litellm_request_queue_time_seconds, litellm_overhead_latency_metric, litellm_in_flight_requests and
litellm_total_users (the last two exist before the first request).
"""

from __future__ import annotations

import random

from probes.synthetic.model import Event, LogNormal, Route, TrafficConfig, labels
from probes.synthetic.service import Reply, Request, Service, json_reply

LATENCY_BUCKETS = (.005, .01, .025, .05, .1, .25, .5, 1, 2, 5, 10, 30, 60, 120, 300, 420, 600)
OLLAMA_BASE = ""  # 1.108 exports api_base="" even when the deployment sets one
# requested_model -> (litellm_model_name, api_base, api_provider, fallback requested model or "")
DEPLOYMENTS = {
    "llama3.1": ("ollama/llama3.1:8b", OLLAMA_BASE, "ollama", "gpt-4o-mini"),
    "gpt-4o-mini": ("openai/gpt-4o-mini", "", "openai", ""),
    "claude-sonnet": ("anthropic/claude-3-5-sonnet-20241022", "", "anthropic", "gpt-4o-mini"),
}
PRICES = {"llama3.1": (0.0, 0.0), "gpt-4o-mini": (0.15, 0.60), "claude-sonnet": (3.0, 15.0)}
FALLBACK_SUCCESS = 0.5
TEAM, USER = "ml-platform", "default_user_id"


def _route(model: str, weight: float, median: float, err: float, tin: float, tout: float) -> Route:
    name, base, provider, _ = DEPLOYMENTS[model]
    local = provider == "ollama"
    return Route(labels(requested_model=model), weight, LogNormal(median, 0.45), err, LogNormal(tin, 0.6),
                 LogNormal(tout, 0.5), *PRICES[model], model=model, backend="local" if local else "cloud")


DEFAULT_TRAFFIC = TrafficConfig(rate=4.0, routes=(
    _route("llama3.1", 0.55, 0.9, 0.03, 500, 200),
    _route("gpt-4o-mini", 0.25, 1.2, 0.02, 700, 250),
    _route("claude-sonnet", 0.20, 2.0, 0.04, 1200, 450),
))


class LiteLLM(Service):
    name = "litellm"
    components = ("proxy", "db")
    health_path = "/health/readiness"
    default_traffic = DEFAULT_TRAFFIC
    default_gauges = {"remaining_team_budget": 412.5}

    def setup(self) -> None:
        r = self.registry
        self.total = r.counter("litellm_proxy_total_requests_metric_total", "Total number of requests made to the proxy server - track number of client side requests",
                               ["requested_model", "status_code", "team", "user", "route", "model_id"])
        self.failed = r.counter("litellm_proxy_failed_requests_metric_total", "Total number of failed responses from proxy - the client did not get a success response from litellm proxy",
                                ["requested_model", "exception_status", "exception_class"])
        self.latency = r.histogram("litellm_request_total_latency_metric", "Total latency (seconds) for a request to LiteLLM",
                                   ["model", "requested_model", "team"], LATENCY_BUCKETS)
        self.api_latency = r.histogram("litellm_llm_api_latency_metric", "Total latency (seconds) for a models LLM API call",
                                       ["model", "requested_model"], LATENCY_BUCKETS)
        self.ttft = r.histogram("litellm_llm_api_time_to_first_token_metric", "Time to first token for a models LLM API call",
                                ["model"], LATENCY_BUCKETS)
        self.spend = r.counter("litellm_spend_metric_total", "Total spend on LLM requests",
                               ["model", "api_provider", "team", "user"])
        tok = ["model", "requested_model"]
        self.tokens_total = r.counter("litellm_total_tokens_metric_total", "Total number of input + output tokens from LLM requests", tok)
        self.tokens_in = r.counter("litellm_input_tokens_metric_total", "Total number of input tokens from LLM requests", tok)
        self.tokens_out = r.counter("litellm_output_tokens_metric_total", "Total number of output tokens from LLM requests", tok)
        dep = ["litellm_model_name", "api_base", "api_provider", "requested_model"]
        self.dep_total = r.counter("litellm_deployment_total_requests_total", "LLM Deployment Analytics - Total number of LLM API calls via litellm - success + failure", dep)
        self.dep_ok = r.counter("litellm_deployment_success_responses_total", "LLM Deployment Analytics - Total number of successful LLM API calls via litellm", dep)
        self.dep_fail = r.counter("litellm_deployment_failure_responses_total", "LLM Deployment Analytics - Total number of failed LLM API calls for a specific LLM deploymeny. exception_status is the status of the exception from the llm api", dep)
        self.dep_state = r.gauge("litellm_deployment_state", "LLM Deployment Analytics - The state of the deployment: 0 = healthy, 1 = partial outage, 2 = complete outage",
                                 ["litellm_model_name", "api_base", "api_provider"])
        fb = ["requested_model", "fallback_model"]
        self.fb_ok = r.counter("litellm_deployment_successful_fallbacks_total", "LLM Deployment Analytics - Number of successful fallback requests from primary model -> fallback model", fb)
        self.fb_fail = r.counter("litellm_deployment_failed_fallbacks_total", "LLM Deployment Analytics - Number of failed fallback requests from primary model -> fallback model", fb)
        self.budget = r.gauge("litellm_remaining_team_budget_metric", "Remaining budget for team", ["team"])
        self.requests = r.counter("litellm_requests_metric_total", "Deprecated - use litellm_proxy_total_requests_metric. "
                                  "Total number of LLM calls to litellm - track total per API Key, team, user",
                                  ["model", "requested_model", "api_provider"])
        self.api_failed = r.counter("litellm_llm_api_failed_requests_metric_total",
                                    "deprecated - use litellm_proxy_failed_requests_metric", ["model"])
        self.queue_time = r.histogram("litellm_request_queue_time_seconds", "Time spent in the request queue",
                                      ["model", "requested_model"], LATENCY_BUCKETS)
        self.overhead = r.histogram("litellm_overhead_latency_metric", "Latency overhead (seconds) LiteLLM processing adds",
                                    ["model_group"], LATENCY_BUCKETS)
        self.in_flight = r.gauge("litellm_in_flight_requests", "Number of requests in flight")
        self.total_users = r.gauge("litellm_total_users", "Total number of users")
        self.master_key: str | None = None  # set it to require a bearer token on /metrics/
        for model, (name, base, provider, _) in DEPLOYMENTS.items():
            self.dep_state.set({"litellm_model_name": name, "api_base": base, "api_provider": provider}, 0)

    def decorate(self, route: Route, error: bool, rng: random.Random) -> dict[str, str]:
        return {"ttft_share": repr(0.1 + 0.2 * rng.random()), "primary_failed": "1" if error else "0",
                "fallback_ok": "1" if rng.random() < FALLBACK_SUCCESS else "0"}

    def _deployment(self, model: str, ok: bool) -> None:
        name, base, provider, _ = DEPLOYMENTS[model]
        lab = {"litellm_model_name": name, "api_base": base, "api_provider": provider, "requested_model": model}
        self.dep_total.inc(lab)
        (self.dep_ok if ok else self.dep_fail).inc(lab)

    def outcome(self, route: Route, error: bool, extra: dict[str, str]) -> tuple[bool, float, float]:
        model = route.model
        fallback = DEPLOYMENTS[model][3]
        if error and fallback and extra["fallback_ok"] == "1":
            extra["served_model"] = fallback
            return False, *PRICES[fallback]
        extra["served_model"] = model
        return error, route.price_in_per_mtok, route.price_out_per_mtok

    def observe(self, ev: Event, route: Route, rng: random.Random) -> None:
        model = ev.labels["requested_model"]
        served = ev.extra["served_model"]
        fallback = DEPLOYMENTS[model][3]
        if ev.extra["primary_failed"] == "1":  # the primary call failed; maybe the fallback rescued it
            self._deployment(model, False)
            if fallback:
                fb = {"requested_model": model, "fallback_model": fallback}
                rescued = ev.extra["fallback_ok"] == "1"
                (self.fb_ok if rescued else self.fb_fail).inc(fb)
                self._deployment(fallback, rescued)
        else:
            self._deployment(model, True)
        _, _, provider, _ = DEPLOYMENTS[served]
        deployment_model = DEPLOYMENTS[served][0].split("/", 1)[1]
        self.queue_time.observe({"model": deployment_model, "requested_model": model}, 0.002)
        self.overhead.observe([model], 0.004)
        if ev.error:
            self.api_failed.inc([deployment_model])
            self.total.inc({"requested_model": model, "status_code": "500", "team": TEAM, "user": USER,
                            "route": "/chat/completions", "model_id": ""})
            self.failed.inc({"requested_model": model, "exception_status": "500",
                             "exception_class": "InternalServerError"})
            self.log(ev.t, "error", f"litellm.proxy.proxy_server.chat_completion(): Exception occured - "
                                    f"litellm.InternalServerError: {provider}Exception - upstream error. "
                                    f"Received Model Group={model}")
            return
        self.total.inc({"requested_model": model, "status_code": "200", "team": TEAM, "user": USER,
                        "route": "/chat/completions", "model_id": f"{served}-deployment"})
        self.latency.observe({"model": deployment_model, "requested_model": model, "team": TEAM}, ev.latency_s)
        self.api_latency.observe({"model": deployment_model, "requested_model": model}, ev.latency_s * 0.96)
        self.ttft.observe([deployment_model], ev.latency_s * float(ev.extra["ttft_share"]))
        self.spend.inc({"model": deployment_model, "api_provider": provider, "team": TEAM, "user": USER}, ev.cost_usd)
        self.requests.inc({"model": deployment_model, "requested_model": model, "api_provider": provider})
        tok = {"model": deployment_model, "requested_model": model}
        self.tokens_in.inc(tok, ev.tokens_in)
        self.tokens_out.inc(tok, ev.tokens_out)
        self.tokens_total.inc(tok, ev.tokens_in + ev.tokens_out)
        self.log(ev.t, "info", f'INFO:     127.0.0.1:{rng.randrange(30000, 60000)} - "POST /chat/completions '
                                f'HTTP/1.1" 200 OK')

    def refresh_gauges(self, t: float, g: dict[str, float]) -> None:  # type: ignore[override]
        self.budget.set([TEAM], g["remaining_team_budget"])
        self.in_flight.set(None, 1)  # the scrape itself, as the real proxy counts it
        self.total_users.set(None, 0)

    def handle(self, req: Request) -> Reply:
        if req.method in ("GET", "HEAD") and req.path == "/metrics":
            return Reply(307, b"", "text/plain", (("Location", "/metrics/"),))
        if req.method in ("GET", "HEAD") and req.path == "/metrics/":
            if self.master_key and req.headers.get("authorization") != f"Bearer {self.master_key}":
                with self.lock:
                    self.total.inc({"requested_model": "", "status_code": "None", "team": "None", "user": "None",
                                    "route": "/metrics", "model_id": "None"})
                    self.failed.inc({"requested_model": "", "exception_status": "None", "exception_class": "Exception"})
                return json_reply("Unauthorized access to metrics endpoint", 401)
            return self.metrics_reply()
        return super().handle(req)

    def liveliness(self, req: Request) -> Reply:
        return json_reply("I'm alive!")

    def health(self) -> Reply:
        if not self.component_ok("proxy"):
            return json_reply({"detail": "Service Unhealthy (proxy not initialized)"}, 503)
        if not self.component_ok("db"):  # a database configured and unreachable
            return json_reply({"status": "unhealthy", "db": "disconnected"}, 503)
        return json_reply({"status": "healthy", "db": "Not connected"})  # 1.108.7 without a database

    def health_paths(self) -> tuple[str, ...]:
        return ("/health/readiness", "/health/liveliness")

    def endpoints(self) -> dict:
        return {("GET", "/health/liveliness"): self.liveliness}
