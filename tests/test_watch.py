"""Watch: announce changes after thresholds (Gatus semantics), not every poll; delivery never blocks."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from probes.checks import CheckResult, CheckRun
from probes.notify import Sink, exec_sink, payload, webhook_sink
from probes.status import Status
from probes.watch import Change, Watcher

OK, WARN, CRIT = Status.OK, Status.WARNING, Status.CRITICAL


def run_of(at: float, **statuses: Status) -> CheckRun:
    results = tuple(CheckResult(name, "health", st, f"{name} is {st.name}") for name, st in statuses.items())
    return CheckRun(results=results, duration_s=0.01, started_at=at, deadline_s=10)


def feed(w: Watcher, seq: list[Status]) -> list[list[Change]]:
    return [w.observe(run_of(1795000000 + i * 60, gw=s)) for i, s in enumerate(seq)]


def test_failure_needs_three_in_a_row_and_recovery_two():
    w = Watcher()
    out = feed(w, [OK, CRIT, CRIT, OK, CRIT, CRIT, CRIT, OK, CRIT, OK, OK])
    announced = [(i, c.before, c.after) for i, changes in enumerate(out) for c in changes]
    # the interrupted streak (1,2 then OK) is not announced; 4,5,6 is; recovery needs 7 + (8 broken) 9,10
    assert announced == [(6, OK, CRIT), (10, CRIT, OK)]


def test_thresholds_of_one_announce_every_change():
    w = Watcher(failure_threshold=1, success_threshold=1)
    out = feed(w, [OK, WARN, CRIT, OK])
    assert [(c.before, c.after) for changes in out for c in changes] == [(OK, WARN), (WARN, CRIT), (CRIT, OK)]


def test_initial_non_ok_is_reported_once_at_start():
    w = Watcher()
    first = w.observe(run_of(1795000000, gw=CRIT, db=OK))
    assert [(c.name, c.after, c.initial) for c in first] == [("gw", CRIT, True)]
    assert "gw CRITICAL (at start)" in first[0].line()
    assert all(not w.observe(run_of(1795000060 + i, gw=CRIT, db=OK)) for i in range(5))


def test_line_format_matches_issue():
    c = Change("api-gateway", "health", OK, CRIT, "HTTP 503 redis: disconnected", None, 1795323600.0)
    assert c.line() == "2026-11-22T05:00:00Z api-gateway OK -> CRITICAL: HTTP 503 redis: disconnected"


def test_new_and_vanishing_checks_start_and_end_ok():
    w = Watcher(failure_threshold=2, success_threshold=2)
    w.observe(run_of(0, gw=OK))
    assert w.observe(run_of(60, gw=OK, **{"alert:X": CRIT})) == []
    [c] = w.observe(run_of(120, gw=OK, **{"alert:X": CRIT}))
    assert (c.name, c.before, c.after) == ("alert:X", OK, CRIT)
    assert w.observe(run_of(180, gw=OK)) == []  # alert resolved: one OK so far
    [c] = w.observe(run_of(240, gw=OK))
    assert (c.name, c.after, c.summary) == ("alert:X", OK, "no longer reported")
    assert w.tracked == 1  # forgotten once resolved: memory stays flat


def test_status_line():
    w = Watcher()
    line = w.status_line(run_of(1795323600, a=OK, b=CRIT, c=OK))
    assert line == "2026-11-22T05:00:00Z watching 3 checks: 2 OK, 1 CRITICAL (b=CRITICAL)"


class Hook(BaseHTTPRequestHandler):
    fail_first = 0
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Hook.fail_first > 0:
            Hook.fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        Hook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture
def hook_server():
    Hook.received = []
    Hook.fail_first = 0
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/services/T000/B000/SECRETXYZ"
    srv.shutdown()


async def test_webhook_retries_and_keeps_order(hook_server):
    Hook.fail_first = 2
    logs: list[str] = []
    sink, client = webhook_sink(hook_server, host="h1", backoff_start=0.05, log=logs.append)
    task = asyncio.create_task(sink.run())
    changes = [Change("gw", "health", OK, CRIT, "down", None, 1795323600.0 + i) for i in range(3)]
    for c in changes:
        sink.put(c)
    for _ in range(100):
        if len(Hook.received) == 3:
            break
        await asyncio.sleep(0.05)
    task.cancel()
    await client.aclose()
    assert [r["timestamp_epoch"] for r in Hook.received] == [c.at for c in changes]
    assert [r["timestamp"] for r in Hook.received] == [f"2026-11-22T05:00:0{i}.000Z" for i in range(3)]
    assert Hook.received[0]["text"].startswith("[h1] 2026-11-22T05:00:00Z gw OK -> CRITICAL")
    assert len(logs) == 2 and all("SECRETXYZ" not in line for line in logs)


async def test_put_never_blocks_and_overflow_drops_oldest():
    gate = asyncio.Event()

    async def slow(change):
        await gate.wait()

    logs: list[str] = []
    sink = Sink("test", slow, max_queue=3, log=logs.append)
    t0 = time.monotonic()
    for i in range(5):
        sink.put(Change(f"c{i}", "health", OK, CRIT, "", None, float(i)))
    assert time.monotonic() - t0 < 0.05
    assert [c.name for c in sink.queue] == ["c2", "c3", "c4"] and sink.dropped == 2


async def test_exec_sink_gets_environment(tmp_path):
    out = tmp_path / "out.txt"
    sink = exec_sink(f'echo "$LLMWATCH_CHECK $LLMWATCH_FROM $LLMWATCH_TO" > {out}', host="h")
    await sink.deliver(Change("gw", "health", OK, CRIT, "x", 1.5, 0.0))
    assert out.read_text().strip() == "gw OK CRITICAL"
    failing = exec_sink("exit 4")
    with pytest.raises(RuntimeError, match="exited 4"):
        await failing.deliver(Change("gw", "health", OK, CRIT, "x", None, 0.0))


def test_payload_fields():
    p = payload(Change("gw", "health", CRIT, OK, "recovered", 12.0, 1.0), "host1")
    assert {"text", "check", "kind", "from", "to", "summary", "value", "timestamp", "host"} <= p.keys()
    assert (p["from"], p["to"]) == ("CRITICAL", "OK")
