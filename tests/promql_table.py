"""The generated table of PromQL expressions tests/test_promql_differential.py asks both engines.

Every function and operator of the direct-scrape subset, crossed with the inputs that break
naive engines (NaN, +-Inf, 1.5e308, 5e-324, counter resets, two metrics with the same labels,
a series that stopped), written with lower- and upper-case keywords, plus a table of RE2 regexes.
Each entry is (expression, ulps): ulps is the float tolerance, 0 (same bits) except where Go's
math library and C's differ in the last place (exp, ln, log2, log10, ^, atan2: 4 ulps).
"""

from __future__ import annotations

import re

COUNTERS = ['http_requests_total', 'http_requests_total{code="500"}', 'http_errors_total',
            'http_requests_total{path=~"/c.*"}', 'short_lived']
GAUGES = ['edge', 'temp_celsius', 'edge{case=~"neg|zero|mixed"}', 'temp_celsius{gpu!="1"}']
WINDOWS = ("[1m]", "[90s]", "[5m]", "[10m]", "[5m] offset 1m", "[2m] offset 3m")
RANGE_FUNCS = ("rate", "increase", "delta", "irate", "idelta", "avg_over_time", "sum_over_time", "count_over_time",
               "min_over_time", "max_over_time", "last_over_time", "present_over_time", "stddev_over_time",
               "stdvar_over_time")
MATH = ("abs", "ceil", "floor", "sqrt", "exp", "ln", "log2", "log10", "sgn", "round")
AGGS = ("sum", "avg", "min", "max", "count", "group", "stddev", "stdvar")
GROUPINGS = ("", " by (job)", " without (case)", " by (code, job)", " by (__name__)", " without ()")
ARITH = ("+", "-", "*", "/", "%", "^", "atan2")
CMP = ("==", "!=", "<", ">", "<=", ">=")
#: (pattern, why it is here); matched against build_info's `version` and `inst` label values
REGEXES = [
    ("((?i)PRO).*", "a flag inside a group (Python re refuses it)"), ("(?i)prom.*", "leading flag"),
    ("gw-\\d+", "\\d is ASCII in RE2: gw-\u0661\u0662 does not match"), ("\\w+", "ASCII \\w: \u00e9t\u00e9 does not match"),
    ("a.b", "dot does not match a newline in 2.42"), ("(?s)a.b", "unless (?s)"), ("\\pL+", "Unicode class"),
    ("[[:alpha:]]+", "POSIX class"), ("[[:^alpha:]-]+", "negated POSIX class"), ("\\Qprom-\\E1", "quoted literal"),
    ("(?U)P.*", "ungreedy flag"), ("x{1000}", "the largest repeat"), ("(a*)*", "nested star"), ("\\z", "end of text"),
    ("^x$", "anchors inside an anchored regex"), ("(|x)", "empty alternative"), ("a{,3}", "literal {,3} in RE2"),
    ("(?i)\u00e9.\u00c9", "case folding beyond ASCII"), ("\\x{E9}t\\x{e9}", "hex escapes"), ("\\bx\\b", "ASCII \\b"),
    ("[^\\n]+", "negated class with newline"), ("(?P<n>P)ro", "named group"), (".*", "matches the empty label"),
    ("GW-.*|gw-x", "alternation"), ("\\x{661}.*|gw-\\x{661}\\x{662}", "non-ASCII digits literally"),
    # refused by Go 1.19's regexp (and so by Prometheus): the error must be an error here too
    ("(?<n>P)ro", "Go 1.19 refuses (?<name>"), ("\\C+", "Go refuses \\C"), ("x{1001}", "repeat over 1000"),
    ("a**", "nested repetition"), ("\\Z", "no \\Z in RE2"), ("\\1", "no backreferences"), ("(?=x)", "no lookahead"),
    ("[a-\\d]", "bad class range"), ("x{2}{3}", "nested repeat"), ("a)|(b", "unbalanced"), ("(", "missing )"),
]
_KEYWORDS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right|bool|offset|and|or|unless|atan2|sum|avg|"
                       r"min|max|count|group|stddev|stdvar|topk|bottomk|quantile)\b(?=\s*[(\s]|\s*$)")


def _esc(pattern: str) -> str:
    return pattern.replace("\\", "\\\\").replace('"', '\\"')


def _upper(expr: str) -> str:
    """The same expression with every keyword in capitals (Prometheus lower-cases them)."""
    return _KEYWORDS.sub(lambda m: m.group(1).upper(), expr)


