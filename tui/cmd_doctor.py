"""`llmwatch doctor`: the first command a new user runs.

Says which Prometheus it reached, which systems it found on which jobs, what every signal reads
now (value, unit, and the PromQL behind it), which signals are missing and why, target health,
and what in the config is unused or wrong. Text is laid out for a terminal with rich and stays
plain (no escape codes) when piped; --format json gives the same findings as data.
Exit 0 when Prometheus answered, 3 (UNKNOWN) with a one-line reason when it did not.
"""

from __future__ import annotations

import asyncio

import click

from probes.status import EXIT_OK, EXIT_UNKNOWN
from tui.cmd_dashboard import scrape_auth_option, scrape_targets
from tui.options import config_options, duration_option, load


@click.command("doctor")
@config_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--window", metavar="DURATION", default=None,
              help="Rate window (e.g. 30s, 2m). Default: 4 x the longest scrape interval, at least 1m.")
@click.option("--queries/--no-queries", default=True, show_default=True, help="Show the PromQL behind each value.")
@duration_option("--timeout", default="10s",
                 help="Deadline for the whole diagnosis (a hung Prometheus is UNKNOWN after this).")
@click.option("--scrape", "scrape", multiple=True, metavar="[JOB=]URL",
              help="No Prometheus: scrape this /metrics URL directly, twice --scrape-wait apart (repeatable); "
                   "shows why a scrape failed, lines that did not parse and the series cap.")
@duration_option("--scrape-wait", "scrape_wait", default="5s",
                 help="With --scrape: time between the two scrapes (rates need two samples).")
@scrape_auth_option
@click.pass_context
def doctor_cmd(ctx: click.Context, fmt: str, window: str | None, queries: bool, timeout: float, scrape,
               scrape_wait: float) -> None:
    """Check what llmwatch sees: Prometheus, detected systems, every signal and the config.

    \b
    Exit codes: 0 Prometheus was reached (findings are in the report),
                3 UNKNOWN: Prometheus could not be reached (one line says why).
    """
    from probes.durations import DurationError, parse_duration

    cfg = load(ctx)
    win = None
    if window:
        try:
            win = parse_duration(window)
        except DurationError as exc:
            raise click.BadParameter(str(exc), param_hint="--window") from None
        if win <= 0:
            raise click.BadParameter("must be positive", param_hint="--window")
    report = asyncio.run(_run(cfg, win, timeout, scrape_targets(ctx, scrape, cfg), scrape_wait))
    if fmt == "json":
        from probes.doctor import report_json
        from tui.output import dumps

        click.echo(dumps(report_json(report)))
    elif not report.reached:
        reason = report.reason  # client messages already start "Prometheus at <url>: "
        prefix = f"Prometheus at {report.url}: "
        reason = reason[len(prefix):] if reason.startswith(prefix) else reason
        click.echo(f"UNKNOWN: cannot reach Prometheus at {report.url}: {reason}")
    else:
        from tui.doctor_view import render_text

        render_text(report, cfg, show_queries=queries)
    ctx.exit(EXIT_OK if report.reached else EXIT_UNKNOWN)


async def _run(cfg, window, timeout: float, scrape=(), scrape_wait: float = 5.0):
    """The report, or "not reached" once `timeout` has passed: no request outlives the deadline.
    With scrape targets the direct-scrape client stands in for Prometheus (scraped twice first)."""
    from dataclasses import replace

    from probes.doctor import DoctorReport, run_doctor
    from probes.prometheus import PrometheusClient
    from tui.cmd_check import scrape_twice

    if scrape:
        client = await scrape_twice(list(scrape), scrape_wait, timeout)
    else:
        client = PrometheusClient(replace(cfg.prometheus, timeout=min(cfg.prometheus.timeout, timeout)))
    try:
        async with asyncio.timeout(timeout):
            report = await run_doctor(cfg, client, window)
        return replace(report, url=client.display) if scrape else report
    except TimeoutError:
        return DoctorReport(cfg.prometheus.display, False, reason=f"no complete answer within {timeout:g}s "
                            "(--timeout)", config_source=cfg.source)
    finally:
        try:
            await asyncio.wait_for(client.aclose(), 1.0)
        except Exception:  # noqa: BLE001 - closing must never mask the report
            pass
