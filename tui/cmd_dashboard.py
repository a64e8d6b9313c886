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
    f = scrape_auth_option(f)
    return f


SCRAPE_AUTH_HELP = ("Credentials for one --scrape target (repeatable): JOB=bearer-file:PATH, JOB=bearer-env:VAR, "
                    "JOB=bearer:TOKEN, JOB=basic:USER:PASSWORD or JOB=header:NAME=VALUE.")


def _keep_auth(ctx: click.Context, param, value):
    ctx.meta["scrape_auth"] = tuple(value or ())
    return value


def scrape_auth_option(f):
    return click.option("--scrape-auth", "scrape_auth", multiple=True, metavar="JOB=SPEC", expose_value=False,
                        callback=_keep_auth, help=SCRAPE_AUTH_HELP)(f)


def scrape_targets(ctx: click.Context, scrape, config) -> list:
    """--scrape URLs with their --scrape-auth credentials, else the config's [[scrape]] tables."""
    from probes import redact
    from probes.scrape import ScrapeArgError, parse_scrape_arg
    from probes.scrape_targets import ScrapeAuthError, apply_auth, as_targets

    auth = ctx.meta.get("scrape_auth", ())
    try:
        if not scrape:
            if auth:
                raise ScrapeAuthError("--scrape-auth needs --scrape targets (or use [[scrape]] in the config)")
            return list(config.scrape)
        targets = apply_auth(as_targets(parse_scrape_arg(s) for s in scrape), auth)
    except (ScrapeArgError, ScrapeAuthError) as exc:
        raise click.BadParameter(str(exc)) from None
    redact.register(s for t in targets for s in t.secrets())  # before anything can print them
    return targets


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
    return make_context(config, ascii_=ascii_, scrape=scrape_targets(ctx, scrape, config))


def make_context(config, *, ascii_: bool = False, scrape=(), banner: str = ""):
    from probes.alertmanager import AlertmanagerClient
    from probes.loki import LokiClient
    from probes.prometheus import PrometheusClient
    from tui.appctx import AppContext

    if scrape:  # ScrapeTargets (or [JOB=]URL strings)
        from probes.scrape import ScrapeClient, parse_scrape_arg
        targets = [parse_scrape_arg(s) if isinstance(s, str) else s for s in scrape]
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
