"""The signal catalogue: every number llmwatch shows, with its unit and what it means.

Why a catalogue separate from the profiles: a profile says *how* one system feeds a signal; the
catalogue says *what* the signal is, once, so a p95 from vLLM and a p95 from LiteLLM carry the
same unit, title and traffic rule, and a view can lay signals out without knowing any system.
"""

from __future__ import annotations

from dataclasses import dataclass

SERVING = ("gateway", "engine", "generic")
KINDS = ("gateway", "engine", "gpu", "host", "generic")
METHODS = ("counter", "gauge", "histogram", "summary", "average", "ratio", "priced")


@dataclass(frozen=True)
class SignalDef:
    """One catalogue entry.

    needs_traffic: the value is undefined without requests (a quantile or ratio over zero
    rates is NaN), so an empty/NaN answer while the system's traffic is 0 means "no traffic".
    core_for: profile kinds for which an absent signal is reported as "not exported" (a gap the
    user should see); elsewhere an absent signal is simply not listed.
    """

    name: str
    title: str
    unit: str
    method: str = "gauge"
    needs_traffic: bool = False
    core_for: tuple[str, ...] = ()
    help: str = ""


_TRAFFIC = ("gateway", "engine", "generic")
_LLM = ("gateway", "engine")

_DEFS = [
    SignalDef("request_rate", "request rate", "req/s", "counter", False, _TRAFFIC, "requests per second"),
    SignalDef("latency_p50", "latency p50", "s", "histogram", True, _TRAFFIC, "median request latency"),
    SignalDef("latency_p95", "latency p95", "s", "histogram", True, _TRAFFIC, "95th percentile latency"),
    SignalDef("latency_p99", "latency p99", "s", "histogram", True, _TRAFFIC, "99th percentile latency"),
    SignalDef("latency_avg", "latency avg", "s", "average", True, (), "mean latency from _sum/_count"),
    SignalDef("error_rate", "error rate", "ratio", "ratio", True, _TRAFFIC, "share of requests that failed"),
    SignalDef("cost_rate", "cost rate", "$/h", "counter", False, _LLM, "spend per hour"),
    SignalDef("spend_today", "spend today", "$", "counter", False, _LLM, "spend since local midnight"),
    SignalDef("local_share", "local share", "ratio", "ratio", True, ("gateway",),
              "share of requests served by local models"),
    SignalDef("savings_rate", "local savings", "$/h", "priced", False, ("gateway",),
              "what local traffic would have cost at routing.cloud_reference, per hour"),
    SignalDef("tokens_in_rate", "tokens in", "tok/s", "counter", False, _LLM, "input (prompt) tokens per second"),
    SignalDef("tokens_out_rate", "tokens out", "tok/s", "counter", False, _LLM,
              "output (generated) tokens per second"),
    SignalDef("ttft_p95", "TTFT p95", "s", "histogram", True, _LLM, "95th percentile time to first token"),
    SignalDef("queue_length", "queue", "req", "gauge", False, ("engine",), "requests waiting"),
    SignalDef("in_flight", "in flight", "req", "gauge", False, (), "requests being served now"),
    SignalDef("kv_cache_usage", "KV cache", "ratio", "gauge", False, ("engine",), "KV cache in use"),
    SignalDef("gpu_util", "GPU util", "ratio", "gauge", False, ("gpu",), "GPU utilisation"),
    SignalDef("gpu_mem_used", "GPU mem used", "bytes", "gauge", False, ("gpu",), "GPU memory used"),
    SignalDef("gpu_mem_total", "GPU mem total", "bytes", "gauge", False, ("gpu",), "GPU memory total"),
    SignalDef("gpu_temp", "GPU temp", "C", "gauge", False, ("gpu",), "hottest GPU temperature"),
    SignalDef("gpu_power", "GPU power", "W", "gauge", False, ("gpu",), "GPU power draw"),
    SignalDef("host_mem_used", "host mem used", "bytes", "gauge", False, (), "host memory in use"),
    SignalDef("host_mem_total", "host mem total", "bytes", "gauge", False, (), "host memory total"),
    SignalDef("process_mem", "process mem", "bytes", "gauge", False, (), "resident memory of the job's process"),
    SignalDef("container_mem", "container mem", "bytes", "gauge", False, (), "container working set"),
    SignalDef("targets_up", "targets up", "count", "gauge", False, (), "scrape targets up"),
    SignalDef("targets_total", "targets", "count", "gauge", False, (), "scrape targets"),
    SignalDef("fallback_rate", "fallbacks", "/s", "counter", False, (), "successful fallbacks per second"),
    SignalDef("deployments_unhealthy", "deployments unhealthy", "count", "gauge", False, (),
              "deployments in partial or full outage"),
]

SIGNALS: dict[str, SignalDef] = {d.name: d for d in _DEFS}


def signal_def(name: str, unit: str | None = None, title: str | None = None) -> SignalDef:
    """The catalogue entry, or one made for a profile's own signal (which must give a unit)."""
    if name in SIGNALS:
        return SIGNALS[name]
    return SignalDef(name, title or name.replace("_", " "), unit or "")
