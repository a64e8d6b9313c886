"""`llmwatch demo`: start the synthetic LLM stack on loopback and open the dashboard on it.

One command on a fresh machine: the services, a synthetic Loki and, when installed, a real
Prometheus (seed alert rules) and Alertmanager. `--no-ui` starts the same and prints the URLs
and a ready-to-use config instead, until Ctrl-C or SIGTERM. Whatever happens (Ctrl-C, SIGTERM,
SIGHUP, a crash in the UI), every process and port the demo opened is released in a finally.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Any

import click

from probes.status import EXIT_OK, EXIT_UNKNOWN

_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)


class _Interrupted(BaseException):
    """A stop signal arrived while the demo was still starting."""


@click.command("demo")
@click.option("--stack", "stack_spec", default="default", show_default=True, metavar="NAME|LIST",
              help="default (gateway+ollama+vllm+dcgm+node), seeds (the five seed stacks), all, "
                   "or a comma list of service names.")
@click.option("--incident", is_flag=True,
              help="Play a scripted incident every 2 minutes: cloud fallback, error spike + alert, GPU pressure.")
@click.option("--prometheus/--no-prometheus", "with_prometheus", default=None,
              help="Force a real Prometheus (exit 3 if not installed) or direct scrape. Default: use it if installed.")
@click.option("--seed", type=int, default=1234, show_default=True, help="Seed of the synthetic traffic.")
@click.option("--no-ui", is_flag=True, help="Start everything, print the URLs and a config, wait for Ctrl-C.")
@click.option("--theme", type=click.Choice(["dark", "light"]), default="dark", show_default=True)
@click.option("--ascii", "ascii_", is_flag=True, help="No box drawing or block characters.")
def demo_cmd(stack_spec: str, incident: bool, with_prometheus: bool | None, seed: int, no_ui: bool,
             theme: str, ascii_: bool) -> int:
    """Start a synthetic LLM stack on 127.0.0.1 and open the dashboard on it.

    Exit 0 after Ctrl-C / SIGTERM, 3 when the demo cannot start (one line says why).
    """
    from probes.demo import Demo, DemoError, resolve_stack

    try:
        names = resolve_stack(stack_spec)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--stack") from None
    say = (lambda text: click.echo(f"[{time.strftime('%H:%M:%S')}] {text}", nl=True)) if no_ui else None
    demo = Demo(names, with_prometheus=with_prometheus, incident=incident, seed=seed, on_event=say)
    stop_requested = threading.Event()
    phase = {"now": "starting"}

    def on_signal(signum: int, frame: Any) -> None:
        stop_requested.set()
        if phase["now"] == "starting":
            raise _Interrupted()
        if phase["now"] == "ui":
            raise SystemExit(EXIT_OK)  # unwinds the app; the finally below stops the demo

    previous = {s: signal.getsignal(s) for s in _SIGNALS}
    for s in _SIGNALS:
        signal.signal(s, on_signal)
    try:
        click.echo(f"llmwatch demo: starting {len(names)} services"
                   + (" and Prometheus (about 10 s) ..." if with_prometheus is not False else " ..."), err=True)
        try:
            demo.start()
        except DemoError as exc:
            click.echo(f"llmwatch demo: {exc}", err=True)
            return EXIT_UNKNOWN
        except _Interrupted:
            click.echo("llmwatch demo: interrupted while starting; stopped", err=True)
            return EXIT_OK
        for note in demo.notes:
            click.echo(f"llmwatch demo: {note}", err=True)
        if no_ui:
            phase["now"] = "waiting"
            _print_ready(demo, theme)
            while not stop_requested.wait(0.5):
                pass
            click.echo("llmwatch demo: stopping", err=True)
            return EXIT_OK
        phase["now"] = "ui"
        return _run_ui(demo, theme, ascii_)
    finally:
        phase["now"] = "stopping"
        demo.stop()
        for s, handler in previous.items():
            try:
                signal.signal(s, handler)
            except (TypeError, ValueError):
                pass


def _print_ready(demo: Any, theme: str) -> None:
    click.echo(demo.banner())
    for name, url in demo.urls().items():
        click.echo(f"  {name:14} {url}")
    click.echo(demo.config_toml(theme))
    click.echo("# ready: press Ctrl-C to stop the demo")
    sys.stdout.flush()


def direct_scrape_client(demo: Any) -> Any:
    """The dashboard's data source without Prometheus: probes.scrape.ScrapeClient, None until it exists."""
    try:
        from probes.scrape import ScrapeClient
    except ImportError:
        return None
    from probes.demo import SCRAPE_INTERVAL_S

    return ScrapeClient(targets=demo.scrape_targets(), interval=float(SCRAPE_INTERVAL_S), retention=3600.0,
                        timeout=2.0)


def _run_ui(demo: Any, theme: str, ascii_: bool) -> int:
    try:
        from tui.app import run_dashboard
    except ImportError as exc:
        click.echo(f"llmwatch demo: the dashboard is not available ({exc}); use --no-ui", err=True)
        return EXIT_UNKNOWN
    from probes.alertmanager import AlertmanagerClient
    from probes.loki import LokiClient
    from probes.prometheus import PrometheusClient
    from tui.appctx import AppContext

    config = demo.config(theme)
    prometheus = direct_scrape_client(demo) if demo.scrape_mode else PrometheusClient(config.prometheus)
    ctx = AppContext(
        config,
        prometheus=prometheus,
        alertmanager=AlertmanagerClient(config.alertmanager) if demo.alertmanager else None,
        loki=LokiClient(config.loki),
        ascii=ascii_,
        scrape_mode=demo.scrape_mode,
        banner=demo.banner(),
        extras={"demo": demo, "status_line": demo.status_line},
    )
    return int(run_dashboard(ctx) or 0)
