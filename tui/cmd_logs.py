"""`llmwatch logs`: query Loki like logcli, one-shot or --follow, without textual.

Output safety: log lines are untrusted. `default` output goes through textsafe.clean when stdout
is a terminal (escape sequences removed, control characters made visible, line breaks shown as
⏎). `raw` is the line exactly as stored when stdout is a pipe or file (for grep/jq), but is
cleaned the same way when stdout is a terminal: a log line must never be able to clear the
screen, retitle the window or write the clipboard of the person reading it. `jsonl` is JSON with
every control character escaped, safe anywhere.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from datetime import datetime

import click

from probes.status import EXIT_OK, EXIT_UNKNOWN
from tui.options import config_options, duration_between, duration_option, load

OUTPUTS = ("default", "raw", "jsonl")




def _rfc3339(ctx, param, value):
    if value is None:
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an RFC3339 time (e.g. 2026-11-22T05:00:00Z)") from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()  # no zone given: the local zone, as logcli does
    return parsed.timestamp()


def _limit(ctx, param, value):
    if value < 1:
        raise click.BadParameter("must be at least 1")
    return value


@click.command("logs")
@config_options
@click.argument("query")
@duration_option("--since", default="15m", callback=duration_between(0.0, 100 * 365 * 86400.0),
                 help="How far back to look (ignored with --from).")
@click.option("--from", "from_", metavar="RFC3339", callback=_rfc3339, help="Start of the window, e.g. 2026-11-22T05:00:00Z.")
@click.option("--to", "to", metavar="RFC3339", callback=_rfc3339, help="End of the window (default now).")
@click.option("--limit", default=200, show_default=True, type=int, callback=_limit, help="Most lines to print.")
@click.option("--forward", is_flag=True, help="Oldest line first (default: newest first).")
@click.option("--follow", "-f", "follow", is_flag=True,
              help="Print the last lines, then new lines as they arrive (polling) until Ctrl-C.")
@click.option("--output", "-o", type=click.Choice(OUTPUTS), default="default", show_default=True,
              help="default: time, labels, line; raw: the line only; jsonl: one JSON object per line.")
@duration_option("--timeout", default="10s", help="Timeout of each request.")
@duration_option("--interval", default="2s", help="Poll interval with --follow.")
@click.pass_context
def logs_cmd(ctx, query, since, from_, to, limit, forward, follow, output, timeout, interval):
    """Print the Loki log lines matching QUERY (LogQL) in a time window, like `logcli query`.

    \b
    Examples:
      llmwatch logs '{job="api-gateway"} |= "error"' --since 1h
      llmwatch logs '{job="vllm"}' --follow -o raw | grep -i oom
      llmwatch logs '{job="tinycode", level="error"}' --from 2026-11-22T05:00:00Z --to 2026-11-22T06:00:00Z -o jsonl
    Environment: LOKI_ADDR, LOKI_USERNAME, LOKI_PASSWORD, LOKI_BEARER_TOKEN(_FILE), LOKI_ORG_ID.
    Exit: 0 lines printed (or none matched); 3 Loki unreachable, query refused, bad arguments.
    """
    cfg = load(ctx)
    now = time.time()
    end = to if to is not None else now
    start = from_ if from_ is not None else end - since
    if start >= end:
        raise click.BadParameter("--from must be before --to", param_hint="--from")
    if follow and to is not None:
        raise click.BadParameter("--follow cannot end at --to", param_hint="--to")
    tty = sys.stdout.isatty()
    code = asyncio.run(_run(cfg, query, start, end, limit, forward, follow, output, timeout, interval, tty))
    ctx.exit(code)


def render(entry, output: str, tty: bool) -> str:
    """One output line for `entry` (a probes.loki.LogEntry)."""
    from probes.textsafe import clean

    from tui.logfmt import labels_text, rfc3339_local, rfc3339_nano

    if output == "jsonl":
        doc = {"ts": rfc3339_nano(entry.ts_ns), "ts_ns": str(entry.ts_ns), "labels": dict(entry.labels),
               "line": entry.line}
        from tui.output import dumps

        return dumps(doc, indent=None)
    line = entry.line
    if output == "raw":
        return clean(line, None, newlines="keep") if tty else line.rstrip("\n")
    text = clean(line, None) if tty else line.rstrip("\n")
    return f"{rfc3339_local(entry.ts_ns)} {labels_text(entry.labels)} {text}"


def _emit(lines: list[str]) -> None:
    """Lines out: a terminal gets them through the guarded stdout; a pipe or file gets `raw` and
    `default` lines as stored (tui.output.write_raw, the one deliberate exception)."""
    if lines:
        from tui.output import write_raw

        write_raw("\n".join(lines) + "\n")


def _fail(message: str) -> int:
    from probes.textsafe import one_line

    click.echo(f"llmwatch: {one_line(message, 400)}", err=True)
    return EXIT_UNKNOWN


async def _run(cfg, query, start, end, limit, forward, follow, output, timeout, interval, tty) -> int:
    from probes.loki import LokiClient, to_ns

    client = LokiClient(cfg.loki)
    try:
        direction = "forward" if forward and not follow else "backward"
        result = await client.query_range(query, to_ns(start), to_ns(end), limit=limit, direction=direction,
                                          timeout=timeout)
        if not result.ok:
            return _fail(str(result.error))
        if result.result_type != "streams":
            return _fail(f"{query!r} is a metric query ({result.result_type}); `llmwatch logs` prints log lines")
        entries = list(result.entries)
        if follow:  # read like a terminal: oldest at the top, new lines below
            entries.reverse()
        try:
            _emit([render(e, output, tty) for e in entries])
            if follow:
                return await _follow(client, query, end, entries, output, tty, timeout, interval)
        except BrokenPipeError:  # `| head`: the reader left; not an error
            _silence_stdout()
        return EXIT_OK
    finally:
        await client.aclose()


async def _follow(client, query, end, entries, output, tty, timeout, interval) -> int:
    from probes.logfollow import Follower
    from probes.loki import to_ns

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    start_ns = entries[-1].ts_ns if entries else to_ns(end)
    follower = Follower(client, query, start_ns, buffer=1, seen=entries, timeout=timeout)
    failing = False
    while not stop.is_set():
        poll = asyncio.create_task(follower.poll())
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait({poll, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if not poll.done():  # Ctrl-C during a request: leave at once
            poll.cancel()
            await asyncio.gather(poll, return_exceptions=True)
            break
        new = poll.result()
        _emit([render(e, output, tty) for e in new])
        if follower.error is not None and not failing:
            click.echo(f"llmwatch: {follower.error} (still trying)", err=True)
        elif follower.error is None and failing:
            click.echo("llmwatch: Loki answers again", err=True)
        failing = follower.error is not None
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except asyncio.TimeoutError:
            pass
    return EXIT_OK


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