def _base() -> list[str]:
    out: list[str] = []
    out += COUNTERS + GAUGES + ["nonexistent", 'edge{case="nan"}', "lat_seconds_bucket", 'build_info{version="a\\nb"}']
    out += [f"{fn}({sel}{w})" for fn in RANGE_FUNCS for sel in COUNTERS[:3] + GAUGES[:2] for w in WINDOWS[:4]]
    out += [f"{fn}(http_requests_total{w})" for fn in ("rate", "increase", "delta") for w in WINDOWS[4:]]
    out += [f"quantile_over_time({q}, {sel}[5m])" for q in ("0", "0.25", "0.5", "0.9", "1", "-1", "2")
            for sel in ("temp_celsius", "edge")]
    out += [f"{fn}({sel})" for fn in MATH for sel in ('edge{case!="tiny"}', "temp_celsius", "http_requests_total")]
    out += [f"round(temp_celsius, {to})" for to in ("0.5", "0.3", "10", "0", "-1")]
    out += [f"clamp({sel}, {lo}, {hi})" for sel in ("edge", "temp_celsius")
            for lo, hi in (("0", "NaN"), ("-1", "1"), ("NaN", "1"), ("1", "-1"), ("0", "+Inf"), ("-Inf", "0"))]
    out += [f"{fn}(edge, {v})" for fn in ("clamp_min", "clamp_max") for v in ("0", "NaN", "-Inf", "1e308")]
    out += [f"{a}{g} ({sel})" for a in AGGS for g in GROUPINGS for sel in ("edge", "http_requests_total")]
    out += [f"{a}({sel}){g}" for a in ("sum", "avg", "count") for g in GROUPINGS[1:4] for sel in ("edge", "temp_celsius")]
    out += [f"{a} by (job) (rate(http_requests_total[5m]))" for a in AGGS]
    out += [f"{a}({k}, {sel})" for a in ("topk", "bottomk") for k in ("1", "2", "0", "-1", "NaN", "1e20", "2.9")
            for sel in ("edge", "temp_celsius")]
    out += [f"quantile{g}({q}, {sel})" for g in ("", " by (job)") for q in ("0", "0.3", "0.5", "1", "1.5", "-0.5")
            for sel in ("edge", "http_requests_total")]
    return out


def _operators() -> list[str]:
    out: list[str] = []
    scalars = ("2", "0", "-1.5", "NaN", "+Inf", "1e308")
    out += [f"{a} {op} {b}" for op in ARITH for a, b in (("2", "3"), ("1", "0"), ("-1", "0"), ("0", "0"), ("5", "0"),
                                                           ("2", "1024"), ("-8", "0.5"), ("NaN", "1"))]
    out += [f"{a} {op} bool {b}" for op in CMP for a, b in (("1", "1"), ("1", "2"), ("NaN", "NaN"), ("+Inf", "+Inf"))]
    out += [f"edge {op} {s}" for op in ARITH for s in scalars[:4]]
    out += [f"{s} {op} temp_celsius" for op in ARITH for s in scalars[:3]]
    out += [f"edge {op} {s}" for op in CMP for s in ("0", "NaN", "+Inf")]
    out += [f"edge {op} bool 0" for op in CMP] + [f"0 {op} edge" for op in CMP] + [f"1 {op} bool temp_celsius" for op in CMP]
    vv = ('http_requests_total{code="500"}', "http_errors_total")
    out += [f"{vv[0]} {op} {vv[1]}" for op in ARITH + CMP]
    out += [f"{vv[0]} {op} bool {vv[1]}" for op in CMP]
    out += [f"http_requests_total {op} ignoring(code) group_left http_errors_total" for op in ("+", "/", ">")]
    out += ["http_requests_total / on(instance, path) group_left(code) http_errors_total",
            "http_errors_total * on(instance, path) group_right http_requests_total",
            "http_requests_total + on(job) http_errors_total",
            "http_requests_total + ignoring(code) http_errors_total",
            "http_requests_total / ignoring(code, path) group_left sum without (code, path) (http_requests_total)",
            "sum by (job) (http_requests_total) / on (job) group_right() http_requests_total"]
    for op in ("and", "or", "unless"):
        out += [f"http_requests_total {op} http_errors_total", f"http_requests_total {op} on(code) http_errors_total",
                f"edge {op} ignoring(case) temp_celsius", f"temp_celsius {op} on() edge", f"edge {op} edge > 0"]
    out += ["2 ^ 3 ^ 2", "-2 ^ 2", "-(3 - 5)", "1 + 2 * 3 - 4 / 2 % 3", "(1 + 2) * 3", "- - 2", "+1",
            "NaN", "Inf", "-Inf", "inf", "nan", "0x10 + 1", "1e3", ".5 + 5.", "time()", "vector(1)", "vector(time())",
            "scalar(temp_celsius)", 'scalar(temp_celsius{gpu="0"})', "scalar(nonexistent)", "vector(1) + 1",
            '"text"', "(temp_celsius)", "((edge))", "temp_celsius offset 5m", "temp_celsius offset -1m"]
    return out


