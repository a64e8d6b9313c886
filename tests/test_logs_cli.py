"""`llmwatch logs` through the real entry point against the Loki replay (and, for answers the
replay never gives, a tiny server that sends one canned answer): output formats, follow,
errors as one line with exit 3."""

from __future__ import annotations

import json
import os
import pty
import queue
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.harness.loki_replay import LokiReplay

ROOT = Path(__file__).resolve().parents[1]
RUN = [sys.executable, "-c", "from tui.cli import main; main()", "logs"]
WINDOW = ["--from", "2026-11-22T04:00:00Z", "--to", "2026-11-22T05:30:00Z"]


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    env.update(extra)
    return env


def run(args, tmp_path, **env) -> subprocess.CompletedProcess:
    return subprocess.run([*RUN, *args], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env=env_for(tmp_path, **env))


def test_default_output_newest_first_with_labels(loki, tmp_path):
    p = run(['{job="api-gateway"}', "--loki-url", loki.url, *WINDOW, "--limit", "5"], tmp_path)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 5 and p.stderr == ""
    assert lines[0].startswith('2026-11-22T05:24:35.567+00:00 {job="api-gateway", level="error", '
                               'service_name="api-gateway"} {"timestamp"')
    stamps = [line.split(" ", 1)[0] for line in lines]
    assert stamps == sorted(stamps, reverse=True)


def test_forward_and_raw(loki, tmp_path):
    p = run(['{job="api-gateway"} |= "upstream error"', "--loki-url", loki.url, *WINDOW, "--limit", "3", "--forward",
             "-o", "raw"],
            tmp_path)
    assert p.returncode == 0, p.stderr
    docs = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(docs) == 3 and [d["timestamp"] for d in docs] == sorted(d["timestamp"] for d in docs)
    assert loki.last_request.params["direction"] == "forward"


def test_jsonl_has_exact_ns_and_rfc3339nano(loki, tmp_path):
    p = run(['{job=~".+"} |~ "not markup|\\\\x1b"', "--loki-url", loki.url, *WINDOW, "-o", "jsonl"], tmp_path)
    assert p.returncode == 0, p.stderr
    docs = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(docs) == 10 and "\x1b" not in p.stdout  # escaped as \u001b inside JSON strings
    assert any("\x1b[2J" in d["line"] for d in docs)  # ...and intact after parsing
    d = docs[0]
    assert d["ts"] == "2026-11-22T05:24:19.875483481Z" and d["ts_ns"] == "1795325059875483481"
    assert d["labels"] == {"job": "tinycode", "level": "error", "service_name": "tinycode"}


def test_raw_to_a_pipe_is_untouched_but_a_terminal_gets_clean_text(loki, tmp_path):
    args = ['{job=~".+"} |~ "not markup|\\\\x1b"', "--loki-url", loki.url, *WINDOW]
    piped = run([*args, "-o", "raw"], tmp_path)
    assert "\x1b[2J" in piped.stdout  # a pipe gets the bytes as stored (grep, jq)
    for output in ("raw", "default"):
        master, slave = pty.openpty()
        proc = subprocess.Popen([*RUN, *args, "-o", output], stdout=slave, stderr=subprocess.PIPE, cwd=ROOT,
                                env=env_for(tmp_path))
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=30)
        os.close(master)
        text = b"".join(chunks).decode()
        assert proc.returncode == 0
        assert "\x1b" not in text and "\x07" not in text, output
        assert "screen clear attempt" in text and "[bold red]not markup[/]" in text


def test_parse_error_is_one_line_exit_3(loki, tmp_path):
    p = run(['{job="api-gateway"', "--loki-url", loki.url, "--since", "1h"], tmp_path)
    assert p.returncode == 3 and p.stdout == ""
    assert p.stderr.strip().count("\n") == 0
    assert "parse error at line 1, col 19" in p.stderr and p.stderr.startswith("llmwatch: Loki at")


