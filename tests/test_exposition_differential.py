"""Differential test: llmwatch's exposition parser against prometheus_client's parsers, on valid input.

prometheus_client (the Python client library's text 0.0.4 parser and its OpenMetrics parser)
is the reference: for every valid page, both must read the same samples, with the same names,
label sets (escapes decoded), values (NaN equals NaN) and timestamps. Timestamps are compared
after Prometheus' own conversion to milliseconds (text: the integer as written; OpenMetrics:
int64(seconds * 1000), truncated), since that is what the store keeps. Two documented choices of
llmwatch's parser are accounted for: OpenMetrics `_created` series of counters, histograms and
summaries are dropped, and exemplars are skipped (neither is a sample a query can read).
"""

from __future__ import annotations

import math
import random

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families as text_families

from probes.exposition import OPENMETRICS, parse, parse_series

TEXT_PAGES = [
    '# HELP a_total Requests, with \\\\ and \\n in help\n# TYPE a_total counter\n'
    'a_total{path="/x\\"y\\\\z\\n",code="200"} 3 1700000000123\na_total{code="500"} +Inf\n',
    "b NaN\nc -Inf\nd 1.7976931348623157e+308\ne -1.5e-3 -5\nf 1E3\ng .5\nh 5e-324\n",
    'weird{a="}",b=",",c="#",d="=",e=" spaced "} 1\nunicode{v="\u00e9t\u00e9 \u2603 \U0001f600"} 2\n',
    "# TYPE h histogram\n"
    'h_bucket{le="0.1"} 1\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 4\nh_sum 2.5\nh_count 4\n'
    '# TYPE s summary\ns{quantile="0.5"} 0.2\ns{quantile="0.99"} NaN\ns_sum 10\ns_count 7\n',
    "name:with:colons{x=\"1\"} 1\n  indented 2\nspaces{ a = \"b\" , c=\"d\" } 3\ntrailing{a=\"b\",} 4\nempty{} 5\n",
    "# a free comment\n\nx 1 -1700000000000\n#\n# TYPE y gauge\ny 0\n",
]
OM_PAGES = [
    '# TYPE r counter\n# HELP r Requests.\nr_total{a="b"} 1 1700000000.125 # {trace_id="abc"} 0.5 1700000000.1\n'
    'r_created{a="b"} 1700000000 1700000000.125\n# EOF\n',
    "# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2 # {id=\"x\"} 0.07\nh_count 2\nh_sum 0.3\n"
    "h_created 1.7e9\n# EOF\n",
    '# TYPE g gauge\ng{x="a\\\\b\\"c\\nd"} -Inf\ng{x="y"} NaN 1.5\n# TYPE u unknown\nu 1e-9 0.001\n# EOF\n',
    "# TYPE i info\ni_info{version=\"1.2\"} 1\n# TYPE st stateset\nst{st=\"a\"} 1\nst{st=\"b\"} 0\n"
    "# TYPE gh gaugehistogram\ngh_bucket{le=\"+Inf\"} 3\ngh_gcount 3\ngh_gsum 1\n# EOF\n",
]
_CREATED_KINDS = {"counter", "histogram", "summary", "gaugehistogram"}


def _ms(ts, openmetrics: bool) -> int | None:
    if ts is None:
        return None
    seconds = float(ts.sec) + ts.nsec / 1e9 if hasattr(ts, "sec") else float(ts)
    return int(seconds * 1000) if openmetrics else round(seconds * 1000)


def reference(text: str, openmetrics: bool) -> list[tuple]:
    families = openmetrics_families(text) if openmetrics else text_families(text)
    out = []
    for fam in families:
        for s in fam.samples:
            if openmetrics and fam.type in _CREATED_KINDS and s.name.endswith("_created"):
                continue
            out.append((s.name, tuple(sorted(s.labels.items())), float(s.value), _ms(s.timestamp, openmetrics)))
    return out


def ours(text: str, openmetrics: bool) -> list[tuple]:
    parsed = parse(text, OPENMETRICS if openmetrics else "text/plain; version=0.0.4")
    assert parsed.malformed == 0, parsed.problems
    out = []
    for raw, value, ts in parsed.samples:
        name, labels = parse_series(raw)
        out.append((name, tuple(sorted(labels.items())), value, ts))
    return out


def same(a: list[tuple], b: list[tuple]) -> bool:
    def key(s):
        return (s[0], s[1], "nan" if math.isnan(s[2]) else repr(s[2]), s[3])
    return sorted(map(key, a)) == sorted(map(key, b))


@pytest.mark.parametrize("text", TEXT_PAGES)
def test_text_pages_read_as_prometheus_client_reads_them(text):
    want, got = reference(text, False), ours(text, False)
    assert want and same(want, got), (want, got)


@pytest.mark.parametrize("text", OM_PAGES)
def test_openmetrics_pages_read_as_prometheus_client_reads_them(text):
    want, got = reference(text, True), ours(text, True)
    assert want and same(want, got), (want, got)


_ALPHABET = ['a', 'Z', '0', ' ', ',', '}', '{', '=', '#', '"', '\\', '\n', '\t', '\u00e9', '\u2603', '\U0001f600', '_', ':']


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _page(rng: random.Random, openmetrics: bool) -> str:
    lines = []
    for i in range(rng.randint(1, 25)):
        labels = {f"l{j}": "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 8)))
                  for j in range(rng.randint(0, 4))}
        body = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        value = rng.choice(["0", "1", "-2.5", "NaN", "+Inf", "-Inf", "1e300", "3.14159", "7E-5", repr(rng.random())])
        ts = ""
        if rng.random() < 0.4:
            ts = f" {rng.randint(1, 2 * 10 ** 9)}.{rng.choice(['0', '5', '25', '125'])}" if openmetrics \
                else f" {rng.randint(-10 ** 12, 10 ** 13)}"
        lines.append(f"m{i}{{{body}}} {value}{ts}")
    return "\n".join(lines) + ("\n# EOF\n" if openmetrics else "\n")


@pytest.mark.parametrize("seed", range(40))
def test_generated_pages_agree(seed):
    rng = random.Random(seed)
    for openmetrics in (False, True):
        text = _page(rng, openmetrics)
        want, got = reference(text, openmetrics), ours(text, openmetrics)
        assert same(want, got), (text, want, got)
