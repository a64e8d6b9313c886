"""Options every command shares (--config and the server URLs), and the one way to load Config.

They may be given before or after the subcommand (`llmwatch --config f check` and
`llmwatch check --config f` both work); the value nearest the command wins.
"""

from __future__ import annotations

from typing import Callable

import click

_KEY = "llmwatch.overrides"

# option -> (section, key) in the config; None means the config file itself.
_OPTIONS = [
    ("--config", "config_path", None, "Config file (default ~/.config/llmwatch/config.toml, or $LLMWATCH_CONFIG)."),
    ("--prometheus-url", "prometheus_url", ("prometheus", "url"), "Prometheus base URL."),
    ("--alertmanager-url", "alertmanager_url", ("alertmanager", "url"), "Alertmanager base URL."),
    ("--loki-url", "loki_url", ("loki", "url"), "Loki base URL."),
]


def _store(target: tuple[str, str] | None) -> Callable:
    def callback(ctx: click.Context, param: click.Parameter, value):
        if value is not None:
            ctx.meta.setdefault(_KEY, {})[target or "config"] = value
        return value
    return callback


def config_options(f: Callable) -> Callable:
    for flag, name, target, help_text in reversed(_OPTIONS):
        f = click.option(flag, name, default=None, expose_value=False, is_eager=True,
                         metavar="FILE" if target is None else "URL",
                         callback=_store(target), help=help_text)(f)
    return f


def load(ctx: click.Context, extra: dict[tuple[str, str], object] | None = None):
    """The Config for this invocation: flags > environment > file > defaults. Its secrets are
    registered for redaction (probes.redact) before anything can be printed."""
    from probes import redact
    from probes.config import load_config

    given = dict(ctx.meta.get(_KEY, {}))  # ctx.meta is shared by the whole context chain
    path = given.pop("config", None)
    overrides = {k: v for k, v in given.items()}
    overrides.update(extra or {})
    cfg = load_config(path, overrides=overrides)
    redact.register(cfg.secrets())
    return cfg


def positive_duration(ctx: click.Context, param: click.Parameter, value):
    """click callback: "10s", "2m", "1h30m" -> seconds (> 0); None stays None."""
    from probes.durations import DurationError, parse_duration

    if value is None:
        return None
    try:
        seconds = parse_duration(value)
    except DurationError as exc:
        raise click.BadParameter(str(exc)) from None
    if seconds <= 0:
        raise click.BadParameter("must be positive")
    return seconds