def test_loki_down_exit_3(tmp_path):
    p = run(['{job="x"}', "--loki-url", "http://127.0.0.1:9", "--timeout", "2s"], tmp_path)
    assert p.returncode == 3 and p.stderr.count("\n") == 1 and "Loki at http://127.0.0.1:9" in p.stderr
    assert "Traceback" not in p.stderr


def test_metric_query_is_refused(loki, tmp_path):
    p = run(['sum by (level) (count_over_time({job="api-gateway"}[1m]))', "--loki-url", loki.url], tmp_path)
    assert p.returncode == 3 and "metric query" in p.stderr


@pytest.mark.parametrize("args,needle", [
    (["--limit", "0"], "--limit"),
    (["--since", "soon"], "--since"),
    (["--from", "2026-11-22T06:00:00Z", "--to", "2026-11-22T05:00:00Z"], "--from"),
    (["--from", "yesterday"], "RFC3339"),
    (["-o", "yaml"], "--output"),
])
def test_bad_arguments_exit_3(args, needle, tmp_path):
    p = run(['{job="x"}', "--loki-url", "http://127.0.0.1:9", *args], tmp_path)
    assert p.returncode == 3 and needle in p.stderr and p.stderr.count("\n") == 1


def test_loki_env_vars_are_honoured(loki_requests, tmp_path):
    p = run(['{job="api-gateway"}', *WINDOW, "--limit", "1"], tmp_path, LOKI_ADDR=loki_requests.url,
            LOKI_ORG_ID="tenant-7")
    assert p.returncode == 0, p.stderr
    assert loki_requests.last_request.headers.get("x-scope-orgid") == "tenant-7"


class Canned:
    """One fixed answer for every request: for what no recording holds (HTML, a range limit)."""

    def __init__(self, status: int, ctype: str, body: bytes) -> None:
        answer = (status, ctype, body)

        class H(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self.send_response(answer[0])
                self.send_header("Content-Type", answer[1])
                self.send_header("Content-Length", str(len(answer[2])))
                self.end_headers()
                self.wfile.write(answer[2])

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("status,ctype,body,needle", [
    (502, "text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>", "expected JSON"),
    (400, "text/plain; charset=utf-8",
     b"the query time range exceeds the limit (query length: 2161h0m0s, limit: 721h0m0s)\n",
     "the query time range exceeds the limit"),
])
def test_html_and_range_limit_answers(status, ctype, body, needle, tmp_path):
    server = Canned(status, ctype, body)
    try:
        p = run(['{job="x"}', "--loki-url", server.url, "--since", "90d"], tmp_path)
    finally:
        server.close()
    assert p.returncode == 3 and needle in p.stderr and p.stderr.count("\n") == 1, p.stderr


def test_follow_prints_new_lines_once_and_ctrl_c_exits_0(tmp_path):
    with LokiReplay() as replay:
        labels = {"job": "live", "level": "info"}
        key = '{job="live", level="info"}'

        def push(text: str, ns: int | None = None) -> None:
            ns = ns or time.time_ns()
            old = replay.store.streams.get(key, (labels, []))[1]
            replay.store.streams = {**replay.store.streams, key: (labels, sorted([*old, (ns, str(ns), text)]))}

        first_ns = time.time_ns() - 5_000_000_000
        push("before", first_ns)
        proc = subprocess.Popen([*RUN, '{job="live"}', "--loki-url", replay.url, "--follow", "--interval", "200ms",
                                 "-o", "raw"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=ROOT, env=env_for(tmp_path))
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=lambda: [lines.put(x.strip()) for x in proc.stdout], daemon=True)
        reader.start()
        try:
            assert lines.get(timeout=15) == "before"
            push("same ns as before", first_ns)
            for i in range(3):
                push(f"new {i}")
            got = [lines.get(timeout=10) for _ in range(4)]
            assert sorted(got) == ["new 0", "new 1", "new 2", "same ns as before"]
            time.sleep(0.6)  # a few more polls: nothing is printed twice
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=10)
            reader.join(timeout=5)
            err = proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        assert lines.empty() and "Traceback" not in err
