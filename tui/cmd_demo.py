"""`llmwatch demo`: start the synthetic LLM stack on loopback and open the dashboard on it.

One command on a fresh machine: the services, a synthetic Loki and, when installed, a real
Prometheus (seed alert rules, an hour of backfilled history) and Alertmanager. `--no-ui` starts
the same and prints a ready-to-use config on stdout (`llmwatch demo --no-ui > demo.toml`); the
URLs, the break/heal examples and the timeline go to stderr. Whatever happens (Ctrl-C, SIGTERM,
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
@click.option("--no-ui", is_flag=True,
              help="Start everything, print a config on stdout (URLs and advice on stderr), wait for Ctrl-C.")
@click.option("--history", "history", default="1h", show_default=True, metavar="DURATION",
              help="Synthetic history to start with, so charts are full at once (0 = start empty).")
@click.option("--theme", type=click.Choice(["dark", "light"]), default="dark", show_default=True)
@click.option("--ascii", "ascii_", is_flag=True, help="No box drawing or block characters.")
def demo_cmd(stack_spec: str, incident: bool, with_prometheus: bool | None, seed: int, no_ui: bool,
             history: str, theme: str, ascii_: bool) -> int:
    """Start a synthetic LLM stack on 127.0.0.1 and open the dashboard on it.

    Exit 0 after Ctrl-C / SIGTERM, 3 when the demo cannot start (one line says why).
    """
    from probes.demo import Demo, DemoError, resolve_stack
    from probes.durations import DurationError, parse_duration

    try:
        names = resolve_stack(stack_spec)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--stack") from None
    try:
        history_s = parse_duration(history)
    except DurationError as exc:
        raise click.BadParameter(str(exc), param_hint="--history") from None
    say = (lambda text: click.echo(f"[{time.strftime('%H:%M:%S')}] {text}", err=True)) if no_ui else None
    demo = Demo(names, with_prometheus=with_prometheus, incident=incident, seed=seed, on_event=say,
                history_s=history_s)
    stop_requested = threading.Event()
    phase = {"now": "starting"}

    def on_signal(signum: int, frame: Any) -> None:
        stop_requested.set()
        if phase["now"] == "starting":
            raise _Interrupted()
        if phase["now"] == "ui":
            _quit_running_app()  # the app exits normally; the finally below stops the demo

    previous = {s: signal.getsignal(s) for s in _SIGNALS}
    for s in _SIGNALS:
        signal.signal(s, on_signal)
    try:
        click.echo(f"llmwatch demo: starting {len(names)} services"
                   + (" and Prometheus (about 10 s) ..." if with_prometheus is not False else " ..."), err=True)
        started = time.monotonic()
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
        _print_where(demo, time.monotonic() - started)
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


def _quit_running_app() -> None:
    """From a signal handler while the dashboard runs: ask the Textual app to exit at the next
    turn of its event loop, as the `q` key does (terminal restored, clients closed).

    Raising SystemExit in the handler instead would interrupt whatever coroutine was running and
    can leave a traceback and a raw-mode terminal behind. The app is found through the loop's
    tasks (run_dashboard owns it); if none is found, SystemExit is raised from a loop callback,
    between two coroutine steps.
    """
    import asyncio

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise SystemExit(EXIT_OK) from None

    def quit_app() -> None:
        from textual.app import App

        for task in asyncio.all_tasks(loop):
            coro: Any = task.get_coro()
            while coro is not None:
                frame = getattr(coro, "cr_frame", None)
                owner = frame.f_locals.get("self") if frame is not None else None
                if isinstance(owner, App):
                    owner.exit(EXIT_OK)
                    return
                coro = getattr(coro, "cr_await", None)
        raise SystemExit(EXIT_OK)

    loop.call_soon_threadsafe(quit_app)


def _print_where(demo: Any, took: float) -> None:
    """stderr: what runs where, how much history, and how to break things by hand."""
    from probes.demo_control import ACTIONS, examples

    err = click.get_text_stream("stderr")
    history = ""
    if demo.backfill is not None:
        history = f", {demo.history_s / 60:.0f} min of history"
    click.echo(f"llmwatch {demo.banner()} (ready in {took:.1f}s{history})", file=err)
    for name, url in demo.urls().items():
        click.echo(f"  {name:14} {url}", file=err)
    click.echo("llmwatch demo: break and heal services by hand, and watch `llmwatch watch` or "
               "`llmwatch check` react:", file=err)
    for line in examples(demo.control.url, demo.stack):
        action = line.split("/")[-2] if "-X POST" in line else ""
        click.echo(f"  {line:50} # {ACTIONS.get(action, 'the services and routes')}", file=err)


def _print_ready(demo: Any, theme: str) -> None:
    """stdout: the config and nothing else (`llmwatch demo --no-ui > demo.toml`)."""
    click.echo(demo.config_toml(theme))
    sys.stdout.flush()
    click.echo("llmwatch demo: ready. The config is on stdout: `llmwatch demo --no-ui > demo.toml`, then "
               "`llmwatch --config demo.toml` in another terminal. Ctrl-C stops the demo.", err=True)


def direct_scrape_client(demo: Any, config: Any) -> Any:
    """The dashboard's data source without Prometheus: our own scrapes of every /metrics, its
    store prefilled with the demo's history (the dashboard starts it and detects after its first
    round; AppContext.aclose stops it)."""
    from probes.demo_history import prefill_store
    from probes.scrape import ScrapeClient

    client = ScrapeClient(demo.scrape_targets(), interval=config.dashboard.refresh,
                          retention=max(config.dashboard.range, demo.history_s), timeout=2.0)
    prefill_store(client.store, demo.backfill, demo.stack.targets())
    return client


def build_context(demo: Any, theme: str = "dark", ascii_: bool = False) -> Any:
    """The AppContext of a started demo: its config, clients for what it runs, its banner."""
    from probes.alertmanager import AlertmanagerClient
    from probes.loki import LokiClient
    from probes.prometheus import PrometheusClient
    from tui.appctx import AppContext

    config = demo.config(theme)
    prometheus = direct_scrape_client(demo, config) if demo.scrape_mode else PrometheusClient(config.prometheus)
    return AppContext(
        config,
        prometheus=prometheus,
        alertmanager=AlertmanagerClient(config.alertmanager) if demo.alertmanager else None,
        loki=LokiClient(config.loki),
        ascii=ascii_,
        scrape_mode=demo.scrape_mode,
        banner=demo.banner(),
        extras={"demo": demo, "status_line": demo.status_line},
    )


def _run_ui(demo: Any, theme: str, ascii_: bool) -> int:
    try:
        from tui.app import run_dashboard
    except ImportError as exc:
        click.echo(f"llmwatch demo: the dashboard is not available ({exc}); use --no-ui", err=True)
        return EXIT_UNKNOWN
    return int(run_dashboard(build_context(demo, theme, ascii_)) or 0)
