"""Options every command shares (--config and the server URLs), and the one way to load Config.

They may be given before or after the subcommand (`llmwatch --config f check` and
`llmwatch check --config f` both work); the value nearest the command wins.
"""

from __future__ import annotations

from typing import Callable

import click

_KEY = "llmwatch.overrides"

# option -> (section, key) in the config; None means the config file itself.
SHARED_OPTIONS = [
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
    for flag, name, target, help_text in reversed(SHARED_OPTIONS):
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
    """click callback: "10s", "2m", "1h30m" -> seconds (> 0, finite, at most a day: every
    deadline, poll interval and wait in the CLI); None stays None."""
    return duration_between(0.0, 86400.0)(ctx, param, value)


def duration_between(low: float, high: float, *, inclusive_low: bool = False):
    """A click callback for a duration in (low, high] ([low, high] with inclusive_low), saying
    the bound that was crossed: `watch --every 0.001s` is a typo, not a plan."""
    def callback(ctx: click.Context, param: click.Parameter, value):
        from probes.durations import DurationError, format_duration, parse_duration

        if value is None:
            return None
        try:
            seconds = parse_duration(value)
        except DurationError as exc:
            raise click.BadParameter(str(exc)) from None
        if seconds <= 0:
            raise click.BadParameter("must be positive")
        if seconds < low or (seconds == low and not inclusive_low):
            raise click.BadParameter(f"the minimum is {format_duration(low)}, got {value!r}")
        if seconds > high:
            raise click.BadParameter(f"the maximum is {format_duration(high)}, got {value!r}")
        return seconds
    return callback


def duration_option(*decls: str, default: str | None, help: str, callback=None, **kw) -> Callable:
    """A "10s"-style option: metavar DURATION, parsed to seconds by `callback` (default
    positive_duration: > 0, at most a day), default shown."""
    kw.setdefault("show_default", default is not None)
    return click.option(*decls, default=default, metavar="DURATION", callback=callback or positive_duration,
                        help=help, **kw)
