"""Each signal's truth for one app over Prometheus' own sampled span, with the tolerance it allows.

Why the sampled span: rate() over [t-20s, t] really measures the counter between the first and
the last scrape inside the window (then extrapolates to the edges), so the generator's records
are counted over exactly (first scrape, last scrape]. What is left is one request landing within
milliseconds of a scrape, on either side: tolerances are "one request" (or one request's tokens,
one request's cost) over the span, and for ratios one request over the count. Quantiles are
right when they lie inside the bucket that holds the true quantile: nothing finer can be asked
of a histogram, and the bucket bounds are the app's real ones. The latency truth is each app's
own handling time (its stand-in model's sleep, chosen mid-bucket so the framework's overhead
cannot cross a bound), not the client's wall time, which adds the generator's own queueing on a
loaded machine (up to a few hundred ms) that no server-side histogram sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from tests.exporters.traffic import Record, quantile_bucket

PY_DEFAULT = (.005, .01, .025, .05, .075, .1, .25, .5, .75, 1.0, 2.5, 5.0, 7.5, 10.0)
BOUNDS = {
    "code-llm-api": (0.1, 0.5, 1.0, 2.0, 5.0, 10.0),
    "dev-pynode": (0.1, 0.3, 0.5, 0.7, 1, 3, 5, 7, 10),
    "api-gateway": PY_DEFAULT,
    "genai-chat": (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92),
    "genai-legacy": (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92),
    "litellm": (.005, .01, .025, .05, .1, .25, .5, 1, 2, 5, 10, 30, 60, 120, 300, 420, 600),
}
TTFT_BOUNDS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
# Whose latency histogram counts failures too (Code LLM API and LiteLLM observe successes only).
LATENCY_OF_ALL = {"dev-pynode", "api-gateway", "genai-chat", "genai-legacy"}
REFERENCE = (0.15e-6, 0.6e-6)  # routing.cloud_reference gpt-4o-mini, USD per token


@dataclass(frozen=True)
class Truth:
    value: float | None = None
    tol: float = 0.0
    bucket: tuple[float, float] | None = None   # quantiles: the bucket that holds the truth

    def holds(self, shown: float | None) -> bool:
        if shown is None:
            return False
        if self.bucket is not None:
            lo, hi = self.bucket
            return lo - 1e-9 <= shown <= hi + 1e-9
        return abs(shown - self.value) <= self.tol + 1e-12

    def text(self) -> str:
        if self.bucket is not None:
            return f"in ({self.bucket[0]:g}, {self.bucket[1]:g}]"
        return f"{self.value:.4g} ± {self.tol:.2g}"


def _sum_rate(recs: Sequence[Record], span: float, f: Callable[[Record], float]) -> Truth:
    amounts = [f(r) for r in recs]
    return Truth(sum(amounts) / span, 1.5 * max(amounts + [0.0]) / span)


def _ratio(recs: Sequence[Record], pred: Callable[[Record], bool]) -> Truth | None:
    if not recs:
        return None
    return Truth(sum(1 for r in recs if pred(r)) / len(recs), 1.5 / len(recs))


# Whose request counter is bumped when a request starts (the seed's generate_code: inc() first).
COUNTED_AT_START = {"code-llm-api"}


def truths(job: str, recs: Sequence[Record], span: float, started: Sequence[Record] = ()) -> dict[str, Truth]:
    """Every signal's truth for the app `job` from the records completed (and, for counters bumped
    at the start, the records started) in the sampled span."""
    ok = [r for r in recs if not r.kind.error]
    lat = [r.kind.handling for r in (recs if job in LATENCY_OF_ALL else ok)]
    counted = started if job in COUNTED_AT_START else recs
    out = {"request_rate": Truth(len(counted) / span, 1.5 / span),
           "error_rate": _ratio(recs, lambda r: r.kind.error)}
    for q, name in ((0.5, "latency_p50"), (0.95, "latency_p95"), (0.99, "latency_p99")):
        out[name] = Truth(bucket=quantile_bucket(lat, q, BOUNDS[job]))
    out["tokens_out_rate"] = _sum_rate(ok, span, lambda r: r.tokens_out)
    out["tokens_in_rate"] = _sum_rate(ok, span, lambda r: r.tokens_in)
    cost = _sum_rate(ok, span, lambda r: r.cost * 3600)
    out["cost_rate"] = cost
    served = ok if job == "litellm" else recs  # LiteLLM's split counts what deployments answered
    out["local_share"] = _ratio(served, lambda r: r.kind.local)
    local = [r for r in ok if r.kind.local]
    out["savings_rate"] = _sum_rate(local, span, lambda r: (r.tokens_in * REFERENCE[0] + r.tokens_out * REFERENCE[1])
                                    * 3600)
    ttft = [float(r.kind.body["ttft_seconds"]) for r in ok if "ttft_seconds" in r.kind.body]
    if ttft:
        out["ttft_p95"] = Truth(bucket=quantile_bucket(ttft, 0.95, TTFT_BOUNDS))
    return {k: v for k, v in out.items() if v is not None}
