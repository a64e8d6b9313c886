"""Property-based tests (Hypothesis): whatever the config, durations, chart points or API answers,
no exception escapes, exit codes stay 0-3, nothing runs past its deadline, nothing unsafe is
printed.

Bounded on purpose (max_examples, a deadline per example) so the suite stays fast; the wall time
of this module is in the issue's report. The API answers are served through httpx's
MockTransport to the real clients, so the whole decode path runs, and then through the dashboard
fetchers, the check runner and doctor, which consume what the clients return.
"""

from __future__ import annotations

import asyncio
import json
import math
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from probes.config import ConfigError, Endpoint, parse_config
from probes.dashboard_fetch import SourceError, load_instant, load_meta, load_ranges
from probes.dashboard_model import VALUE_LIMIT, Chart, Line, chart_points
from probes.durations import MAX_DURATION_S, DurationError, format_duration, parse_duration
from probes.textsafe import json_escape, terminal_safe

FAST = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=40, deadline=5000, suppress_health_check=[HealthCheck.too_slow])

odd_floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(
    [0.0, -0.0, 1e-320, 1e300, -1e300, 1.7976931348623157e308, -1.7976931348623157e308, 1e12, -1.0]))
duration_like = st.one_of(odd_floats, st.integers(min_value=-2**63, max_value=2**63 - 1), st.text(max_size=20),
                          st.sampled_from(["inf", "nan", "1e999", "-1s", "0s", "1e308s", "99999999999y", "5s", "1m30s",
                                           "500ms", "1_000", "infinity", " 5s ", "5 s", "1.5h"]))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), odd_floats.filter(math.isfinite), st.integers(-10**20, 10**20),
              st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20)


# -- durations and config ------------------------------------------------------------------------

@FAST
@given(duration_like)
def test_parse_duration_is_finite_bounded_or_a_duration_error(value):
    try:
        seconds = parse_duration(value)
    except DurationError:
        return
    assert math.isfinite(seconds) and 0 <= seconds <= MAX_DURATION_S
    assert format_duration(seconds)


@FAST
@given(odd_floats)
def test_format_duration_never_raises(seconds):
    assert isinstance(format_duration(seconds), str)


CONFIG_KEYS = {
    "dashboard": ["refresh", "range", "theme", "readonly"],
    "prometheus": ["url", "timeout", "bearer_token", "headers", "insecure"],
    "loki": ["timeout", "org_id"],
    "slo": ["error_rate", "latency_p95", "availability", "window"],
}
config_docs = st.dictionaries(
    st.sampled_from(sorted(CONFIG_KEYS)),
    st.sampled_from(sorted({k for ks in CONFIG_KEYS.values() for k in ks})).flatmap(
        lambda key: st.dictionaries(st.just(key), st.one_of(duration_like, json_values), max_size=1)),
    max_size=4)


@FAST
@given(config_docs)
def test_any_config_document_is_a_config_or_a_one_line_config_error(doc):
    try:
        cfg = parse_config(doc, "c.toml")
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("c.toml: ")
        return
    for seconds in (cfg.dashboard.refresh, cfg.dashboard.range, cfg.prometheus.timeout, cfg.loki.timeout,
                    cfg.slo.window):
        assert math.isfinite(seconds) and seconds > 0
        format_duration(seconds)
    for ratio in (cfg.slo.error_rate, cfg.slo.availability):
        assert ratio is None or 0 <= ratio <= 1


# -- chart inputs --------------------------------------------------------------------------------

NOW = 1_800_000_000.0
timestamps = st.one_of(odd_floats, st.floats(NOW - 7200, NOW + 60), st.sampled_from([0.0, -1.0, 1e12, NOW]))
points = st.lists(st.tuples(timestamps, odd_floats), max_size=60)


