"""`llmwatch config`: validate the configuration and show what llmwatch will use."""

from __future__ import annotations

from dataclasses import asdict

import click

from probes.durations import format_duration as fmt_seconds
from probes.redact import display_url
from tui.options import config_options, load


@click.command("config")
@config_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def config_cmd(ctx: click.Context, fmt: str) -> None:
    """Validate the configuration and print the effective settings (secrets are never shown).

    Exit 0 when the configuration is valid, 3 with a one-line message naming the file, key and
    value when it is not.
    """
    cfg = load(ctx)
    view = redacted_view(cfg)
    if fmt == "json":
        from tui.output import dumps

        click.echo(dumps(view, sort_keys=True))
        return
    click.echo(f"config file: {cfg.source or '(none: defaults and environment)'}")
    for name in ("prometheus", "alertmanager", "loki"):
        ep = view[name]
        auth = ", ".join(k for k in ("bearer_token", "bearer_token_file", "username") if ep.get(k)) or "no auth"
        click.echo(f"{name:13} {ep['url']}  ({auth}, timeout {fmt_seconds(ep['timeout'])})")
    d = cfg.dashboard
    click.echo(f"dashboard     refresh {fmt_seconds(d.refresh)}, range {fmt_seconds(d.range)}, theme {d.theme}"
               + (", read-only" if d.readonly else ""))
    click.echo(f"services      {len(cfg.services)}: " + (", ".join(s.name for s in cfg.services) or "-"))
    click.echo(f"rules         {len(cfg.rules)}: " + (", ".join(r.name for r in cfg.rules) or "-"))
    click.echo(f"prices        {len(cfg.prices)}: " + (", ".join(sorted(cfg.prices)) or "-"))
    if cfg.scrape:
        click.echo(f"scrape        {len(cfg.scrape)}: " + ", ".join(f"{t.job} {display_url(t.url)}" for t in cfg.scrape))


def redacted_view(cfg) -> dict:
    """The config as plain data with every secret replaced by '***'."""
    data = asdict(cfg)
    data["explicit"] = sorted(data["explicit"])
    for name in ("prometheus", "alertmanager", "loki"):
        ep = data[name]
        ep["url"] = display_url(ep["url"])
        for key in ("bearer_token", "password"):
            if ep.get(key):
                ep[key] = "***"
        ep["headers"] = {k: "***" for k in ep["headers"]}
    for svc in data["services"]:
        svc["url"] = display_url(svc["url"])
        svc["headers"] = {k: "***" for k in svc["headers"]}
    for tgt in data["scrape"]:
        tgt["url"] = display_url(tgt["url"])
        for key in ("bearer_token", "password"):
            if tgt.get(key):
                tgt[key] = "***"
        tgt["headers"] = {k: "***" for k in tgt["headers"]}
    return data
