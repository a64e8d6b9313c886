"""The same samples in real Prometheus 2.42 and in llmwatch's direct-scrape store, for differential tests.

One fixed OpenMetrics page with explicit timestamps (counters with a reset, gauges holding NaN,
+-Inf, huge and subnormal values, two histograms with the same labels, label values a regex can
trip on) is written into a Prometheus data dir with `promtool tsdb create-blocks-from openmetrics`,
and Prometheus is started on it with no scrape targets. The very same page goes through
llmwatch's exposition parser into a Store. Both then answer the same expressions at the same
instants: Prometheus through its HTTP API, llmwatch through probes.promql_query.instant_query
(what ScrapeClient.query calls). `answer()` turns both into one comparable shape.
"""

from __future__ import annotations

import json
import math
import struct
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

T0 = 1_700_000_000          # seconds; first sample
STEP = 15                   # seconds between samples
POINTS = 41                 # 0 .. 600 s
INSTANTS = (T0 + 37.5, T0 + 300, T0 + 600, T0 + 780, T0 + 950)   # 950: past the 5 m lookback


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def _series() -> list[tuple[str, list[tuple[int, float]]]]:
    """(series text, [(seconds after T0, value)]) for every series on the page."""
    ks = range(POINTS)
    at = [k * STEP for k in ks]
    out: list[tuple[str, list[tuple[int, float]]]] = []

    def add(text: str, values) -> None:
        out.append((text, [(t, float(v)) for t, v in zip(at, values) if v is not None]))

    chat = 'job="api",instance="a:1",path="/chat"'
    add(f'http_requests_total{{{chat},code="200"}}', [10 * k + k % 3 for k in ks])
    add(f'http_requests_total{{{chat},code="500"}}', [k if k < 20 else k - 18 for k in ks])   # a reset at k=20
    add('http_requests_total{job="api",instance="b:1",path="/embed",code="200"}', [1000 + 7 * k for k in ks])
    add(f'http_errors_total{{{chat},code="500"}}', [k // 2 for k in ks])     # same labels as code="500" above
    add('temp_celsius{job="gpu",gpu="0"}', [40 + (k * 7 % 11) * 0.5 for k in ks])
    add('temp_celsius{job="gpu",gpu="1"}', [55.25 - (k % 5) for k in ks])
    for case, vals in (("nan", [math.nan] * POINTS), ("inf", [math.inf] * POINTS), ("ninf", [-math.inf] * POINTS),
                       ("huge", [1.5e308] * POINTS), ("neghuge", [-1.5e308] * POINTS), ("tiny", [5e-324] * POINTS),
                       ("neg", [-2.5 - k for k in ks]), ("zero", [0] * POINTS),
                       ("mixed", [math.nan if k % 2 == 0 else k * 0.1 for k in ks])):
        add(f'edge{{job="w",case="{case}"}}', vals)
    for name, scale in (("lat_seconds", 1), ("lat2_seconds", 3)):
        for le, frac in (("0.1", 0.1), ("0.5", 0.45), ("1", 0.8), ("5", 0.95), ("+Inf", 1.0)):
            add(f'{name}_bucket{{job="api",instance="a:1",le="{le}"}}', [int(frac * 20 * k * scale) for k in ks])
        add(f'{name}_count{{job="api",instance="a:1"}}', [20 * k * scale for k in ks])
        add(f'{name}_sum{{job="api",instance="a:1"}}', [7.25 * k * scale for k in ks])
    for version, inst in (("PROMETHEUS-2", "gw-12"), ("prom-1", "gw-x"), ("Pro", "gw-\u0661\u0662"),
                          ("a\\nb", "gw-7"), ("\u00e9t\u00e9", "GW-3"), ("x", "gw-")):
        add(f'build_info{{job="prom",version="{version}",inst="{inst}"}}', [1] * POINTS)
    add('short_lived{job="api"}', [k if k < 10 else None for k in ks])
    return out


def page() -> str:
    """The OpenMetrics page both sides load (float-second timestamps, `# EOF`)."""
    lines = []
    for text, points in _series():
        lines += [f"{text} {_fmt(v)} {T0 + t}" for t, v in points]
    return "\n".join(lines) + "\n# EOF\n"


def llmwatch_store(text: str):
    """The page through llmwatch's exposition parser into a Store (the replay path, no job rewrite)."""
    from probes.exposition import OPENMETRICS, parse, parse_series
    from probes.scrape_store import Store

    parsed = parse(text, OPENMETRICS)
    assert parsed.malformed == 0, parsed.problems
    store = Store(retention_s=86400, max_series=100_000)
    for raw, value, ts in parsed.samples:
        name, labels = parse_series(raw)
        store.add({"__name__": name, **labels}, ts, value)
    return store


def create_blocks(text: str, workdir: Path, promtool: str) -> Path:
    """promtool tsdb create-blocks-from openmetrics into workdir/data (PrometheusServer's tsdb path)."""
    workdir.mkdir(parents=True, exist_ok=True)
    src = workdir / "page.om"
    src.write_text(text)
    proc = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(src), str(workdir / "data")],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"promtool failed: {proc.stderr or proc.stdout}")
    return workdir / "data"