def _functions() -> list[str]:
    out: list[str] = []
    for q in ("0", "0.5", "0.9", "0.99", "1", "-1", "2", "NaN"):
        out += [f"histogram_quantile({q}, rate(lat_seconds_bucket[5m]))",
                f"histogram_quantile({q}, sum by (le) (rate(lat_seconds_bucket[5m])))",
                f"histogram_quantile({q}, lat_seconds_bucket)"]
    out += ['histogram_quantile(0.9, {__name__=~"lat_seconds_bucket|lat2_seconds_bucket"})',
            'histogram_quantile(0.9, rate({__name__=~"lat_seconds_bucket|lat2_seconds_bucket"}[5m]))',
            'histogram_quantile(0.9, sum by (le) (rate({__name__=~"lat.*_seconds_bucket"}[5m])))',
            "histogram_quantile(0.5, temp_celsius)"]
    out += ['label_replace(http_requests_total, "src", "", "", "")',
            'label_replace(http_requests_total, "code", "", "", "")',
            'label_replace(http_requests_total, "x", "$1-${2}$$-$9-$name", "path", "/(c)(h)a.*")',
            'label_replace(http_requests_total, "x", "${n}", "path", "/(?P<n>e).*")',
            'label_replace(http_requests_total, "path", "x", "code", "5.*")',
            'label_replace(http_requests_total, "__name__", "renamed", "", "")',
            'label_replace(build_info, "v", "$1", "version", "((?i)PRO).*")',
            'label_replace(build_info, "v", "$0", "inst", "gw-\\\\d+")',
            'label_replace(http_requests_total, "1bad", "x", "", "")',
            'label_replace(http_requests_total, "x", "y", "path", "(")']
    out += ["sort(temp_celsius)", "sort_desc(temp_celsius)", "sort(http_requests_total)", "sort_desc(edge)"]
    out += ['absent(nonexistent{job="a",job="b",foo="bar"})', 'absent(nonexistent{job="a",foo="bar",foo="baz"})',
            'absent(nonexistent{job=~"a",job="b"})', 'absent(nonexistent{job="a",job=~"b"})', "absent(nonexistent)",
            'absent(nonexistent{job="x",__name__="y"})', "absent(temp_celsius)", "absent(sum(nonexistent))",
            'absent({__name__="nonexistent",job="j"})']
    # same label set twice once __name__ is gone: Prometheus refuses these
    out += ['ceil({__name__=~"http_.*",code="500"})', '-{__name__=~"http_requests_total|http_errors_total"}',
            '{__name__=~"http_requests_total|http_errors_total"} + 1',
            '{__name__=~"http_requests_total|http_errors_total"} > bool 0',
            'rate({__name__=~"http_requests_total|http_errors_total"}[5m])',
            'sum_over_time({__name__=~"http_requests_total|http_errors_total"}[5m])',
            'last_over_time({__name__=~"http_requests_total|http_errors_total"}[5m])',
            'clamp({__name__=~"http_.*"}, 0, 1)', 'abs({__name__=~"http_.*"})']
    out += [f'build_info{{version=~"{_esc(p)}"}}' for p, _ in REGEXES]
    out += [f'build_info{{inst!~"{_esc(p)}"}}' for p, _ in REGEXES]
    out += ['{__name__=~"build_.*", inst=~"(?i)gw-.*"}', '{__name__=~"(?i)BUILD_INFO"}',
            'build_info{version=~""}', '{job=~".+"} > 1e300']
    return out


def expressions() -> list[tuple[str, int]]:
    """Every expression, then its upper-case-keyword twin where that changes the text."""
    seen: dict[str, int] = {}
    for expr in _base() + _operators() + _functions():
        for variant in (expr, _upper(expr)):
            if variant not in seen:
                seen[variant] = 4 if re.search(r"\b(exp|ln|log2|log10|atan2|ATAN2)\b|\^", variant) else 0
    return list(seen.items())


#: Valid PromQL outside the subset: Prometheus answers, llmwatch must say "needs Prometheus".
OUTSIDE = ["rate(http_requests_total[5m:1m])", "max_over_time(rate(http_requests_total[1m])[5m:])",
           "http_requests_total @ 1700000300", "http_requests_total @ start()", "rate(http_requests_total[5m] @ end())",
           'count_values("v", temp_celsius)', "changes(temp_celsius[5m])", "resets(http_requests_total[5m])",
           "deriv(temp_celsius[5m])", "predict_linear(temp_celsius[5m], 60)", "holt_winters(temp_celsius[5m], 0.5, 0.5)",
           'label_join(temp_celsius, "x", "-", "job", "gpu")', "timestamp(temp_celsius)", "absent_over_time(nope[5m])",
           "day_of_month()", "hour(vector(0))", "minute()", "month()", "year()", "day_of_week()", "day_of_year()",
           "days_in_month()", "pi()", "sin(temp_celsius)", "cos(temp_celsius)", "tan(temp_celsius)", "deg(temp_celsius)",
           "rad(temp_celsius)", "asin(edge)", "acosh(temp_celsius)", "sinh(temp_celsius)", "tanh(edge)", "atan(edge)",
           "histogram_count(temp_celsius)", "histogram_sum(temp_celsius)", "histogram_fraction(0, 1, temp_celsius)",
           'sum(temp_celsius) + count_values("v", temp_celsius)', "SUM(rate(http_requests_total[5m:]))"]
