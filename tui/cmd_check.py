"""`llmwatch check`: one-shot checks for cron, Nagios and Icinga, with a deadline that holds."""

from __future__ import annotations

import asyncio
import os
import sys

import click

from probes.durations import DurationError, parse_duration
from tui.options import config_options, load


def _duration(ctx, param, value):
    try:
        seconds = parse_duration(value)
    except DurationError as exc:
        raise click.BadParameter(str(exc)) from None
    if seconds <= 0:
        raise click.BadParameter("must be positive")
    return seconds


def check_options(f):
    f = click.option("--timeout", "timeout", default="10s", show_default=True, callback=_duration,
                     help="One deadline for all checks together; never exceeded.")(f)
    f = click.option("--url", "urls", multiple=True, metavar="URL", help="Also health-check this URL (repeatable).")(f)
    f = click.option("--only", multiple=True, metavar="GLOB", help="Run only checks whose name matches (repeatable).")(f)
    f = click.option("--skip", multiple=True, metavar="GLOB", help="Skip checks whose name matches (repeatable).")(f)
    f = click.option("--ignore-alert", "ignore_alerts", multiple=True, metavar="REGEX",
                     help="Ignore firing alerts whose alertname matches (repeatable).")(f)
    return f


def options_from(timeout, urls, only, skip, ignore_alerts):
    from probes.checks import CheckOptions, Selection, compile_patterns

    try:
        patterns = compile_patterns(ignore_alerts, "--ignore-alert")
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise click.BadParameter(f"--url {url!r}: want an http:// or https:// URL")
    return CheckOptions(deadline_s=timeout, urls=tuple(urls), selection=Selection(tuple(only), tuple(skip)),
                        ignore_alerts=patterns)


async def run_once(cfg, opts):
    """Build the clients, run every check under the deadline, close the clients."""
    from probes.alertmanager import AlertmanagerClient
    from probes.check_plan import build_plan
    from probes.checks import run_planned
    from probes.prometheus import PrometheusClient

    from probes.health import ClientPool

    use_prom = cfg.configured("prometheus") or bool(cfg.rules) or cfg.configured("slo")
    prom = PrometheusClient(cfg.prometheus) if use_prom else None
    am = AlertmanagerClient(cfg.alertmanager) if (use_prom and cfg.configured("alertmanager")) else None
    pool = ClientPool()
    try:
        return await run_planned(build_plan(cfg, opts, prom, am, pool), opts.deadline_s, selection=opts.selection)
    finally:
        for client in (prom, am, pool):
            if client is not None:
                try:
                    await asyncio.wait_for(client.aclose(), 1.0)
                except Exception:
                    pass


def wants_color(stream) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


@click.command("check")
@config_options
@check_options
@click.option("--format", "fmt", type=click.Choice(["text", "nagios", "json", "prom"]), default="text",
              show_default=True, help="text: a table on a terminal, plain lines when piped or NO_COLOR.")
@click.option("--output", "output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the report to FILE atomically (e.g. for node_exporter's textfile collector).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing when everything is OK (for cron).")
@click.pass_context
def check_cmd(ctx, timeout, urls, only, skip, ignore_alerts, fmt, output, quiet):
    """Run every configured check once and exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

    Health endpoints ([[services]] and --url), PromQL rules ([[rules]]) with Nagios ranges,
    Prometheus targets that are down, and firing alerts (silenced ones do not fail).
    """
    from tui.report import render, write_atomic

    cfg = load(ctx)
    opts = options_from(timeout, urls, only, skip, ignore_alerts)
    run = asyncio.run(run_once(cfg, opts))
    text = render(run, fmt, color=(fmt == "text" and output is None and wants_color(sys.stdout)))
    from probes.redact import scrub

    text = scrub(text, cfg.secrets())
    if output:
        write_atomic(output, text)
    elif not (quiet and run.exit_code == 0):
        click.echo(text)
    ctx.exit(run.exit_code)
