"""vLLM V1 (reference section 1): vllm:* metrics with model_name and engine labels.

Every request observes e2e latency, TTFT (a share of e2e), and tokens_out-1 inter-token latencies.
Success -> vllm:request_success_total{finished_reason=stop|length}; an error is an HTTP 500
(http_requests_total{status="5xx"}) and no request_success. No *_created series (as recorded).
Option legacy_names=True exposes vllm:gpu_cache_usage_perc and vllm:time_per_output_token_seconds
instead of vllm:kv_cache_usage_perc and vllm:inter_token_latency_seconds.
"""

from __future__ import annotations

import random
import time

from probes.synthetic.exposition import PYTHON_NO_CREATED
from probes.synthetic.model import Event, LogNormal, Route, TrafficConfig, labels
from probes.synthetic.service import Reply, Request, Service, json_reply

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
TTFT_BUCKETS = (.001, .005, .01, .02, .04, .06, .08, .1, .25, .5, .75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560)
ITL_BUCKETS = (.01, .025, .05, .075, .1, .15, .2, .3, .4, .5, .75, 1, 2.5, 5, 7.5, 10, 20, 40, 80)
E2E_BUCKETS = (.3, .5, .8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680)
ITER_BUCKETS = (1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
DEFAULT_TRAFFIC = TrafficConfig(rate=5.0, routes=(
    Route(labels(handler="/v1/chat/completions", method="POST"), 0.8, LogNormal(2.5, 0.5), 0.01,
          LogNormal(800, 0.7), LogNormal(220, 0.6), model=MODEL, backend="local"),
    Route(labels(handler="/v1/completions", method="POST"), 0.2, LogNormal(1.6, 0.5), 0.01,
          LogNormal(400, 0.7), LogNormal(150, 0.6), model=MODEL, backend="local"),
))


class Vllm(Service):
    name = "vllm"
    dialect = PYTHON_NO_CREATED
    components = ("engine",)
    default_traffic = DEFAULT_TRAFFIC
    default_gauges = {"num_requests_running": 12, "num_requests_waiting": 2, "kv_cache_usage_perc": 0.42}
    gauge_limits = {"kv_cache_usage_perc": 1.0}

    def setup(self) -> None:
        r = self.registry
        legacy = bool(self.options.get("legacy_names", False))
        L = ["model_name", "engine"]
        self.running = r.gauge("vllm:num_requests_running", "Number of requests in model execution batches.", L)
        self.waiting = r.gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", L)
        kv = "vllm:gpu_cache_usage_perc" if legacy else "vllm:kv_cache_usage_perc"
        self.kv = r.gauge(kv, "KV-cache usage. 1 means 100 percent usage.", L)
        self.prompt = r.counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.", L)
        self.gen = r.counter("vllm:generation_tokens_total", "Number of generation tokens processed.", L)
        self.success = r.counter("vllm:request_success_total", "Count of successfully processed requests.",
                                 L + ["finished_reason"])
        self.preempt = r.counter("vllm:num_preemptions_total", "Cumulative number of preemption from the engine.", L)
        self.pc_queries = r.counter("vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of tokens.", L)
        self.pc_hits = r.counter("vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of tokens.", L)
        self.iter_tokens = r.histogram("vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.",
                                       L, ITER_BUCKETS)
        self.ttft = r.histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
                                L, TTFT_BUCKETS)
        itl = "vllm:time_per_output_token_seconds" if legacy else "vllm:inter_token_latency_seconds"
        self.itl = r.histogram(itl, "Histogram of inter-token latency in seconds.", L, ITL_BUCKETS)
        self.e2e = r.histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.",
                               L, E2E_BUCKETS)
        self.phases = {p: r.histogram(f"vllm:request_{p}_time_seconds", f"Histogram of time spent in {p.upper()} "
                                      f"phase for request.", L, E2E_BUCKETS)
                       for p in ("queue", "inference", "prefill", "decode")}
        self.http = r.counter("http_requests_total", "Total number of requests by method, status and handler.",
                              ["handler", "method", "status"])
        self.L = {"model_name": MODEL, "engine": "0"}

    def decorate(self, route: Route, error: bool, rng: random.Random) -> dict[str, str]:
        return {"finished_reason": "" if error else ("stop" if rng.random() < 0.85 else "length"),
                "ttft_share": repr(0.04 + 0.12 * rng.random())}

    def observe(self, ev: Event, route: Route, rng: random.Random) -> None:
        L = self.L
        self.http.inc({**ev.labels, "status": "5xx" if ev.error else "2xx"})
        if ev.error:
            self.log(ev.t, "error", f'ERROR {time.strftime("%m-%d %H:%M:%S", time.localtime(ev.t))} '
                                     f'[serving_chat.py:1034] Error in chat completion stream generator.')
            self.log(ev.t, "info", f'INFO:     127.0.0.1:{rng.randrange(30000, 60000)} - "{ev.labels["method"]} '
                                    f'{ev.labels["handler"]} HTTP/1.1" 500 Internal Server Error')
            return
        ttft = ev.latency_s * float(ev.extra["ttft_share"])
        queue = ttft * 0.2
        self.prompt.inc(L, ev.tokens_in)
        self.gen.inc(L, ev.tokens_out)
        self.success.inc({**L, "finished_reason": ev.extra["finished_reason"]})
        self.ttft.observe(L, ttft)
        if ev.tokens_out > 1:
            self.itl.observe(L, (ev.latency_s - ttft) / (ev.tokens_out - 1), ev.tokens_out - 1)
        self.e2e.observe(L, ev.latency_s)
        self.phases["queue"].observe(L, queue)
        self.phases["inference"].observe(L, ev.latency_s - queue)
        self.phases["prefill"].observe(L, ttft - queue)
        self.phases["decode"].observe(L, ev.latency_s - ttft)
        self.iter_tokens.observe(L, ev.tokens_in)
        self.pc_queries.inc(L, ev.tokens_in)
        self.pc_hits.inc(L, int(ev.tokens_in * 0.3))
        self.log(ev.t, "info", f'INFO:     127.0.0.1:{rng.randrange(30000, 60000)} - "{ev.labels["method"]} '
                                f'{ev.labels["handler"]} HTTP/1.1" 200 OK')

    def refresh_gauges(self, t: float, g: dict[str, float]) -> None:  # type: ignore[override]
        self.running.set(self.L, g["num_requests_running"])
        self.waiting.set(self.L, g["num_requests_waiting"])
        self.kv.set(self.L, g["kv_cache_usage_perc"])
        self.preempt.inc(self.L, 0)

    def health(self) -> Reply:
        return Reply(200 if self.healthy else 503, b"")

    def models(self, req: Request) -> Reply:
        return json_reply({"object": "list", "data": [{
            "id": MODEL, "object": "model", "created": int(time.time()), "owned_by": "vllm", "root": MODEL,
            "parent": None, "max_model_len": 131072, "permission": []}]})

    def endpoints(self) -> dict:
        return {("GET", "/v1/models"): self.models}
