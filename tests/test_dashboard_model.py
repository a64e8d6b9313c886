"""The dashboard's arithmetic, without I/O: how systems combine into the stat row, top N with
"others", bar shares, GPU rows joined from five signals, step sizing."""

from __future__ import annotations

import pytest

from probes.dashboard_fetch import gpu_rows, headline_stats, routing, step_for
from probes.headline import fronted_engines
from probes.dashboard_model import Line, bars, combine, front_door, level_for, top_n, weighted_ratio
from probes.signals import Part
from tests.dashboard_data import sv

GW = ("gw", "Gateway", "gw")
GW2 = ("gw2", "Gateway 2", "gw2")
EN = ("vllm", "vLLM", "vllm")
KINDS = {("gw", "gw"): "gateway", ("gw2", "gw2"): "gateway", ("vllm", "vllm"): "engine"}


BEHIND = frozenset({("vllm", "vllm")})


def test_front_door_counts_each_request_once():
    vals = [sv("request_rate", *GW, 5.0, "req/s"), sv("request_rate", *EN, 4.0, "req/s")]
    # an engine nobody fronts counts (issue 13: Code LLM API's 4 req/s were missing)
    assert [v.system for v in front_door(vals, KINDS)] == ["gw", "vllm"]
    # an engine behind the gateway does not: the gateway already counted those requests
    assert [v.system for v in front_door(vals, KINDS, BEHIND)] == ["gw"]
    assert [v.system for v in front_door(vals[1:], KINDS, BEHIND)] == ["vllm"]
    # a signal the gateway does not export (tokens) comes from the engine behind it
    tok = [sv("tokens_out_rate", *GW, None, "tok/s", state="not_exported"), sv("tokens_out_rate", *EN, 1236.0, "tok/s")]
    assert [v.system for v in front_door(tok, KINDS, BEHIND)] == ["vllm"]


def test_fronted_engines_from_config_or_matching_models():
    gw = sv("request_rate", *GW, 5.0, "req/s", breakdown=[({"model": "ollama/llama3:latest"}, 5.0)])
    en = sv("tokens_out_rate", *EN, 9.0, "tok/s", breakdown=[({"model_name": "Llama3"}, 9.0)])
    other = sv("tokens_out_rate", *EN, 9.0, "tok/s", breakdown=[({"model_name": "qwen"}, 9.0)])
    assert fronted_engines([gw, en], KINDS) == BEHIND
    assert fronted_engines([gw, other], KINDS) == frozenset()
    assert fronted_engines([gw, other], KINDS, ["vllm"]) == BEHIND


def test_sum_and_worst_and_states():
    a, b = sv("request_rate", *GW, 5.0, "req/s"), sv("request_rate", *GW2, 2.5, "req/s")
    assert combine([a, b], "sum") == (7.5, "ok", "2 systems")
    p1, p2 = sv("latency_p95", *GW, 1.2, "s"), sv("latency_p95", *GW2, 3.4, "s")
    assert combine([p1, p2], "max") == (3.4, "ok", "Gateway 2")
    missing = sv("latency_p95", *GW, None, "s", state="no_traffic", reason="idle")
    assert combine([missing], "max") == (None, "no_traffic", "idle")
    assert combine([], "sum")[1] == "not_exported"


def test_error_ratio_is_weighted_by_traffic():
    e1, e2 = sv("error_rate", *GW, 0.10, "ratio"), sv("error_rate", *GW2, 0.0, "ratio")
    value, state, _ = weighted_ratio([e1, e2], {("gw", "gw"): 1.0, ("gw2", "gw2"): 9.0})
    assert state == "ok" and value == pytest.approx(0.01)


