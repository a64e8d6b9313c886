"""Every command and every output format against a hostile server, through the installed console
script in a pseudo-terminal: the raw bytes written must hold no injected sequence.

The server (tests/harness/hostile.py) plays Prometheus, Alertmanager, Loki and the health
endpoints at once; every string it sends carries OSC 0/8/52, CSI, DSR, C1 controls, bidi
overrides, Rich markup and a 20 kB line. Report files are checked the same way, and the JSON
formats must still parse. The dashboard runs in Pilot (every segment on screen) and once in a
real pty.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.harness.hostile import MARKUP, PAYLOAD, HostileServer
from tests.harness.terminal import clean_env, injected, run_pty

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def hostile():
    with HostileServer(PAYLOAD) as server:
        yield server


@pytest.fixture(scope="module")
def home(tmp_path_factory, hostile) -> Path:
    home = tmp_path_factory.mktemp("home")
    u = hostile.url
    (home / "llmwatch.toml").write_text(f"""
[prometheus]
url = "{u}"
[alertmanager]
url = "{u}"
[loki]
url = "{u}"
[[services]]
name = "text-body"
url = "{u}/health"
[[services]]
name = "json-body"
url = "{u}/health-json"
[[rules]]
name = "failing-rule"
promql = "hostile_error"
""")
    return home


def llmwatch(home: Path, *args: str, timeout: float = 60, **kw):
    return run_pty(["--config", str(home / "llmwatch.toml"), *args], clean_env(home), timeout=timeout, **kw)


COMMANDS = {
    "check text": ["check"],
    "check nagios": ["check", "--format", "nagios"],
    "check json": ["check", "--format", "json"],
    "check prom": ["check", "--format", "prom"],
    "check --url": ["check", "--url", "{url}/health", "--only", "{url}*"],
    "alerts text": ["alerts", "--silences"],
    "alerts json": ["alerts", "--silences", "--format", "json"],
    "alerts silence": ["alerts", "silence", "alertname=x", "--comment", "deploying"],
    "alerts expire": ["alerts", "expire", "some-id"],
    "logs default": ["logs", '{job="x"}'],
    "logs raw": ["logs", '{job="x"}', "-o", "raw"],
    "logs jsonl": ["logs", '{job="x"}', "-o", "jsonl"],
    "doctor text": ["doctor"],
    "doctor json": ["doctor", "--format", "json"],
    "doctor scrape": ["doctor", "--scrape", "{url}/metrics", "--scrape-wait", "1s"],
    "check scrape": ["check", "--scrape", "{url}/metrics", "--scrape-wait", "1s"],
    "config text": ["config"],
    "config json": ["config", "--format", "json"],
    "snapshot dashboard text": ["snapshot", "--format", "text", "--timeout", "10s"],
    "snapshot alerts text": ["snapshot", "--screen", "alerts", "--format", "text", "--timeout", "10s"],
    "snapshot logs text": ["snapshot", "--screen", "logs", "--format", "text", "--timeout", "10s"],
    "unknown command echoes the argument": ["\x1b]0;pwned-title\x07"],
    "bad option value echoes it": ["check", "--timeout", "\x1b]52;c;cHduZWQ=\x07"],
}


@pytest.mark.parametrize("name", COMMANDS)
def test_no_injected_sequence_reaches_the_terminal(name, hostile, home):
    args = [a.replace("{url}", hostile.url) for a in COMMANDS[name]]
    run = llmwatch(home, *args)
    assert run.code is not None, f"{name}: did not finish within its deadline"
    assert run.code in (0, 1, 2, 3), (name, run.code)
    assert injected(run.out) == [], (name, run.text[:3000])
    assert b"Traceback" not in run.out, run.text[-3000:]
    if name.endswith("json") and name != "config json":
        text = run.text.replace("\r\n", "\n")
        docs = [json.loads(line) for line in text.splitlines() if line.strip()] if "jsonl" in name \
            else [json.loads(text[text.index("{"):])]
        assert docs, name


def test_markup_from_a_server_is_shown_not_obeyed(hostile, home):
    run = llmwatch(home, "alerts", "--silences")
    assert MARKUP.split("MARKUP")[0] in run.text  # "[bold red]" printed as text


@pytest.mark.parametrize("fmt, suffix", [("prom", ".prom"), ("json", ".json"), ("nagios", ".txt"),
                                         ("text", ".txt")])
def test_report_files_hold_no_injected_sequence(fmt, suffix, hostile, home, tmp_path):
    out = tmp_path / f"report{suffix}"
    run = llmwatch(home, "check", "--format", fmt, "--output", str(out))
    assert run.code in (1, 2, 3) and out.exists()
    data = out.read_bytes()
    assert injected(data) == [] and b"\x1b" not in data
    if fmt == "json":
        json.loads(data)


def test_snapshot_svg_file_is_clean(hostile, home, tmp_path):
    out = tmp_path / "now.svg"
    run = llmwatch(home, "snapshot", "--output", str(out), "--timeout", "10s")
    assert run.code in (0, 1), run.text[-2000:]
    data = out.read_bytes()
    assert injected(data) == [] and b"\x1b" not in data and b"evil.example" not in data


def test_watch_lines_and_webhook_failures_are_clean(hostile, home):
    """watch prints a status line with job labels and alert names; the webhook is down (its
    errors go to stderr) and --exec fails with the server's text on its stderr."""
    run = llmwatch(home, "watch", "--every", "1s", "--failure-threshold", "1", "--webhook",
                   f"{hostile.url}/hooks/T0/SECRETSEGMENT", "--exec", "cat /dev/null; echo \"$LLMWATCH_SUMMARY\" >&2; false",
                   timeout=30, until=lambda out: out.count(b"retrying in") >= 2 and out.count(b"--exec") >= 1)
    assert run.code == 0, run.text[-2000:]
    assert b"watching" in run.out and b"delivery failed" in run.out
    assert injected(run.out) == [], run.text[-3000:]
    assert b"SECRETSEGMENT" not in run.out


def test_dashboard_in_a_real_pty(hostile, home):
    run = llmwatch(home, "--refresh", "1s", timeout=40, keys=[(6.0, b"a"), (9.0, b"\x1b"), (10.5, b"q")])
    assert run.code == 0, run.text[-3000:]
    assert b"MARKUP" in run.out  # the hostile strings were on screen, as text
    assert injected(run.out, tui=True) == [], run.text[-3000:]
    assert b"Traceback" not in run.out
