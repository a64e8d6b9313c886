"""The Textual app against the hostile server, driven with Pilot: every segment on every screen.

Textual writes through its own driver (not the guarded stdout), so what reaches the terminal is
exactly the segments the screens render. Each must be free of escape, control, C1 and bidi
characters, none may carry a hyperlink (what `[link=...]` markup would make), and the markup in
the server's strings must be on screen as text.
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from rich.console import Console

from probes.config import load_config
from tests.harness.hostile import PAYLOAD, SEQUENCES, HostileServer

pytestmark = [pytest.mark.tui, pytest.mark.timeout(120)]

_BAD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def segments_problems(app) -> tuple[list[str], str]:
    """(problems found in the rendered screen's segments, the screen's plain text)."""
    width, height = app.size
    console = Console(width=width, height=height, legacy_windows=False, force_terminal=True, color_system="truecolor")
    update = app.screen._compositor.render_update(full=True)
    problems, text = [], []
    for seg in console.render(update):
        if seg.control:
            continue
        text.append(seg.text)
        if _BAD.search(seg.text):
            problems.append(f"control or bidi character in {seg.text[:60]!r}")
        if seg.style is not None and seg.style.link:
            problems.append(f"hyperlink {seg.style.link!r} on {seg.text[:40]!r}")
    return problems, "".join(text)


async def until(predicate, timeout: float = 15.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        await asyncio.sleep(0.1)
    return bool(predicate())


@pytest.fixture
def app_on_hostile(tmp_path):
    from tui.app import LlmwatchApp
    from tui.cmd_dashboard import make_context

    with HostileServer(PAYLOAD) as server:
        u = server.url
        path = tmp_path / "c.toml"
        path.write_text(f'[prometheus]\nurl = "{u}"\n[alertmanager]\nurl = "{u}"\n[loki]\nurl = "{u}"\n'
                        f'[dashboard]\nrefresh = "1s"\n[[services]]\nname = "svc"\nurl = "{u}/health"\n'
                        f'[[services]]\nname = "json"\nurl = "{u}/health-json"\n')
        cfg = load_config(path, env={})
        yield LlmwatchApp(make_context(cfg)), server


async def test_every_screen_renders_hostile_strings_as_inert_text(app_on_hostile):
    app, server = app_on_hostile
    async with app.run_test(size=(160, 48)) as pilot:
        dash = app.get_screen("dashboard")
        assert await dash.wait_loaded(20)
        assert await until(lambda: dash.panels["alerts"].data is not None and dash.panels["health"].data)
        await pilot.pause(0.3)
        seen = {}
        for step, keys in (("dashboard", ()), ("zoom", ("tab", "enter")), ("back", ("escape",)),
                           ("alerts", ("a",)), ("silences", ("s",)), ("logs", ("escape", "escape", "l"))):
            for key in keys:
                await pilot.press(key)
                await pilot.pause(0.2)
            waiter = getattr(app.screen, "wait_loaded", None)
            if waiter is not None and step in ("alerts", "logs"):
                await waiter(10)
            await pilot.pause(0.5)
            problems, text = segments_problems(app)
            seen[step] = text
            assert problems == [], (step, problems[:5])
        assert "[bold red]MARKUP" in seen["dashboard"]  # shown as text, not obeyed
        assert "MARKUP" in seen["alerts"] and "MARKUP" in seen["logs"]


async def test_a_toast_with_a_server_error_is_inert(app_on_hostile):
    """A source going down toasts its error and puts it in the panels' border subtitles: both
    parse markup, so the server's text must arrive escaped (a link first, where it is not cut)."""
    app, server = app_on_hostile
    error = "[link=http://evil.example/]x[/link][b]B[/b]" + SEQUENCES
    async with app.run_test(size=(160, 48)) as pilot:
        dash = app.get_screen("dashboard")
        assert await dash.wait_loaded(20)
        for path in ("/api/v1/query", "/api/v1/query_range", "/api/v1/alerts", "/api/v1/targets"):
            server.shapes[path] = {"status": "error", "errorType": "x", "error": error}
        assert await until(lambda: not dash.pollers["instant"].source.ok, 15)
        await pilot.pause(1.0)
        problems, text = segments_problems(app)
        assert problems == [], problems[:5]
        assert dash.panels["stats"].border_subtitle.startswith("stale since")  # the error reached the panel
        assert "[link=http://evil.example/]" in text
