"""Every signal llmwatch shows for the five real apps, against the traffic's truth and Prometheus.

For each app and signal: llmwatch's value (probes.signals.evaluate, what the dashboard, check
and doctor show) must equal Prometheus' own answer to the same PromQL at the same instant, and
must hold the truth within the tolerance tests/exporters/truth.py derives (one request over the
sampled span; the true quantile's bucket). The direct scrape must agree with the truth too.
Set LLMWATCH_TIER_REPORT=FILE to get the per-system table (truth, Prometheus, llmwatch).
"""

from __future__ import annotations

import os

import pytest

from tests.exporters.checks import signals_at
from tests.exporters.conftest import WINDOW_S
from tests.exporters.truth import Truth, truths

pytestmark = [pytest.mark.exporters, pytest.mark.integration]

EXPECTED = {
    "code-llm-api": ("request_rate", "error_rate", "latency_p50", "latency_p95", "latency_p99", "tokens_out_rate",
                     "savings_rate"),
    "dev-pynode": ("request_rate", "error_rate", "latency_p50", "latency_p95", "latency_p99", "tokens_in_rate",
                   "tokens_out_rate", "cost_rate", "local_share", "savings_rate"),
    "api-gateway": ("request_rate", "error_rate", "latency_p50", "latency_p95", "latency_p99", "cost_rate",
                    "local_share"),
    "genai-chat": ("request_rate", "error_rate", "latency_p50", "latency_p95", "latency_p99", "tokens_in_rate",
                   "tokens_out_rate", "cost_rate", "local_share", "savings_rate", "ttft_p95"),
    "genai-legacy": ("request_rate", "error_rate", "latency_p50", "latency_p95", "latency_p99", "tokens_in_rate",
                     "tokens_out_rate", "cost_rate", "local_share", "savings_rate", "ttft_p95"),
    "litellm": ("request_rate", "error_rate", "latency_p50", "latency_p95", "latency_p99", "tokens_in_rate",
                "tokens_out_rate", "cost_rate", "local_share", "savings_rate"),
}
_cache: dict[str, dict] = {}


def sampled_span(tier, job: str, source: str = "prometheus") -> tuple[float, float]:
    """(first, last) scrape time of `job` inside the window ending at t_end, as the source stored it."""
    import httpx

    query = f'up{{job="{job}"}}[{WINDOW_S:g}s]'
    if source == "direct":
        res = tier.run(tier.scrape.query(query, at=tier.t_end))
        stamps = [t for t, _ in res.series[0].points]
    else:
        body = httpx.get(f"{tier.prometheus.url}/api/v1/query", params={"query": query, "time": f"{tier.t_end:.3f}"}).json()
        stamps = [float(t) for t, _ in body["data"]["result"][0]["values"]]
    return stamps[0], stamps[-1]


def evaluated(tier, source: str) -> dict:
    if source not in _cache:
        _cache[source] = signals_at(tier, WINDOW_S, tier.t_end, source)
    return _cache[source]


def truth_for(tier, job: str, first: float, last: float) -> dict[str, Truth]:
    log = tier.logs[job]
    return truths(job, log.done_in(first, last), last - first, log.started_in(first, last))


def _report(job: str, rows: list[tuple]) -> None:
    path = os.environ.get("LLMWATCH_TIER_REPORT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"\n### {job}\n\n| signal | truth | tolerance | Prometheus | llmwatch (Prometheus) | llmwatch (direct scrape) |\n"
                 "|---|---|---|---|---|---|\n")
        for row in rows:
            fh.write("| " + " | ".join(row) + " |\n")


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.4g}"


@pytest.mark.parametrize("job", sorted(EXPECTED))
def test_every_signal_matches_truth_and_prometheus(tier, job):
    assert not tier.logs[job].failures, tier.logs[job].failures[:3]
    prom = evaluated(tier, "prometheus")
    direct = evaluated(tier, "direct")
    first, last = sampled_span(tier, job)
    truth = truth_for(tier, job, first, last)
    truth_direct = truth_for(tier, job, *sampled_span(tier, job, "direct"))  # it scrapes on its own clock
    problems, rows = [], []
    for signal in EXPECTED[job]:
        ans = prom.get((job, signal))
        dans = direct.get((job, signal))
        t, td = truth[signal], truth_direct[signal]
        shown = ans.value.value if ans else None
        rows.append((signal, t.text(), "bucket" if t.bucket else f"{t.tol:.2g}", _fmt(ans.prometheus if ans else None),
                     _fmt(shown), _fmt(dans.value.value if dans else None)))
        if ans is None or ans.value.state != "ok":
            problems.append(f"{signal}: llmwatch says {ans.value.state + ': ' + ans.value.reason if ans else 'nothing'}")
            continue
        if ans.prometheus is None or abs(shown - ans.prometheus) > 1e-9 * max(1.0, abs(shown)):
            problems.append(f"{signal}: llmwatch {shown!r} but Prometheus {ans.prometheus!r} for {ans.value.query}")
        if not t.holds(shown):
            problems.append(f"{signal}: llmwatch {shown:.4g}, truth {t.text()}")
        if dans is None or dans.value.state != "ok":
            problems.append(f"{signal} (direct scrape): {dans.value.state + ': ' + dans.value.reason if dans else 'nothing'}")
        elif not td.holds(dans.value.value):
            problems.append(f"{signal} (direct scrape): {dans.value.value:.4g}, truth {td.text()}")
    _report(job, rows)
    assert not problems, f"{job}:\n  " + "\n  ".join(problems)
