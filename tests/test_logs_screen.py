"""LogsScreen driven by Pilot against the Loki replay: lines, filters, level toggles, expand,
follow, hostile and huge lines, errors on screen, plus a snapshot at 120x36 with a fixed clock."""

from __future__ import annotations

import asyncio
import time

import pytest
from textual.app import App

from probes.config import Config, Endpoint
from probes.logql import LogRequest
from probes.loki import LokiClient
from tests.harness.loki_replay import LokiReplay
from tui.appctx import AppContext
from tui.screens.logs import ExpandedLine, LogsScreen
from tui.widgets.log_lines import LogLines
from tui.widgets.log_volume import LogVolume

pytestmark = pytest.mark.tui

START, END = 1795321473.0, 1795325080.0  # the recorded fixtures' hour
SIZE = (120, 36)


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


class LogsApp(App):
    def __init__(self, ctx: AppContext, request: LogRequest, **kw) -> None:
        super().__init__()
        self.ctx, self.request, self.kw = ctx, request, kw

    def on_mount(self) -> None:
        self.push_screen(LogsScreen(self.ctx, self.request, **self.kw))


def make_app(url: str | None, selector: str = '{job=~".+"}', clock: float = END, **req) -> LogsApp:
    client = LokiClient(Endpoint(url, timeout=3)) if url else None
    ctx = AppContext(Config(), loki=client, clock=lambda: clock)
    request = LogRequest(selector, start=req.pop("start", START), end=req.pop("end", END), **req)
    return LogsApp(ctx, request)


async def settle(pilot) -> LogsScreen:
    screen = pilot.app.screen
    while not isinstance(screen, LogsScreen):
        await pilot.pause()
        screen = pilot.app.screen
    assert await screen.wait_loaded(10)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen


async def press_and_settle(pilot, *keys) -> LogsScreen:
    await pilot.press(*keys)
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return pilot.app.screen


async def expected(url: str, query: str) -> list:
    async with LokiClient(Endpoint(url)) as client:
        r = await client.query_range(query, int(START * 1e9), int(END * 1e9), limit=1000)
    assert r.ok, r.error
    return list(r.entries)


async def test_lines_newest_first_with_volume_and_status(loki_requests):
    loki = loki_requests
    async with make_app(loki.url).run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        lines = screen.query_one(LogLines)
        want = await expected(loki.url, '{job=~".+"}')
        assert lines.count == len(want) > 20
        assert [lines.entry_at(i).ts_ns for i in range(lines.count)] == [e.ts_ns for e in want]
        rows = lines.visible_text()
        assert rows[0].startswith("05:24:35.567 ERR api-gateway") and "upstream error timestamp=" in rows[0]
        assert str(screen.query_one("#logs-status").render()).startswith(f"{len(want)} lines")
        assert screen.query_one(LogVolume).totals == {"error": 761.0, "info": 350.0}  # recorded matrix
        volume = [r.params for r in loki.requests if r.params.get("query", "").startswith("sum by (level)")]
        assert volume and volume[0]["query"].startswith('sum by (level) (count_over_time({job=~".+"} [')
        assert int(volume[0]["step"]) * SIZE[0] >= END - START  # about one bucket per column


async def test_hostile_lines_render_as_plain_text(loki):
    app = make_app(loki.url, regex="not markup|\\x1b")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        lines = screen.query_one(LogLines)
        assert lines.count == 10
        rendered = [lines.render_line(y) for y in range(lines.count)]
        text = ["".join(seg.text for seg in strip) for strip in rendered]
        joined = "\n".join(text)
        assert "\x1b" not in joined and "\x07" not in joined
        assert "[bold red]not markup[/] and [link=http://evil.example]click[/link]" in joined
        assert "screen clear attempt" in joined and "title change" in joined and "red alert" in joined
        assert all(seg.style is None or seg.style.link is None for strip in rendered for seg in strip)
        assert "evil.example" not in "".join(str(s.style) for strip in rendered for s in strip)


async def test_text_regex_filters_are_pushed_down(loki_requests):
    async with make_app(loki_requests.url).run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        await pilot.press("slash", *"upstream", "enter")
        screen = await press_and_settle(pilot)
        assert screen.current_query() == '{job=~".+"} |= "upstream"'
        sent = [r.params["query"] for r in loki_requests.requests if r.path.endswith("query_range")]
        assert '{job=~".+"} |= "upstream"' in sent
        lines = screen.query_one(LogLines)
        assert lines.count > 0 and all("upstream" in lines.entry_at(i).line for i in range(lines.count))
        await pilot.press("tilde", *"phi2|claude", "enter")
        screen = await press_and_settle(pilot)
        assert screen.current_query() == '{job=~".+"} |= "upstream" |~ "phi2|claude"'
        lines = screen.query_one(LogLines)
        assert lines.count > 0
        assert all(("phi2" in e.line or "claude" in e.line) for e in map(lines.entry_at, range(lines.count)))
        assert '~ regex "phi2|claude"' in str(screen.query_one("#logs-filters").render())


