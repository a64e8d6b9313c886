"""`llmwatch watch` as a user runs it: health-only config, state changes printed once, webhook
delivered, SIGTERM ends it cleanly. Uses the synthetic stack; no Prometheus configured."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from probes.synthetic import Stack

ROOT = Path(__file__).resolve().parents[1]


class Hook(BaseHTTPRequestHandler):
    got: "queue.Queue[dict]" = queue.Queue()

    def do_POST(self):  # noqa: N802
        Hook.got.put(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


def read_line(proc, lines: "queue.Queue[str]", timeout: float) -> str:
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        proc.kill()
        pytest.fail("watch printed nothing in time")


def test_watch_announces_changes_and_stops_on_sigterm(tmp_path):
    stack = Stack(services=["tinycode"], seed=7).start()
    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[[services]]\nname = "tinycode"\nurl = "{stack.health_url("tinycode")}"\n')
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "watch", "--config", str(cfg), "--every", "1s",
         "--failure-threshold", "2", "--success-threshold", "2",
         "--webhook", f"http://127.0.0.1:{hook.server_address[1]}/hooks/SECRET123"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "HOME": str(tmp_path)})
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l.rstrip("\n")) for l in proc.stdout], daemon=True).start()
    try:
        start = read_line(proc, lines, 20)
        assert "watching 5 checks: 5 OK" in start
        stack.control("tinycode", unhealthy=["redis"])
        t0 = time.monotonic()
        changes = {read_line(proc, lines, 15) for _ in range(2)}
        assert time.monotonic() - t0 >= 1.0  # two failures needed, one second apart
        assert any(l.endswith("tinycode OK -> CRITICAL: HTTP 503, redis: unhealthy") for l in changes), changes
        assert any("tinycode/redis OK -> CRITICAL" in l for l in changes), changes
        stack.control("tinycode", unhealthy=False)
        recovered = {read_line(proc, lines, 15) for _ in range(2)}
        assert any("tinycode CRITICAL -> OK" in l for l in recovered), recovered
        payloads = [Hook.got.get(timeout=10) for _ in range(4)]
        assert {(p["check"], p["to"]) for p in payloads} >= {("tinycode", "CRITICAL"), ("tinycode", "OK")}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        err = proc.stderr.read()
        assert "Traceback" not in err and "SECRET123" not in err
        assert lines.empty()  # nothing printed on polls without a change
    finally:
        if proc.poll() is None:
            proc.kill()
        hook.shutdown()
        stack.stop()
