"""Direct scrape: one bad sample costs that sample, one bad target costs that target, never the round.

Real HTTP exporter pages on loopback (a stdlib server; the bodies are what exporters really send:
an OpenMetrics page whose float timestamp is far beyond int64 milliseconds, a text page from an
exporter that multiplied seconds into nanoseconds twice). The round must store every good sample,
count each bad one as a bad line, and still prune, count the round and set the first-scrape flag.
"""

from __future__ import annotations

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from probes.scrape import ScrapeClient

NOW = int(time.time())
PAGES = {
    "/om": ("application/openmetrics-text; version=1.0.0; charset=utf-8",
            "# TYPE good gauge\n"
            f"good 1 {NOW}.250\n"
            "# TYPE far gauge\n"
            "far 2 1e300\n"                                  # 1e303 ms: no int64 holds it
            f"far_ok 3 {NOW}.5\n"
            "# EOF\n"),
    "/text": ("text/plain; version=0.0.4",
              "# TYPE ns_stamp gauge\n"
              f"ns_stamp 4 {NOW}000000000000000\n"            # ms x 10^15: beyond int64
              "plain 5\n"),
}


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        ctype, body = PAGES.get(self.path, ("text/plain", "missing 1\n"))
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def exporter():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run(coro):
    return asyncio.new_event_loop().run_until_complete(coro)


def names(client: ScrapeClient) -> set[str]:
    return {s.labels["__name__"] for s in client.store}


def test_a_timestamp_beyond_int64_costs_that_sample_only(exporter):
    async def go():
        async with ScrapeClient([("om", f"{exporter}/om"), ("text", f"{exporter}/text")], interval=5) as c:
            await c.scrape_once()
            await c.scrape_once()
            return c, c.stats(), await c.targets()

    client, stats, targets = run(go())
    assert client.scrapes == 2 and client.first_scrape.is_set() and client.loop_error == ""
    assert {t.job: t.health for t in targets.value} == {"om": "up", "text": "up"}
    assert {"good", "far_ok", "plain", "up"} <= names(client)
    assert not {"far", "ns_stamp"} & names(client)
    by_job = {t["job"]: t for t in stats["targets"].values()}
    assert by_job["om"]["malformed"] == 1 and "timestamp out of range" in by_job["om"]["problems"][0]
    assert by_job["text"]["malformed"] == 1 and "timestamp out of range" in by_job["text"]["problems"][0]
    good = next(s for s in client.store if s.labels["__name__"] == "good")
    assert list(good.ts) == [NOW * 1000 + 250]  # the page's own time, truncated to ms like Prometheus


def test_a_target_that_fails_inside_the_round_never_stops_the_others(exporter, monkeypatch):
    """Fault injection: the store raises for one target (as the int64 overflow once did). The
    round must still scrape the other target, prune the retention, count and flag the round."""
    async def go():
        async with ScrapeClient([("om", f"{exporter}/om"), ("text", f"{exporter}/text")], interval=5,
                                retention=60) as c:
            old = c.store.add({"__name__": "ancient", "job": "x", "instance": "y"}, (NOW - 3600) * 1000, 1.0)
            real = c.store.ingest

            def ingest(job, *args, **kwargs):
                if job == "om":
                    raise OverflowError("Python int too large to convert to C long")
                return real(job, *args, **kwargs)

            monkeypatch.setattr(c.store, "ingest", ingest)
            await c.scrape_once()
            return c, old, await c.targets(), await c.ready()

    client, old, targets, ready = run(go())
    health = {t.job: (t.health, t.last_error) for t in targets.value}
    assert health["text"] == ("up", "")
    assert health["om"][0] == "down" and "OverflowError" in health["om"][1]
    assert "plain" in names(client) and "ancient" not in names(client) and not old.ts  # pruned
    assert client.scrapes == 1 and client.first_scrape.is_set() and ready.ok
    up = {s.labels["job"]: s.vals[-1] for s in client.store if s.labels["__name__"] == "up"}
    assert up == {"om": 0.0, "text": 1.0}