async def test_level_toggles(loki):
    async with make_app(loki.url, selector='{job="api-gateway"}').run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        before = screen.query_one(LogLines).count
        screen = await press_and_settle(pilot, "1")  # hide errors
        assert "level=~" in screen.current_query() and "error" not in screen.current_query()
        lines = screen.query_one(LogLines)
        assert 0 < lines.count < before
        assert all(lines.entry_at(i).labels["level"] != "error" for i in range(lines.count))
        assert not any(" ERR " in row for row in lines.visible_text())
        assert "○error" in str(screen.query_one("#logs-filters").render())
        screen = await press_and_settle(pilot, "1")
        assert screen.current_query() == '{job="api-gateway"}' and screen.query_one(LogLines).count == before


async def test_enter_expands_pretty_json_and_escape_goes_back(loki):
    async with make_app(loki.url).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await pilot.pause()
        modal = pilot.app.screen
        assert isinstance(modal, ExpandedLine)
        body = str(modal.query_one("#expanded-line").render())
        assert '\n  "message": "Request failed",\n' in body  # second-newest line: tinycode
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(pilot.app.screen, LogsScreen)
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, LogsScreen)


async def test_long_line_is_cut_with_a_marker_and_follow_adds_lines():
    with LokiReplay() as replay:
        labels = {"job": "live", "level": "info"}
        key = '{job="live", level="info"}'

        def push(text: str) -> None:
            ns = time.time_ns()
            old = replay.store.streams.get(key, (labels, []))[1]
            replay.store.streams = {**replay.store.streams, key: (labels, sorted([*old, (ns, str(ns), text)]))}

        push("x" * 40_000)
        now = time.time()
        client = LokiClient(Endpoint(replay.url, timeout=3))
        ctx = AppContext(Config(), loki=client, clock=time.time)
        app = LogsApp(ctx, LogRequest('{job="live"}', start=now - 60), follow_interval=0.1, follow_buffer=50)
        async with app.run_test(size=SIZE) as pilot:
            screen = await settle(pilot)
            lines = screen.query_one(LogLines)
            assert lines.count == 1
            row = lines.visible_text()[0]
            assert row.rstrip().endswith("… [+20 kB]") and len(row) <= SIZE[0]
            await pilot.press("f")
            for i in range(60):
                push(f"live line {i}")
            for _ in range(100):
                await asyncio.sleep(0.05)
                if lines.count >= 50 and lines.entry_at(0).line == "live line 59":
                    break
            assert lines.count == 50  # bounded by the follow buffer, the 20 kB line dropped first
            seen = [lines.entry_at(i).line for i in range(lines.count)]
            assert seen == [f"live line {i}" for i in range(59, 9, -1)]
            await pilot.pause()
            status = str(screen.query_one("#logs-status").render())
            assert status.startswith("50/50 lines, since ")
            assert "following" in str(screen.query_one("#logs-header").render())


async def test_loki_down_parse_error_and_not_configured_are_messages(loki):
    async with make_app("http://127.0.0.1:9").run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        message = str(screen.query_one("#logs-message").render())
        assert "Loki at http://127.0.0.1:9" in message and screen.loaded
        assert screen.query_one(LogLines).has_class("-hidden")
    async with make_app(loki.url).run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        await pilot.press("e", "backspace", "enter")  # drop the closing brace
        screen = await press_and_settle(pilot)
        assert screen.base_query == '{job=~".+"'
        assert "parse error" in str(screen.query_one("#logs-message").render())
    async with make_app(None).run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        assert "Loki not configured" in str(screen.query_one("#logs-message").render())
        assert "LOKI_ADDR" in str(screen.query_one("#logs-message").render())


async def test_five_thousand_lines_render_fast(loki):
    from probes.loki import LogEntry

    entries = [LogEntry(1795325000000000000 - i * 1000, f'{{"level":"info","message":"m{i}","n":{i}}}', {"job": "j"})
               for i in range(5000)]
    async with make_app(loki.url).run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        lines = screen.query_one(LogLines)
        t0 = time.perf_counter()
        lines.set_entries(entries)
        await pilot.pause()
        await pilot.press("end")
        await pilot.pause()
        elapsed = time.perf_counter() - t0
        assert lines.count == 5000 and lines.selected.line.startswith('{"level":"info","message":"m4999"')
        assert len(lines._shown) < 200  # only rows that were on screen were formatted
        assert elapsed < 1.0


def test_snapshot_120x36(loki, snap_compare):
    async def run_before(pilot) -> None:
        await settle(pilot)

    assert snap_compare(make_app(loki.url, title="alert GatewayHighErrorRate", selector='{job="api-gateway"}'),
                        terminal_size=SIZE, run_before=run_before)


async def test_follow_on_a_past_window_slides_it_to_now(loki):
    later = END + 7200
    async with make_app(loki.url, clock=later).run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        assert screen.query_one(LogLines).count > 0
        screen = await press_and_settle(pilot, "f")
        assert screen._window == (later - (END - START), later) and screen.follower is not None
        assert screen.query_one(LogLines).count == 0  # the recordings end two hours before "now"
        assert "following" in str(screen.query_one("#logs-header").render())
        screen = await press_and_settle(pilot, "f")
        assert screen.follower is None and "follow off" in str(screen.query_one("#logs-filters").render())
