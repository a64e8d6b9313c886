"""The `llmwatch` command line: a click group whose default command is the dashboard.

Subcommands are registered by name and loaded only when invoked, so `llmwatch check` never pays
for (or imports) textual. Every failure ends in a one-line message and a Nagios exit code.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from probes import REPORT_AT, __version__
from probes.status import EXIT_UNKNOWN
from tui.options import SHARED_OPTIONS, config_options

# name -> (module:function, one-line description, example). Help is built from this table
# without importing the modules. A command appears here only once it works.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": ("tui.cmd_check:check_cmd", "Run every check once with Nagios exit codes, for cron.",
              "llmwatch check --format nagios --timeout 10s"),
    "watch": ("tui.cmd_watch:watch_cmd", "Run the checks forever; print and send each state change.",
              "llmwatch watch --every 60s --webhook https://hooks.slack.com/..."),
    "config": ("tui.cmd_config:config_cmd", "Validate the configuration and print it, secrets hidden.",
               "llmwatch config --config ./llmwatch.toml"),
    "dashboard": ("tui.cmd_dashboard:dashboard_cmd", "Open the live dashboard (the default command).",
                  "llmwatch --prometheus-url http://127.0.0.1:9090 --range 1h"),
    "snapshot": ("tui.cmd_snapshot:snapshot_cmd", "Render the dashboard (or alerts/logs screen) once, headless, to SVG or text.",
                 "llmwatch snapshot --size 160x48 --output now.svg"),
    "alerts": ("tui.cmd_alerts:alerts_cmd", "List firing/pending alerts with Alertmanager state; silence or expire like amtool.",
               "llmwatch alerts --state firing --format json"),
    "logs": ("tui.cmd_logs:logs_cmd", "Query Loki like logcli: a LogQL query over a window, or --follow.",
             "llmwatch logs '{job=\"gateway\"} |= \"error\"' --since 15m"),
    "demo": ("tui.cmd_demo:demo_cmd", "Start the synthetic LLM stack on loopback and open the dashboard on it.",
             "llmwatch demo --incident"),
    "doctor": ("tui.cmd_doctor:doctor_cmd", "Show what llmwatch sees: Prometheus, systems found, every signal and its PromQL, config problems.", "llmwatch doctor --prometheus-url http://127.0.0.1:9090"),
}
DEFAULT_COMMAND = "dashboard"
HELP_OPTIONS = ("-h", "--help")
VERSION_OPTIONS = ("-V", "--version")
# -h is --help on the group and, through the context, on every command (Nagios plugin guidelines).
CONTEXT_SETTINGS = {"help_option_names": list(HELP_OPTIONS)}


class LazyDefaultGroup(click.Group):
    """Lazy subcommands plus a default one: any invocation that names no command runs the
    dashboard, so `llmwatch --config demo.toml` and `llmwatch --prometheus-url URL --range 6h`
    mean `llmwatch ... dashboard ...` (the README and the demo's advice say exactly that)."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        target = COMMANDS[name][0]
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)

    def resolve_command(self, ctx, args):
        if args and args[0] not in COMMANDS:
            raise click.UsageError(f"no such command {args[0]!r} (see llmwatch --help)")
        return super().resolve_command(ctx, args)

    def parse_args(self, ctx, args):
        return super().parse_args(ctx, with_default_command(args))

    def format_commands(self, ctx, formatter):
        rows = []
        for name in self.list_commands(ctx):
            _, desc, example = COMMANDS[name]
            mark = " (default)" if name == DEFAULT_COMMAND else ""
            rows.append((name + mark, f"{desc}  e.g. {example}"))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def with_default_command(args: list[str]) -> list[str]:
    """`args` with the default command inserted where the group's own options end, unless a
    command, --help or --version comes first. The group's options (the shared --config and URL
    options) are the only ones it reads; whatever follows them is the command's."""
    takes_value = {opt for opt, *_ in SHARED_OPTIONS}
    i = 0
    while i < len(args):
        arg = args[i]
        name = arg.split("=", 1)[0]
        if name in takes_value:
            i += 1 if "=" in arg else 2
            continue
        if arg in HELP_OPTIONS or arg in VERSION_OPTIONS or arg in COMMANDS:
            return list(args)
        if not arg.startswith("-") and arg != "--":
            return list(args)  # an unknown command: resolve_command says so (exit 3)
        break
    return [*args[:i], DEFAULT_COMMAND, *args[i:]]