@FAST
@given(points, st.sampled_from([300.0, 3600.0, 86400.0]), st.sampled_from([0.0, 15.0, 60.0]))
def test_chart_points_keep_only_drawable_points_and_count_the_rest(raw, range_s, step):
    kept, dropped = chart_points(raw, NOW - range_s, NOW, step)
    assert len(kept) + dropped.points == len(raw)
    for t, v in kept:
        assert math.isfinite(v) and abs(v) <= VALUE_LIMIT and NOW - range_s - step <= t <= NOW + step


@SLOW
@given(st.lists(points, min_size=1, max_size=4), st.sampled_from(["s", "ratio", "bytes", "req/s", "$/h"]),
       st.integers(20, 200), st.integers(4, 60), st.booleans())
def test_render_chart_never_raises_or_hangs(series, unit, width, height, ascii_):
    from tui.widgets.chart import render_chart

    lines = tuple(Line(f"s{i}", chart_points(raw, NOW - 3600, NOW, 60)[0]) for i, raw in enumerate(series))
    chart = Chart("latency", "Latency", unit, lines, "ok", "", NOW - 3600, NOW, 60)
    started = time.monotonic()
    text = render_chart(chart, width, height, ascii=ascii_)
    assert time.monotonic() - started < 2.0
    assert len(text.plain.splitlines()) <= height


# -- API answers ---------------------------------------------------------------------------------

PATHS = ["/api/v1/query", "/api/v1/query_range", "/api/v1/targets", "/api/v1/alerts", "/api/v1/rules",
         "/api/v1/status/buildinfo", "/api/v1/label/__name__/values", "/api/v2/alerts", "/api/v2/silences",
         "/api/v2/status", "/loki/api/v1/query_range", "/loki/api/v1/labels"]
envelopes = st.one_of(
    json_values,
    st.builds(lambda d: {"status": "success", "data": d}, json_values),
    st.builds(lambda rt, r: {"status": "success", "data": {"resultType": rt, "result": r}},
              st.sampled_from(["vector", "matrix", "scalar", "string", "streams", "x"]), json_values),
    st.builds(lambda d: {"status": "success", "data": {"activeTargets": d, "alerts": d, "groups": d}}, json_values),
)
answers = st.fixed_dictionaries({p: envelopes for p in PATHS})


def mock_clients(docs: dict):
    from probes.alertmanager import AlertmanagerClient
    from probes.loki import LokiClient
    from probes.prometheus import PrometheusClient

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        key = "/api/v1/label/__name__/values" if path.startswith("/api/v1/label/") else path
        doc = docs.get(key, {"status": "success", "data": []})
        return httpx.Response(200, content=json.dumps(doc).encode(), headers={"content-type": "application/json"})

    def client():
        return httpx.AsyncClient(transport=httpx.MockTransport(handler), timeout=2.0)

    ep = Endpoint("http://mock:9090", timeout=2.0)
    return PrometheusClient(ep, client=client()), AlertmanagerClient(ep, client=client()), LokiClient(ep, client=client())


async def _every_call(prom, am, loki):
    from probes.config import Config

    out = [await prom.query("up"), await prom.query_range("up", NOW - 60, NOW, 15), await prom.targets(),
           await prom.alerts(), await prom.rules(), await prom.buildinfo(), await prom.label_values(),
           await am.alerts(), await am.silences(), await am.status(),
           await am.create_silence(["alertname=x"], NOW, NOW + 60, "me", "why"),
           await loki.query_range('{job="x"}', 0, 10**18), await loki.labels()]
    from probes.profiles import load_profiles

    profiles = load_profiles(None)
    try:
        meta = await load_meta(prom, profiles, 2.0)
    except SourceError:
        return out
    for load in (lambda: load_instant(prom, meta, Config(), 2.0, at=NOW),
                 lambda: load_ranges(prom, meta, Config(), 3600.0, 60, 2.0, at=NOW)):
        try:
            await load()
        except SourceError:
            pass
    return out


