"""Bucket resolution of quantiles (issue 13, item 11): the bucket a P95 lies in, the "<= 1.28 s,
bucket 0.64-1.28 s" wording, and an SLO that never fires on an interpolated value."""

from __future__ import annotations

import math

from probes.buckets import bound_text, bucket_of, bucket_text, bounds_query, is_wide, slo_verdict
from probes.check_plan import slo_results
from probes.config import Slo
from probes.status import Status
from tests.dashboard_data import sv

OTEL = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12)


def test_the_bucket_of_an_interpolated_quantile():
    assert bucket_of(1.19, OTEL) == (0.64, 1.28)
    assert bucket_of(0.005, OTEL) == (0.0, 0.01)
    assert bucket_of(1.28, OTEL) == (0.64, 1.28)        # upper bounds are inclusive (le)
    assert bucket_of(9.0, OTEL) == (5.12, math.inf)
    assert is_wide((0.64, 1.28)) and is_wide((0.0, 0.01)) and is_wide((5.12, math.inf))
    assert not is_wide((0.75, 1.0))                   # prometheus_client's .75-1: narrow enough
    assert bucket_text((0.64, 1.28), "s") == "bucket 0.64-1.28 s"
    assert bucket_text((0.025, 0.05), "s") == "bucket 25-50 ms"
    assert bound_text((0.64, 1.28), "s") == "<= 1.28 s"


def test_bounds_query_reads_the_quantiles_histogram():
    q = ('histogram_quantile(0.95, sum by (le, gen_ai_request_model) (rate(gen_ai_client_operation_duration_seconds_'
         'bucket{job="genai"}[1m])))')
    assert bounds_query(q) == 'count by (le) (gen_ai_client_operation_duration_seconds_bucket{job="genai"})'
    assert bounds_query("sum(rate(x[1m]))") is None


def test_slo_decides_on_the_bucket_never_on_the_interpolation():
    assert slo_verdict((0.64, 1.28), 1.19, 1.0) == "cannot_tell"   # the case: no request over 0.8 s
    assert slo_verdict((0.64, 1.28), 1.19, 0.5) == "breach"        # at least 5 % took more than 0.64 s
    assert slo_verdict((0.64, 1.28), 1.19, 2.0) == "ok"
    assert slo_verdict(None, 1.19, 1.0) == "breach"                # bounds unknown: the value decides


def test_slo_messages_name_the_bucket():
    p95 = sv("latency_p95", "otel-genai", "OpenTelemetry GenAI", "genai", 1.19, "s")
    from dataclasses import replace

    wide = replace(p95, method="histogram", bucket=(0.64, 1.28))
    assert wide.text == "<= 1.28 s" and wide.note == "bucket 0.64-1.28 s"
    [res] = slo_results([wide], {}, Slo(latency_p95=1.0))
    assert res.status is Status.OK
    assert res.summary.startswith("p95 <= 1.28 s, bucket 0.64-1.28 s: the buckets cannot tell")
    [res] = slo_results([wide], {}, Slo(latency_p95=0.5))
    assert res.status is Status.CRITICAL and res.summary == "p95 <= 1.28 s, bucket 0.64-1.28 s over the target < 500 ms"
    narrow = replace(p95, value=0.9, method="histogram", bucket=(0.75, 1.0))
    [res] = slo_results([narrow], {}, Slo(latency_p95=2.0))
    assert res.status is Status.OK and res.summary == "p95 900 ms within the target < 2.00 s"