def prom_query(url: str, expr: str, t: float, *, end: float | None = None, step: float = 0.0) -> dict[str, Any]:
    """An instant query at t, or with `end` a range query from t to end every `step` seconds."""
    params = {"query": expr, "time": repr(t)} if end is None else \
        {"query": expr, "start": repr(t), "end": repr(end), "step": repr(step)}
    path = "query" if end is None else "query_range"
    req = urllib.request.Request(f"{url}/api/v1/{path}", data=urllib.parse.urlencode(params).encode(), method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())


# -- one comparable shape ---------------------------------------------------------------------------

def prom_answer(doc: dict[str, Any]) -> tuple:
    if doc.get("status") != "success":
        return ("error", str(doc.get("error", "")))
    data = doc["data"]
    kind = data["resultType"]
    if kind == "scalar":
        return ("scalar", float(data["result"][1]))
    if kind == "string":
        return ("string", data["result"][1])
    if kind == "vector":
        return ("vector", [(tuple(sorted(s["metric"].items())), float(s["value"][1])) for s in data["result"]])
    return ("matrix", [(tuple(sorted(s["metric"].items())), [(float(t), float(v)) for t, v in s["values"]])
                       for s in data["result"]])


def llmwatch_answer(res) -> tuple:
    if not res.ok:
        msg = res.error.message if res.error else ""
        return ("unsupported" if "needs Prometheus" in msg and "bad_data" not in msg else "error", msg)
    if res.result_type == "scalar":
        return ("scalar", res.samples[0].value)
    if res.result_type == "string":
        return ("string", res.text)
    if res.result_type == "vector":
        return ("vector", [(tuple(sorted(s.labels.items())), s.value) for s in res.samples])
    return ("matrix", [(tuple(sorted(s.labels.items())), [(t, v) for t, v in s.points]) for s in res.series])


def _bits(v: float) -> int:
    return struct.unpack("<q", struct.pack("<d", v))[0]


def same_value(a: float, b: float, ulps: int = 0) -> bool:
    """Equal bits (any NaN equals any NaN), or within `ulps` units in the last place."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return True
    if ulps == 0 or math.isinf(a) or math.isinf(b) or (a < 0) != (b < 0):
        return False
    return abs(_bits(a) - _bits(b)) <= ulps


def differences(want: tuple, got: tuple, ordered: bool = False, ulps: int = 0) -> str:
    """'' when the answers agree, else what differs (for the assertion message).

    ordered (sort, sort_desc): the values must come in the same order too. Which of two equal
    values (or two NaNs) comes first is left open: Go's sort.Sort is not stable, so Prometheus
    itself promises no order among ties."""
    if want[0] != got[0]:
        return f"prometheus {want[0]} {str(want[1])[:200]!r}, llmwatch {got[0]} {str(got[1])[:200]!r}"
    kind = want[0]
    if kind in ("error", "string"):
        return "" if kind == "error" or want[1] == got[1] else f"{want[1]!r} != {got[1]!r}"
    if kind == "scalar":
        return "" if same_value(want[1], got[1], ulps) else f"scalar {want[1]!r} != {got[1]!r}"
    w, g = list(want[1]), list(got[1])
    if ordered and kind == "vector":
        if len(w) != len(g) or not all(same_value(a[1], b[1], ulps) for a, b in zip(w, g)):
            return f"order differs: prometheus {[s[1] for s in w]}, llmwatch {[s[1] for s in g]}"
    w.sort(key=lambda s: s[0])
    g.sort(key=lambda s: s[0])
    if [s[0] for s in w] != [s[0] for s in g]:
        return f"label sets differ:\n  prometheus {[dict(s[0]) for s in w]}\n  llmwatch   {[dict(s[0]) for s in g]}"
    for (labels, a), (_, b) in zip(w, g):
        if kind == "vector" and not same_value(a, b, ulps):
            return f"{dict(labels)}: prometheus {a!r}, llmwatch {b!r}"
        if kind == "matrix" and (len(a) != len(b) or not all(
                ta == tb and same_value(va, vb, ulps) for (ta, va), (tb, vb) in zip(a, b))):
            return f"{dict(labels)}: prometheus {a[:6]}..., llmwatch {b[:6]}..."
    return ""