@SLOW
@given(answers)
def test_no_answer_shape_makes_a_client_or_the_dashboard_raise(docs):
    async def run():
        prom, am, loki = mock_clients(docs)
        try:
            return await asyncio.wait_for(_every_call(prom, am, loki), 10)
        finally:
            for c in (prom, am, loki):
                await c.aclose()

    for result in asyncio.run(run()):
        assert result.ok or result.error is not None
        if not result.ok:
            assert "\n" not in result.error.message


@SLOW
@given(answers)
def test_check_and_doctor_on_any_answer_exit_0_to_3_within_the_deadline(docs):
    from probes.check_plan import build_plan
    from probes.checks import CheckOptions, run_planned
    from probes.config import Config, Rule, Slo
    from probes.doctor import run_doctor

    cfg = Config(rules=(Rule("r", "up"),), slo=Slo(error_rate=0.01, availability=0.9),
                 explicit=frozenset({"prometheus", "slo"}))

    async def run():
        prom, am, loki = mock_clients(docs)
        try:
            started = time.monotonic()
            checks = await run_planned(build_plan(cfg, CheckOptions(deadline_s=3.0), prom, am), 3.0)
            assert time.monotonic() - started < 4.0
            report = await asyncio.wait_for(run_doctor(cfg, prom), 10)
            return checks, report
        finally:
            for c in (prom, am, loki):
                await c.aclose()

    checks, report = asyncio.run(run())
    assert checks.exit_code in (0, 1, 2, 3)
    assert not any(r.summary.startswith("check failed:") for r in checks.results), checks.results
    from probes.doctor import report_json
    from tui.output import dumps

    json.loads(dumps(report_json(report)))


# -- text that reaches a terminal ----------------------------------------------------------------

hostile_text = st.text(alphabet=st.characters(codec="utf-8", categories=("Cc", "Cf", "L", "N", "P", "S", "Zs")),
                       max_size=80) | st.text(alphabet="\x1b[]0;?\x07\x9b\x9d\\/m6nl=abc\u202e\u2066 \n\r\t", max_size=40)


@FAST
@given(hostile_text)
def test_terminal_safe_leaves_nothing_a_terminal_obeys(text):
    for keep in (False, True):
        out = terminal_safe(text, keep_sgr=keep)
        assert terminal_safe(out, keep_sgr=keep) == out
        rest = out
        if keep:
            import re

            rest = re.sub(r"\x1b\[[0-9;:]*m", "", out)
        assert not any(c in rest for c in "\x1b\x07\x08\r\x7f") and not any(0x80 <= ord(c) <= 0x9f for c in rest)
        assert not any(c in rest for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


@FAST
@given(json_values | hostile_text)
def test_json_output_is_valid_and_escapes_what_a_terminal_obeys(value):
    from tui.output import dumps

    text = dumps({"v": value})
    assert json_escape(text) == text
    assert not any(0x7f <= ord(c) <= 0x9f or c in "\u202e\u2066\u2028" for c in text)
    decoded = json.loads(text)["v"]
    if not (isinstance(value, float) and not math.isfinite(value)):
        assert decoded == json.loads(json.dumps(value))


@FAST
@given(hostile_text)
def test_markup_is_shown_verbatim_by_textual(text):
    from textual.content import Content

    from tui.output import markup, plain

    assert Content.from_markup(markup(text, None)).plain == plain(text, None)


@FAST
@given(st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S")), min_size=8, max_size=24))
def test_every_form_of_a_registered_secret_is_scrubbed(secret):
    import base64
    from urllib.parse import quote

    from probes import redact

    text = f"a {secret} b {quote(secret, safe='')} c {base64.b64encode(secret.encode()).decode()} " \
           f"d {json.dumps(secret)}"
    out = redact.scrub(text, [secret])
    assert secret not in out and quote(secret, safe="") not in out
    assert base64.b64encode(secret.encode()).decode() not in out


@pytest.mark.parametrize("value", ["[link=http://x/]y", "[b]x[/b]", "\\[", "a\\", "[$var]"])
def test_markup_examples(value):
    from textual.content import Content

    from tui.output import markup

    assert Content.from_markup(markup(value)).plain == value
