"""`llmwatch` / `llmwatch dashboard`: the live dashboard in this terminal."""

from __future__ import annotations

import sys

import click

from tui.options import config_options, load

RANGE_HELP = "Time range of the charts: 5m 15m 1h 6h 24h 7d (+/- change it live)."


def dashboard_options(f):
    f = click.option("--range", "range_", default=None, metavar="DURATION", help=RANGE_HELP)(f)
    f = click.option("--refresh", default=None, metavar="DURATION", help="Poll interval (default 5s).")(f)
    f = click.option("--theme", type=click.Choice(["dark", "light"]), default=None, help="Colour theme.")(f)
    f = click.option("--ascii", "ascii_", is_flag=True, help="7-bit characters only (no box drawing, blocks or braille).")(f)
    f = click.option("--readonly", is_flag=True, help="No writes (silences) from this session.")(f)
    f = click.option("--scrape", multiple=True, metavar="[JOB=]URL",
                     help="Scrape these /metrics URLs directly instead of querying Prometheus (repeatable).")(f)
    return f


def build_context(ctx: click.Context, range_, refresh, theme, ascii_, readonly, scrape):
    """The Config and AppContext for a dashboard-like command; clients made, nothing fetched."""
    extra = {}
    if range_:
        extra[("dashboard", "range")] = range_
    if refresh:
        extra[("dashboard", "refresh")] = refresh
    if theme:
        extra[("dashboard", "theme")] = theme
    if readonly:
        extra[("dashboard", "readonly")] = True
    config = load(ctx, extra)
    return make_context(config, ascii_=ascii_, scrape=scrape)


def make_context(config, *, ascii_: bool = False, scrape=(), banner: str = ""):
    from probes.alertmanager import AlertmanagerClient
    from probes.loki import LokiClient
    from probes.prometheus import PrometheusClient
    from tui.appctx import AppContext

    if scrape:
        from probes.scrape import ScrapeClient, parse_scrape_arg
        targets = [parse_scrape_arg(s) for s in scrape]
        prom = ScrapeClient(targets, interval=config.dashboard.refresh, retention=config.dashboard.range,
                            timeout=config.prometheus.timeout)
    else:
        prom = PrometheusClient(config.prometheus)
    am = AlertmanagerClient(config.alertmanager) if config.configured("alertmanager") else None
    loki = LokiClient(config.loki)
    return AppContext(config, prometheus=prom, alertmanager=am, loki=loki, readonly=config.dashboard.readonly,
                      ascii=ascii_, scrape_mode=bool(scrape), banner=banner)


@click.command("dashboard")
@config_options
@dashboard_options
@click.pass_context
def dashboard_cmd(ctx, range_, refresh, theme, ascii_, readonly, scrape):
    """Open the live dashboard: request rate, latency, errors, cost, routing, GPUs, health, alerts.

    Keys: + - range, r refresh, p pause, Tab/arrows move, Enter zoom, / filter, : palette,
    l logs, a alerts, ? help, q quit.
    """
    if not sys.stdout.isatty() and not sys.stdin.isatty():
        raise click.UsageError("the dashboard needs a terminal; use `llmwatch check` or `llmwatch snapshot` in scripts")
    from tui.app import run_dashboard

    app_ctx = build_context(ctx, range_, refresh, theme, ascii_, readonly, scrape)
    ctx.exit(run_dashboard(app_ctx))
