"""Fixed dashboard data for snapshot tests: a gateway, a vLLM and a DCGM exporter at one
instant, built through the same pure functions the real polls use (headline_stats, gpu_rows...).
"""

from __future__ import annotations

from datetime import datetime, timezone

from probes.dashboard_fetch import (
    Instant, Meta, Ranges, cost_breakdown, cost_stats, gpu_rows, headline_stats, memory_rows, routing, serving_rows,
)
from probes.dashboard_model import Chart, Line, Stat
from probes.detect import Detected, Detection
from probes.profiles import builtin_profiles
from probes.promtypes import PromAlert
from probes.signals import Part, SignalValue

NOW = 1_763_800_000.0  # 2025-11-22 08:26:40 UTC


def _profile(name):
    return next(p for p in builtin_profiles() if p.name == name)


def sv(signal, system, title, job, value, unit, state="ok", breakdown=(), reason=""):
    return SignalValue(signal, system, title, job, state, value, unit, "gauge", f"q_{signal}", reason,
                       tuple(Part(tuple(sorted(b.items())), v) for b, v in breakdown), ())


def meta() -> Meta:
    systems = (Detected(_profile("hybrid-ai-stack"), "api-gateway", ("api_gateway_requests_total",), None, 5.0),
               Detected(_profile("vllm"), "vllm", ("vllm:num_requests_running",), None, 5.0),
               Detected(_profile("dcgm"), "dcgm", ("DCGM_FI_DEV_GPU_UTIL",), None, 5.0))
    det = Detection(systems, jobs=("api-gateway", "vllm", "dcgm"), scrape_intervals={"api-gateway": 5.0})
    return Meta(det, "2.42.0", ("Hybrid AI Stack (api-gateway)", "vLLM (vllm)", "DCGM exporter (dcgm)"))


def values() -> list[SignalValue]:
    gw = ("hybrid-ai-stack", "Hybrid AI Stack", "api-gateway")
    vl = ("vllm", "vLLM", "vllm")
    gpu = ("dcgm", "DCGM exporter", "dcgm")
    g0 = {"gpu": "0", "modelName": "NVIDIA H100 80GB HBM3"}
    g1 = {"gpu": "1", "modelName": "NVIDIA H100 80GB HBM3"}
    return [
        sv("request_rate", *gw, 12.5, "req/s", breakdown=[({"backend": "local", "model": "llama3"}, 9.0),
                                                          ({"backend": "cloud", "model": "gpt-4o"}, 3.5)]),
        sv("error_rate", *gw, 0.024, "ratio"),
        sv("latency_p95", *gw, 1.85, "s"),
        sv("cost_rate", *gw, 4.2, "$/h", breakdown=[({"model": "gpt-4o"}, 4.2), ({"model": "llama3"}, 0.0)]),
        sv("spend_today", *gw, 31.5, "$"),
        sv("local_share", *gw, 0.72, "ratio", breakdown=[({"backend": "local", "model": "llama3"}, 0.72),
                                                         ({"backend": "cloud", "model": "gpt-4o"}, 0.28)]),
        sv("tokens_in_rate", *gw, None, "tok/s", state="not_exported", reason="counts dollars, not tokens"),
        sv("request_rate", *vl, 9.0, "req/s"),
        sv("latency_p95", *vl, 0.9, "s"),
        sv("ttft_p95", *vl, 0.21, "s"),
        sv("queue_length", *vl, 3.0, "req"),
        sv("kv_cache_usage", *vl, 0.42, "ratio"),
        sv("in_flight", *vl, 12.0, "req"),
        sv("gpu_util", *gpu, 0.62, "ratio", breakdown=[(g0, 0.62), (g1, 0.24)]),
        sv("gpu_mem_used", *gpu, None, "bytes", breakdown=[(g0, 72000 * 2**20), (g1, 18000 * 2**20)]),
        sv("gpu_mem_total", *gpu, None, "bytes", breakdown=[(g0, 81559 * 2**20), (g1, 81559 * 2**20)]),
        sv("gpu_temp", *gpu, 64.0, "C", breakdown=[(g0, 64.0), (g1, 48.0)]),
        sv("gpu_power", *gpu, 352.4, "W", breakdown=[(g0, 352.4), (g1, 181.7)]),
    ]


def instant() -> Instant:
    vals = values()
    m = meta()
    kinds = {(d.name, d.job): d.profile.kind for d in m.detection.systems}
    by: dict[str, list[SignalValue]] = {}
    for v in vals:
        by.setdefault(v.signal, []).append(v)
    fronted = frozenset({("vllm", "vllm")})  # the vLLM serves behind the gateway ([traffic] behind_gateway)
    stats = headline_stats(by, kinds, fronted) + (
        Stat("alerts", "alerts", "count", 1, "ok", "1", "critical", "1 pending"),
        Stat("targets", "targets up", "count", 3, "ok", "3/3", "ok"))
    alerts = (
        PromAlert({"alertname": "GatewayHighErrorRate", "severity": "critical", "job": "api-gateway"},
                  {"summary": "Error rate above 5% on api-gateway"}, "firing",
                  datetime.fromtimestamp(NOW - 420, timezone.utc), 0.061),
        PromAlert({"alertname": "GPUMemoryHigh", "severity": "warning", "gpu": "0"},
                  {"summary": "GPU 0 memory above 85% [bold]x[/bold] \x1b[31m"}, "pending",
                  datetime.fromtimestamp(NOW - 65, timezone.utc), 0.88),
    )
    stack, shares, split = routing(by, kinds, fronted)
    return Instant(NOW, tuple(vals), stats, cost_stats(by, kinds, fronted), cost_breakdown(by, kinds, fronted),
                   split, stack, gpu_rows(by), memory_rows(by),
                   serving_rows(by, kinds), alerts, "", 3, 3, "", local_shares=shares, window=60.0)


def _wave(base, amp, n=60, step=60.0, phase=0):
    import math
    return tuple((NOW - (n - 1 - i) * step, base + amp * math.sin((i + phase) / 6)) for i in range(n))


def ranges() -> Ranges:
    start, end = NOW - 3600, NOW
    latency = Chart("latency", "Latency", "s", (
        Line("Hybrid AI Stack p50", _wave(0.6, 0.1), (), "hybrid-ai-stack", "api-gateway"),
        Line("Hybrid AI Stack p95", _wave(1.8, 0.4), (), "hybrid-ai-stack", "api-gateway"),
        Line("vLLM p95", _wave(0.9, 0.2, phase=3), (), "vllm", "vllm")), "ok", "", start, end, 60.0)
    traffic = Chart("traffic", "Requests", "req/s", (
        Line("Hybrid AI Stack local, llama3", _wave(9, 2), (("backend", "local"), ("model", "llama3")),
             "hybrid-ai-stack", "api-gateway"),
        Line("Hybrid AI Stack cloud, gpt-4o", _wave(3.5, 1, phase=5), (("backend", "cloud"), ("model", "gpt-4o")),
             "hybrid-ai-stack", "api-gateway")), "ok", "", start, end, 60.0)
    errors = Chart("errors", "Error rate", "ratio", (), "no_traffic", "no requests in the range", start, end, 60.0)
    trends = {"req": tuple(v for _, v in _wave(12, 2))[-24:], "p95": tuple(v for _, v in _wave(1.8, 0.4))[-24:]}
    return Ranges(NOW, 3600.0, 60.0, {"latency": latency, "traffic": traffic, "errors": errors}, trends, 4.0, 9)