EPILOG = """\b
Exit codes (Nagios plugin API): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
Usage and configuration errors exit 3 with a one-line message.
\b
Config: ~/.config/llmwatch/config.toml, or --config FILE, or LLMWATCH_CONFIG.
Environment: LLMWATCH_PROMETHEUS_URL, LLMWATCH_ALERTMANAGER_URL, LLMWATCH_LOKI_URL,
LOKI_ADDR, LOKI_USERNAME, LOKI_PASSWORD, LOKI_BEARER_TOKEN, LOKI_ORG_ID.
"""


@click.group(cls=LazyDefaultGroup, epilog=EPILOG, invoke_without_command=False, context_settings=CONTEXT_SETTINGS,
             subcommand_metavar="[COMMAND] [ARGS]...")
@click.version_option(__version__, *VERSION_OPTIONS, prog_name="llmwatch", message="%(prog)s %(version)s")
@config_options
def cli() -> None:
    """llmwatch: watch a self-hosted LLM serving stack from the terminal.

    A dashboard over Prometheus and your services' health endpoints, one-shot checks for cron
    and Nagios, and a watcher that announces state changes.
    """


def main(argv: list[str] | None = None) -> None:
    """Console entry point: map every failure to a message and an exit code, never a traceback.

    First of all, stdout and stderr are guarded (tui/output.py): whatever any command prints,
    escape sequences from servers and registered secrets never reach the terminal."""
    from probes.config import ConfigError
    from tui import output

    output.install()
    try:
        rv = cli.main(args=argv, prog_name="llmwatch", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        message = exc.format_message()
        if "--help" not in message:
            where = exc.ctx.command_path if exc.ctx and exc.ctx.parent else "llmwatch"
            message += f" (see {where} --help)"
        _fail(message)
    except ConfigError as exc:
        _fail(f"config error: {exc}")
    except click.ClickException as exc:
        _fail(exc.format_message())
    except (KeyboardInterrupt, click.Abort):
        output.echo_error("interrupted")
        sys.exit(130)
    except BrokenPipeError:
        _quiet_stdout()
        sys.exit(EXIT_UNKNOWN)
    except Exception as exc:  # noqa: BLE001 - last resort: a bug, said plainly
        internal_error(exc)
    sys.exit(rv if isinstance(rv, int) else 0)


def internal_error(exc: BaseException) -> None:
    """One line naming the exception type only (its text may hold a URL, a body or a secret),
    exit 3. With LLMWATCH_DEBUG=1 the standard traceback comes first: no local variables (Rich's
    show_locals would print the config's secrets), and stderr is scrubbed of secrets anyway."""
    import traceback

    if os.environ.get("LLMWATCH_DEBUG"):
        traceback.print_exception(exc, file=sys.stderr)
    _fail(f"internal error: {type(exc).__name__} (please report at {REPORT_AT}; "
          "set LLMWATCH_DEBUG=1 for the traceback)")


def _quiet_stdout() -> None:
    """The reader of our pipe left (`| head`): point stdout at /dev/null so the flush at exit
    cannot fail again (the Python docs' recipe for SIGPIPE)."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _fail(message: str) -> None:
    from tui import output

    output.echo_error(message)
    sys.exit(EXIT_UNKNOWN)


if __name__ == "__main__":  # pragma: no cover
    main()
