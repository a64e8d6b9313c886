"""`llmwatch snapshot`: the dashboard (or the alerts or logs screen) rendered once, headless.

It waits until every source has answered once (or --timeout), then writes an SVG (--output
FILE.svg) or the screen as plain text (stdout, or --output FILE.txt). This is how the README's
screenshots are made (scripts/screenshots.py) and how a view goes into a ticket.
"""

from __future__ import annotations

import asyncio
import io
import re
import sys

import click

from tui.cmd_dashboard import build_context, dashboard_options
from tui.options import config_options, positive_duration

_SIZE = re.compile(r"^\s*(\d{2,4})\s*[xX]\s*(\d{2,4})\s*$")


def parse_size(text: str) -> tuple[int, int]:
    m = _SIZE.match(text or "")
    if not m or not (40 <= int(m.group(1)) <= 1000 and 12 <= int(m.group(2)) <= 500):
        raise click.BadParameter(f"{text!r}: expected WIDTHxHEIGHT, e.g. 160x48 (40-1000 x 12-500)")
    return int(m.group(1)), int(m.group(2))


async def render(app_ctx, screen: str, size: tuple[int, int], fmt: str, timeout: float,
                 log_query: str | None = None, settle: float = 0.3) -> tuple[str, bool]:
    """(the rendered screen, whether every source answered before the timeout)."""
    from probes.logql import LogRequest
    from tui.app import LlmwatchApp

    request = None
    if screen == "logs":
        now = app_ctx.clock()
        request = LogRequest(log_query or '{job=~".+"}', now - app_ctx.config.dashboard.range, None, "snapshot")
    app = LlmwatchApp(app_ctx, screen, request)
    until = asyncio.get_running_loop().time() + timeout
    async with app.run_test(size=size) as pilot:
        dash = app.get_screen("dashboard")
        loaded = await dash.wait_loaded(timeout) if screen == "dashboard" else True
        if screen == "dashboard" and app_ctx.scrape_mode:
            loaded = await _after_second_scrape(dash, app_ctx.prometheus, until) and loaded
        if screen != "dashboard":
            await pilot.pause(0.1)
            waiter = getattr(app.screen, "wait_loaded", None)
            if waiter is not None:
                try:
                    loaded = bool(await asyncio.wait_for(waiter(), timeout))
                except asyncio.TimeoutError:
                    loaded = False
        await pilot.pause(settle)
        if fmt == "svg":
            from tui.svgtext import keep_leading_spaces
            return keep_leading_spaces(app.export_screenshot(title="llmwatch")), loaded
        return screen_text(app), loaded


async def _after_second_scrape(dash, client, until: float) -> bool:
    """Direct scrape: rates need two scrapes (as `check --scrape` knows), so wait for the second
    round, then poll every source once more on the filled store. False if `until` came first."""
    loop = asyncio.get_running_loop()
    while getattr(client, "scrapes", 2) < 2:
        if loop.time() >= until:
            return False
        await asyncio.sleep(0.05)
    before = {name: p.answered for name, p in dash.pollers.items()}
    for p in dash.pollers.values():
        p.wake()
    while any(p.answered <= before[name] for name, p in dash.pollers.items()):
        if loop.time() >= until:
            return False
        await asyncio.sleep(0.05)
    return True


def screen_text(app) -> str:
    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True,
                      force_terminal=True, color_system=None, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


@click.command("snapshot")
@config_options
@dashboard_options
@click.option("--screen", type=click.Choice(["dashboard", "alerts", "logs"]), default="dashboard", show_default=True)
@click.option("--size", default="160x48", show_default=True, metavar="WIDTHxHEIGHT", help="Terminal size.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write here (.svg -> SVG, anything else -> text). Default: text to stdout.")
@click.option("--format", "fmt", type=click.Choice(["svg", "text"]), default=None,
              help="Output format (default: from --output's suffix, else text).")
@click.option("--timeout", default="20s", show_default=True, metavar="DURATION", callback=positive_duration,
              help="Longest wait for every panel to load; then render what is there and exit 1.")
@click.option("--query", "log_query", default=None, metavar="LOGQL", help="LogQL for --screen logs (default {job=~\".+\"}).")
@click.pass_context
def snapshot_cmd(ctx, range_, refresh, theme, ascii_, readonly, scrape, screen, size, output, fmt, timeout, log_query):
    """Render a screen once, headless, when its data has loaded; exit 0, or 1 if a source timed out."""
    from probes.durations import format_duration
    from tui.output import write_file

    width_height = parse_size(size)
    wait = timeout
    fmt = fmt or ("svg" if output and output.lower().endswith(".svg") else "text")
    app_ctx = build_context(ctx, range_, refresh, theme, ascii_, readonly, scrape)
    out, loaded = asyncio.run(render(app_ctx, screen, width_height, fmt, wait, log_query))
    if output:
        write_file(output, out)
        click.echo(f"wrote {output} ({width_height[0]}x{width_height[1]}, {screen})", err=True)
    else:
        sys.stdout.write(out)
    if not loaded:
        click.echo(f"not every source answered within {format_duration(timeout)}; rendered what had loaded", err=True)
    ctx.exit(0 if loaded else 1)
