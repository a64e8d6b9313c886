"""`llmwatch watch`: the uptime-loop replacement. Runs the checks forever, prints state changes."""

from __future__ import annotations

import asyncio
import signal
import sys
import time

import click

from tui.cmd_check import check_options, options_from, run_once
from tui.options import config_options, duration_between, duration_option, load

MIN_EVERY_S = 1.0  # a check run every millisecond would hammer the services it watches


def _positive_int(ctx, param, value):
    if value < 1:
        raise click.BadParameter("must be at least 1")
    return value


@click.command("watch")
@config_options
@check_options
@duration_option("--every", default="60s", callback=duration_between(MIN_EVERY_S, 86400.0, inclusive_low=True),
                 help="Time between check runs (1s to 1d).")
@click.option("--failure-threshold", default=3, show_default=True, callback=_positive_int,
              help="Consecutive failures before a failure is announced.")
@click.option("--success-threshold", default=2, show_default=True, callback=_positive_int,
              help="Consecutive successes before a recovery is announced.")
@click.option("--webhook", "webhooks", multiple=True, metavar="URL",
              help="POST each change as JSON (Slack-compatible 'text' + fields). Repeatable.")
@click.option("--exec", "execs", multiple=True, metavar="CMD",
              help="Run CMD (via sh) for each change, with LLMWATCH_* variables set. Repeatable.")
@click.pass_context
def watch_cmd(ctx, timeout, urls, only, skip, ignore_alerts, every, failure_threshold, success_threshold,
              webhooks, execs):
    """Run the checks every --every forever; print one timestamped line per state change.

    Replaces `while true; curl -s .../health | jq -r .status; sleep 60`. Stops cleanly on
    Ctrl-C or SIGTERM (exit 0), after a short wait for queued notifications.
    """
    cfg = load(ctx)
    from probes import redact
    from probes.config import ConfigError, check_url

    for url in webhooks:
        redact.register(redact.url_secrets(url, webhook=True))  # before anything can print them
        try:
            check_url(url, "--webhook")
        except ConfigError:
            raise click.BadParameter("want an http:// or https:// URL with a host and a valid port "
                                     "(not shown: it may hold a secret)", param_hint="--webhook") from None
    opts = options_from(min(timeout, every), urls, only, skip, ignore_alerts)
    code = asyncio.run(_watch(cfg, opts, every, failure_threshold, success_threshold, webhooks, execs))
    ctx.exit(code)


def _say(line: str) -> None:
    """One line on stdout (guarded by tui/output.py: server text and secrets made safe)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _watch(cfg, opts, every, failure_threshold, success_threshold, webhooks, execs) -> int:
    from probes.notify import exec_sink, webhook_sink
    from probes.watch import Watcher

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sinks, clients = [], []
    for url in webhooks:
        sink, client = webhook_sink(url)
        sinks.append(sink)
        clients.append(client)
    sinks += [exec_sink(cmd) for cmd in execs]
    senders = [asyncio.create_task(s.run()) for s in sinks]
    watcher = Watcher(failure_threshold=failure_threshold, success_threshold=success_threshold)
    first = True
    try:
        while not stop.is_set():
            t0 = time.monotonic()
            run = await run_once(cfg, opts)
            changes = watcher.observe(run)
            if first:
                _say(watcher.status_line(run))
                first = False
            for change in changes:
                _say(change.line())
                for sink in sinks:
                    sink.put(change)
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, every - (time.monotonic() - t0)))
            except asyncio.TimeoutError:
                pass
    finally:
        deadline = time.monotonic() + 5.0
        while any(s.queue for s in sinks) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        for task in senders:
            task.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
        for client in clients:
            await client.aclose()
        left = sum(len(s.queue) for s in sinks)
        if left:
            print(f"llmwatch: stopped with {left} notification(s) undelivered", file=sys.stderr)
    return 0