def test_headline_stats_text_and_levels():
    by = {"request_rate": [sv("request_rate", *GW, 12.5, "req/s"), sv("request_rate", *EN, 99.0, "req/s")],
          "error_rate": [sv("error_rate", *GW, 0.06, "ratio")],
          "latency_p95": [sv("latency_p95", *GW, 2.5, "s")],
          "cost_rate": [sv("cost_rate", *GW, 1.5, "$/h")], "spend_today": [sv("spend_today", *GW, 7.0, "$")]}
    stats = {s.key: s for s in headline_stats(by, KINDS, BEHIND)}
    assert stats["req"].text == "12.5 req/s"  # the engine behind the gateway is not added
    assert stats["req"].detail == "Gateway"     # and the stat says what it covers
    both = {s.key: s for s in headline_stats(by, KINDS)}
    assert both["req"].text == "112 req/s" and both["req"].detail == "Gateway + vLLM"
    assert stats["err"].text == "6.00 %" and stats["err"].level == "critical"
    assert stats["p95"].level == "warning"
    assert stats["cost"].detail == "today $7.00; Gateway"
    assert stats["tok"].state == "not_exported"
    assert level_for(None, (1, 2)) == "none" and level_for(0.5, (1, 2)) == "ok"


def test_top_n_sums_the_rest_into_others():
    lines = [Line(f"s{i}", ((0.0, float(i)), (60.0, float(i)))) for i in range(1, 8)]
    out = top_n(lines, 3)
    assert [ln.name for ln in out] == ["s7", "s6", "s5", "others (4)"]
    assert out[-1].points == ((0.0, 10.0), (60.0, 10.0))
    assert len(top_n(lines, 3, others=False)) == 3


def test_bar_shares_and_routing_prefix():
    parts = (Part((("model", "a"),), 3.0), Part((("model", "b"),), 1.0), Part((("model", "c"),), None))
    rows = bars(parts, "req/s")
    assert [(b.label, b.share) for b in rows] == [("a", 0.75), ("b", 0.25)]



def test_routing_split_is_stack_wide_and_by_provider_never_by_route():
    # 4 req/s at 75 % local and 1 req/s at 0 % local: the stack is 60 % local (issue 13, item 7)
    by = {"request_rate": [sv("request_rate", *GW, 4.0, "req/s", breakdown=[({"route": "/api/ai/chat"}, 3.9),
                                                                            ({"route": "/metrics"}, 0.1)]),
                           sv("request_rate", *GW2, 1.0, "req/s")],
          "local_share": [sv("local_share", *GW, 0.75, "ratio", breakdown=[({"provider": "ollama"}, 0.75),
                                                                          ({"provider": "openai"}, 0.25)]),
                          sv("local_share", *GW2, 0.0, "ratio", breakdown=[({"backend": "cloud"}, 1.0)])]}
    stack, mine, rows = routing(by, KINDS)
    assert stack.value == pytest.approx(0.6) and stack.title == "stack-wide"
    assert [(v.title, v.value) for v in mine] == [("Gateway", 0.75), ("Gateway 2", 0.0)]
    assert [(b.label, b.value) for b in rows] == [("Gateway: ollama", 3.0), ("Gateway: openai", 1.0),
                                                  ("Gateway 2: cloud", 1.0)]
    assert [b.share for b in rows] == [0.6, 0.2, 0.2]
    assert not any("/" in b.label for b in rows)


def test_gpu_rows_join_five_signals_per_gpu():
    g0, g1 = {"gpu": "0"}, {"gpu": "1"}
    d = ("dcgm", "DCGM", "dcgm")
    by = {"gpu_util": [sv("gpu_util", *d, 0.5, "ratio", breakdown=[(g1, 0.2), (g0, 0.5)])],
          "gpu_mem_used": [sv("gpu_mem_used", *d, 1, "bytes", breakdown=[(g0, 10.0), (g1, 20.0)])],
          "gpu_temp": [sv("gpu_temp", *d, 60, "C", breakdown=[(g0, 60.0)])]}
    rows = gpu_rows(by)
    assert [(r.gpu, r.util, r.mem_used, r.temp) for r in rows] == [("0", 0.5, 10.0, 60.0), ("1", 0.2, 20.0, None)]


def test_step_is_sized_to_the_width_but_never_below_the_scrape():
    assert step_for(3600, 120, 15) == 30
    assert step_for(300, 120, 15) == 15


def test_now_window_is_like_rate_interval_and_at_least_a_minute():
    from probes.promql import now_window

    assert now_window(2.0) == 60.0      # was 8 s: low rates jittered by 17 % (issue 13, item 9)
    assert now_window(15.0) == 60.0 and now_window(30.0) == 120.0
