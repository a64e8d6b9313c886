"""`llmwatch check`: one-shot checks for cron, Nagios and Icinga, with a deadline that holds."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys

import click

from tui.cmd_dashboard import scrape_auth_option, scrape_targets
from tui.options import config_options, duration_option, load




def check_options(f):
    f = duration_option("--timeout", "timeout", default="10s",
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
    from probes.config import ConfigError, check_url

    for url in urls:
        try:
            check_url(url, "--url")
        except ConfigError as exc:
            raise click.BadParameter(str(exc).removeprefix("--url: "), param_hint="--url") from None
    return CheckOptions(deadline_s=timeout, urls=tuple(urls), selection=Selection(tuple(only), tuple(skip)),
                        ignore_alerts=patterns)


async def scrape_twice(targets, wait: float, deadline: float):
    """A ScrapeClient holding two scrapes `wait` apart (rate() needs two samples)."""
    import time

    from probes.scrape import ScrapeClient

    client = ScrapeClient(targets, interval=wait, retention=max(600.0, 4 * wait), timeout=min(deadline, 10.0))
    began = time.monotonic()
    await client.scrape_once()
    await asyncio.sleep(max(0.0, wait - (time.monotonic() - began)))
    await client.scrape_once()
    return client


async def run_once(cfg, opts, scrape=(), scrape_wait: float = 10.0):
    """Build the clients, run every check under the deadline, close the clients.

    With `scrape` targets, a direct-scrape client stands in for Prometheus: [slo] windows become
    the span between the two scrapes (plus 1 s so both samples are inside it)."""
    from dataclasses import replace

    from probes.alertmanager import AlertmanagerClient
    from probes.check_plan import build_plan, health_services
    from probes.checks import run_planned
    from probes.health import ClientPool
    from probes.prometheus import PrometheusClient

    if scrape:
        prom = await scrape_twice(list(scrape), scrape_wait, opts.deadline_s)
        cfg = replace(cfg, slo=replace(cfg.slo, window=scrape_wait + 1.0))
        am = None
    else:
        use_prom = cfg.configured("prometheus") or bool(cfg.rules) or cfg.configured("slo")
        prom = PrometheusClient(cfg.prometheus) if use_prom else None
        am = AlertmanagerClient(cfg.alertmanager) if (use_prom and cfg.configured("alertmanager")) else None
    pool = ClientPool()
    try:
        plan = build_plan(cfg, opts, prom, am, pool, discover_alertmanager=not scrape)
        pool.prepare(health_services(cfg, opts))  # clients made before the deadline's clock starts
        return await run_planned(plan, opts.deadline_s, selection=opts.selection)
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
@click.option("--scrape", "scrape", multiple=True, metavar="[JOB=]URL",
              help="No Prometheus: scrape this /metrics URL directly (repeatable; job defaults to host:port). "
                   "[slo] and [[rules]] are computed from the scrapes (PromQL llmwatch cannot evaluate itself is "
                   "UNKNOWN 'needs Prometheus'), targets are checked from the scrapes, alerts are skipped "
                   "(nothing evaluates alerting rules).")
@scrape_auth_option
@duration_option("--scrape-wait", "scrape_wait", default="10s",
              help="With --scrape: time between the two scrapes. Rates need two samples, so the [slo] window "
                   "becomes this span; --timeout counts after the second scrape.")
@click.pass_context
def check_cmd(ctx, timeout, urls, only, skip, ignore_alerts, fmt, output, quiet, scrape, scrape_wait):
    """Run every configured check once and exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

    Health endpoints ([[services]] and --url), PromQL rules ([[rules]]) with Nagios ranges,
    Prometheus targets that are down, and firing alerts (silenced ones do not fail).

    Without Prometheus, --scrape URL reads /metrics directly: two scrapes --scrape-wait apart,
    then the same [slo], [[rules]] and target checks on what was scraped.
    """
    from tui.output import write_file
    from tui.report import render

    cfg = load(ctx)
    opts = options_from(timeout, urls, only, skip, ignore_alerts)
    targets = scrape_targets(ctx, scrape, cfg)
    if targets:
        from dataclasses import replace

        opts = replace(opts, include_alerts=False)
    run = asyncio.run(run_once(cfg, opts, targets, scrape_wait))
    color = fmt == "text" and output is None and wants_color(sys.stdout)
    text = render(run, fmt, color=color, width=shutil.get_terminal_size((100, 24)).columns if color else 100)
    if output:
        write_file(output, text)
    elif not (quiet and run.exit_code == 0):
        click.echo(text)
    if targets and fmt == "text" and not quiet:  # after the report: its first line is the summary
        click.echo("note: direct scrape: alerts skipped (they need Prometheus)", err=True)
    ctx.exit(run.exit_code)
