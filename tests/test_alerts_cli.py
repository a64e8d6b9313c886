"""`llmwatch alerts` as a user meets it without servers: help, bad arguments, unreachable or wrong
servers, read-only refusals. Each failure is one line on stderr and a defined exit code.
(The real Prometheus/Alertmanager scenarios are in test_alerts_integration.py.)"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, home: Path, timeout: float = 30) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMWATCH_", "LOKI_"))}
    env.update(HOME=str(home), NO_COLOR="1", USER="tester")
    env.pop("XDG_CONFIG_HOME", None)
    out = subprocess.run([sys.executable, "-m", "tui.cli", "alerts", *args], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=timeout)
    assert "Traceback" not in out.stderr, out.stderr
    return out


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def html_server():
    """A server that answers every request with an HTML login page (a proxy in the way)."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!DOCTYPE html><html><body>Please log in</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_DELETE = do_GET

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_help_states_exit_codes_json_and_subcommands(tmp_path):
    out = run("--help", home=tmp_path)
    flat = " ".join(out.stdout.split())
    assert out.returncode == 0
    assert "0 nothing firing; 2 a critical-severity alert is firing; 1 another alert is firing" in flat
    assert "am_state" in flat and "rule_problems[]" in flat and "silenced_by[]" in flat
    assert "silence" in flat and "expire" in flat
    out = run("silence", "--help", home=tmp_path)
    assert out.returncode == 0 and "--comment" in out.stdout and "--duration" in out.stdout


def test_unreachable_sources_exit_3_text_and_json(tmp_path):
    prom, am = closed_port_url(), closed_port_url()
    out = run("--prometheus-url", prom, "--alertmanager-url", am, home=tmp_path)
    assert out.returncode == 3, out
    lines = out.stdout.splitlines()
    assert lines[0] == "ALERTS UNKNOWN - 0 firing, 0 pending, Prometheus and Alertmanager unreachable"
    assert any(line.startswith("error    prometheus: Prometheus at ") and "refused" in line for line in lines)
    out = run("--prometheus-url", prom, "--alertmanager-url", am, "--format", "json", home=tmp_path)
    doc = json.loads(out.stdout)
    assert out.returncode == 3 and doc["exit_code"] == 3 and doc["status"] == "UNKNOWN"
    assert doc["sources"]["prometheus"]["ok"] is False and "refused" in doc["sources"]["prometheus"]["error"]
    assert doc["alerts"] == [] and "silences" not in doc


def test_html_instead_of_json_is_one_line_unknown(tmp_path, html_server):
    out = run("--prometheus-url", html_server, "--format", "json", home=tmp_path)
    doc = json.loads(out.stdout)
    assert out.returncode == 3
    assert doc["sources"]["alertmanager"]["used"] is False  # not configured: not asked
    assert "expected JSON" in doc["errors"]["prometheus"] and "html" in doc["errors"]["prometheus"].lower()
    out = run("silence", "--alertmanager-url", html_server, "alertname=X", "-c", "why", home=tmp_path)
    assert out.returncode == 3 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and "expected JSON" in out.stderr


def test_timeout_is_kept(tmp_path):
    """A server that accepts and never answers: the deadline holds and the answer is UNKNOWN."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    try:
        url = f"http://127.0.0.1:{srv.getsockname()[1]}"
        import time
        t0 = time.monotonic()
        out = run("--prometheus-url", url, "--timeout", "1s", home=tmp_path)
        took = time.monotonic() - t0
        assert out.returncode == 3 and "1s" in out.stdout, out.stdout
        assert took < 1 + 2.5, took  # deadline plus interpreter start
    finally:
        srv.close()


@pytest.mark.parametrize("args, needle", [
    (("silence", "alertname=X"), "needs a comment"),
    (("silence", "alertname=X", "-c", " "), "needs a comment"),
    (("silence", "alertname=X", "job=~(", "-c", "why"), "error parsing regexp"),  # first arg: an alert name
    (("silence", "alertname=X", "-c", "why", "-d", "two hours"), "bad duration"),
    (("silence", "alertname=X", "-c", "why", "-d", "0s"), "positive"),
    (("--state", "resolved"), "use firing or pending"),
    (("--timeout", "soon"), "bad duration"),
    (("silence",), "Missing argument"),
    (("expire",), "Missing argument"),
])
def test_bad_arguments_exit_3_one_line(tmp_path, args, needle):
    out = run(*args, "--alertmanager-url", closed_port_url(), home=tmp_path)
    assert out.returncode == 3, out
    assert out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and needle in out.stderr, out.stderr


def test_readonly_refuses_before_any_request(tmp_path, html_server):
    # The HTML server would turn any request into an "expected JSON" error: refusal must come first.
    for args in (("--readonly", "silence", "alertname=X", "-c", "why"),
                 ("silence", "--readonly", "alertname=X", "-c", "why"),
                 ("expire", "--readonly", "0f0c0a0e-0000-4000-8000-000000000000")):
        out = run(*args, "--alertmanager-url", html_server, home=tmp_path)
        assert out.returncode == 3 and out.stdout == ""
        assert out.stderr.startswith("llmwatch: read-only session: not ") and "expected JSON" not in out.stderr
    cfg = tmp_path / "ro.toml"
    cfg.write_text(f'[alertmanager]\nurl = "{html_server}"\n[dashboard]\nreadonly = true\n')
    out = run("silence", "--config", str(cfg), "alertname=X", "-c", "why", home=tmp_path)
    assert out.returncode == 3 and "read-only session" in out.stderr


def test_alerts_command_does_not_import_textual(tmp_path):
    code = ("import atexit, json, sys\n"
            "atexit.register(lambda: print('MODULES ' + json.dumps(sorted(sys.modules))))\n"
            f"sys.argv = ['llmwatch', 'alerts', '--prometheus-url', {closed_port_url()!r}, '--format', 'json']\n"
            "from tui.cli import main\nmain()\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                         env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    mods = json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("MODULES ")][-1][8:])
    assert not [m for m in mods if m.split(".")[0] == "textual"]
