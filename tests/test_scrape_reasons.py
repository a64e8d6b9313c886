"""Direct-scrape mode says why: a failed scrape's reason (refused, HTTP 401, timeout), how many
lines did not parse, and the series cap, on the dashboard (the targets stat and the header), in
`check` and in `doctor --scrape`; before, only "0/1" showed.
"""

from __future__ import annotations

import subprocess
from http.server import BaseHTTPRequestHandler

import pytest

from probes.config import Config
from probes.dashboard_fetch import Meta, load_instant
from probes.detect import Detection
from probes.scrape import ScrapeClient
from tests.harness.hostile import HostileServer
from tests.harness.terminal import LLMWATCH, ROOT, clean_env

PAGE = "# TYPE a gauge\n" + "".join(f'a{{i="{i}"}} {i}\n' for i in range(20)) + "this is not a sample\nb{ 1\n"


@pytest.fixture
def pages():
    with HostileServer("x") as server:
        server.shapes = {}
        server.answer = _answer(server.answer)
        yield server


def _answer(original):
    def answer(handler: BaseHTTPRequestHandler, method, path, params):
        if path == "/ok/metrics":
            return 200, "text/plain; version=0.0.4", PAGE.encode()
        if path == "/auth/metrics":
            return 401, "text/plain", b"unauthorized"
        return original(handler, method, path, params)
    return answer


async def test_targets_carry_parse_errors_and_the_series_cap(pages):
    client = ScrapeClient([("ok", f"{pages.url}/ok/metrics"), ("auth", f"{pages.url}/auth/metrics"),
                           ("dead", "http://127.0.0.1:9/metrics")], interval=5, max_series=10)
    try:
        await client.scrape_once()
        targets = {t.job: t for t in (await client.targets()).value}
    finally:
        await client.aclose()
    assert targets["ok"].health == "up"
    assert "2 lines could not be parsed (first: line 22" in targets["ok"].why
    assert "series cap 10 reached:" in targets["ok"].why
    assert targets["auth"].why == "server returned HTTP status 401"
    assert "connection refused" in targets["dead"].why


async def test_the_dashboard_targets_stat_says_why(pages):
    client = ScrapeClient([("ok", f"{pages.url}/ok/metrics"), ("dead", "http://127.0.0.1:9/metrics")], interval=5)
    try:
        await client.scrape_once()
        inst = await load_instant(client, Meta(Detection(())), Config(), 2.0)
    finally:
        await client.aclose()
    stat = next(s for s in inst.stats if s.key == "targets")
    assert stat.text == "1/2" and stat.detail.startswith("dead: connection refused")
    assert any("could not be parsed" in note for note in inst.target_notes)


def test_check_and_doctor_show_the_reasons(pages, tmp_path):
    env = clean_env(tmp_path)
    args = ["--scrape", f"ok={pages.url}/ok/metrics", "--scrape", f"auth={pages.url}/auth/metrics",
            "--scrape-wait", "1s"]
    check = subprocess.run([LLMWATCH, "check", *args], capture_output=True, text=True, env=env, timeout=60, cwd=ROOT)
    assert "target:auth: 1 of 1 targets down" in check.stdout and "HTTP status 401" in check.stdout
    assert "target:ok: 1/1 up; 2 lines could not be parsed" in check.stdout
    doctor = subprocess.run([LLMWATCH, "doctor", *args], capture_output=True, text=True, env=env, timeout=60, cwd=ROOT)
    assert doctor.returncode == 0, doctor.stderr
    assert "server returned HTTP status 401" in doctor.stdout and "2 lines could not be parsed" in doctor.stdout


def test_a_reached_series_cap_is_a_warning_in_check():
    from probes.check_plan import target_results
    from probes.promtypes import Target
    from probes.status import Status

    capped = Target({"job": "vllm"}, "http://x/metrics", "up", "", None, problems=("series cap 5000 reached: 3 new "
                                                                                  "series not kept",))
    (result,) = target_results([capped])
    assert result.status is Status.WARNING and "series cap 5000 reached" in result.summary
