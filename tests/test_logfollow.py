"""probes.logfollow.Follower: every new line exactly once across polls, pages and equal-ns bursts.

The "live" server is the Loki replay (its Loki query semantics: start inclusive, end exclusive,
limit over all streams, forward/backward) with lines appended to its store while we poll.
"""

from __future__ import annotations

from collections import Counter

import pytest

from probes.config import Endpoint
from probes.logfollow import Follower, entry_key
from probes.loki import LokiClient
from tests.harness.loki_replay import LokiReplay

T0 = 1_900_000_000_000_000_000
GW = {"job": "gw", "level": "info", "service_name": "gw"}
GW_ERR = {"job": "gw", "level": "error", "service_name": "gw"}
QUERY = '{job="gw"}'


class Live:
    """Append lines to a running LokiReplay's store (replacing whole lists: the server thread
    may be reading)."""

    def __init__(self, replay: LokiReplay) -> None:
        self.replay = replay
        self.now = T0

    def push(self, labels: dict[str, str], ns: int, line: str) -> None:
        store = self.replay.store
        key = "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
        old = store.streams.get(key, (labels, []))[1]
        store.streams = {**store.streams, key: (labels, sorted([*old, (ns, str(ns), line)]))}
        self.now = max(self.now, ns + 1)


@pytest.fixture
def live():
    with LokiReplay() as replay:
        yield Live(replay)


@pytest.fixture
async def client(live):
    c = LokiClient(Endpoint(live.replay.url, timeout=5))
    yield c
    await c.aclose()


def follower(client, live, **kw) -> Follower:
    kw.setdefault("now_ns", lambda: live.now)
    return Follower(client, QUERY, T0, **kw)


def assert_once(entries) -> None:
    dup = [k for k, n in Counter(entry_key(e) for e in entries).items() if n > 1]
    assert dup == []


async def test_new_lines_only_and_equal_ns_across_polls(live, client):
    f = follower(client, live, limit=100)
    live.push(GW, T0 + 10, "a")
    live.push(GW, T0 + 20, "b")
    got1 = await f.poll()
    assert [e.line for e in got1] == ["a", "b"] and f.error is None
    # same nanosecond as the last line seen, in the same and in another stream
    live.push(GW, T0 + 20, "b2")
    live.push(GW_ERR, T0 + 20, "b3")
    live.push(GW, T0 + 30, "c")
    got2 = await f.poll()
    assert sorted(e.line for e in got2) == ["b2", "b3", "c"]
    assert await f.poll() == []
    assert_once(got1 + got2)


async def test_pages_forward_until_a_short_page(live, client):
    f = follower(client, live, limit=7)
    lines = [(T0 + 1 + i // 3, f"line {i}") for i in range(100)]  # three lines per ns
    for ns, text in lines:
        live.push(GW if ns % 2 else GW_ERR, ns, text)
    got = await f.poll()
    assert_once(got)
    assert sorted(e.line for e in got) == sorted(t for _, t in lines)
    assert [e.ts_ns for e in got] == sorted(e.ts_ns for e in got)


async def test_burst_on_one_nanosecond_larger_than_limit(live, client):
    f = follower(client, live, limit=5, max_limit=64)
    for i in range(40):
        live.push(GW, T0 + 5, f"burst {i}")
    live.push(GW, T0 + 6, "after")
    got = await f.poll()
    assert_once(got)
    assert len(got) == 41 and got[-1].line == "after" and f.gaps == 0


async def test_seen_lines_are_not_repeated(live, client):
    live.push(GW, T0 + 1, "old")
    live.push(GW, T0 + 2, "shown")
    first = await client.query_range(QUERY, T0, T0 + 3, limit=10)
    f = follower(client, live, seen=first.entries)
    live.push(GW, T0 + 2, "same ns, new")
    got = await f.poll()
    assert [e.line for e in got] == ["same ns, new"]
    assert [e.line for e in f.buffer] == ["old", "shown", "same ns, new"]


async def test_buffer_is_bounded_and_reports_its_oldest_line(live, client):
    f = follower(client, live, buffer=10, limit=100)
    for i in range(25):
        live.push(GW, T0 + 100 + i, f"n{i}")
    got = await f.poll()
    assert len(got) == 25
    assert f.size == 10 and f.capacity == 10 and f.dropped == 15
    assert f.oldest_ns == T0 + 115 and f.buffer[-1].line == "n24"


async def test_server_down_is_an_error_not_an_exception(live):
    down = LokiClient(Endpoint("http://127.0.0.1:9", timeout=1))
    try:
        f = Follower(down, QUERY, T0)
        assert await f.poll() == []
        assert f.error is not None and "Loki at" in f.error.message
    finally:
        await down.aclose()


async def test_follow_over_the_recorded_lines_matches_one_big_query(loki):
    client = LokiClient(loki.endpoint)
    start, end = 1795321473000000000, 1795325080000000000
    try:
        whole = await client.query_range('{job=~".+"}', start, end, limit=5000, direction="forward")
        f = Follower(client, '{job=~".+"}', start, limit=4, now_ns=lambda: end)
        got = await f.poll()
        assert whole.ok and len(whole.entries) > 20
        assert sorted(map(entry_key, got)) == sorted(map(entry_key, whole.entries))
        assert_once(got)
    finally:
        await client.aclose()


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError):
        Follower(None, QUERY, T0, buffer=0)
