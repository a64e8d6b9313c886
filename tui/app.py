"""The Textual app: screens (dashboard, alerts, logs, zoom, help), app-wide keys and themes.

`run_dashboard(ctx)` is the one entry point (the dashboard command, the demo and `snapshot`
all build an AppContext and call it or `LlmwatchApp` directly).
"""

from __future__ import annotations

from functools import partial

from textual.app import App
from textual.binding import Binding
from rich.segment import Segment
from textual.command import Hit, Hits, Provider
from textual.filter import LineFilter

from probes.logql import LogRequest
from tui.appctx import AppContext
from tui.widgets.glyphs import to_ascii_cells

THEMES = {"dark": "textual-dark", "light": "textual-light"}
ASCII_KEYS = {"⏎": "enter", "↑": "up", "↓": "down", "←": "left", "→": "right", "⇥": "tab"}


class AsciiFilter(LineFilter):
    """Every segment's text made 7-bit, cell for cell (tui.widgets.glyphs.to_ascii_cells)."""

    def apply(self, segments: list[Segment], background) -> list[Segment]:
        return [Segment(to_ascii_cells(s.text), s.style, s.control) if not s.text.isascii() else s
                for s in segments]


ASCII_FILTER = AsciiFilter()


class DashboardCommands(Provider):
    """`:` palette entries: jump to a panel, change the range, switch theme, pause."""

    def _commands(self):
        from probes.durations import format_duration
        from tui.screens.dashboard import RANGES
        from tui.widgets.panels import PANELS

        app = self.app
        for key, (_, title) in PANELS.items():
            yield f"panel: {title}", partial(app.goto_panel, key), f"focus the {title} panel"
        for r in RANGES:
            yield f"range: {format_duration(r)}", partial(app.set_range, r), "time range of charts"
        for name in THEMES:
            yield f"theme: {name}", partial(app.set_theme, name), f"{name} colours"
        yield "pause / resume", partial(app.dashboard_action, "pause"), "stop or restart polling"
        yield "refresh now", partial(app.dashboard_action, "refresh_now"), "poll every source now"
        yield "alerts screen", app.open_alerts, "alerts, silences, rule errors"

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, callback, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)

    async def discover(self) -> Hits:
        from textual.command import DiscoveryHit
        for text, callback, help_text in self._commands():
            yield DiscoveryHit(text, callback, help=help_text)


class LlmwatchApp(App):
    CSS_PATH = "llmwatch.tcss"
    TITLE = "llmwatch"
    COMMANDS = {DashboardCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    BINDINGS = [
        Binding("q", "quit", "quit"),
        Binding("question_mark", "help", "help", key_display="?", tooltip="this list of keys"),
        Binding("colon", "command_palette", "palette", key_display=":", show=False,  # in `?`; room at 80 cols
                tooltip="command palette: jump to a panel, change range, switch theme"),
        Binding("ctrl+c", "quit", "quit", show=False, priority=True),
    ]

    def __init__(self, ctx: AppContext, screen: str = "dashboard", log_request: LogRequest | None = None):
        super().__init__()
        self.ctx = ctx
        self.start_screen = screen
        self.log_request = log_request
        self.crash: BaseException | None = None  # an unhandled error, re-raised after the terminal is restored

    def _handle_exception(self, error: Exception) -> None:
        """Textual's hook for an unhandled exception (private API, pinned by
        tests/test_internal_error.py). Textual would print a Rich traceback showing local variables,
        which shows the config's tokens and passwords. We keep the error, exit with UNKNOWN, and
        run_dashboard() re-raises it for the one-line handler in tui/cli.py main()."""
        if self.crash is None:
            self.crash = error
        self._return_code = 3
        if self._exception is None:  # Pilot (run_test) re-raises this one in tests
            self._exception = error
            self._exception_event.set()
        self._close_messages_no_wait()

    # ---- --ascii: 7-bit output, whatever drew it ---------------------------------------------------
    def get_line_filters(self):
        """With --ascii every line goes through AsciiFilter, Textual's own widgets too (the footer's
        enter key, scrollbars, toasts): the README promises 7-bit output, and one place keeps it."""
        filters = list(super().get_line_filters())
        return [*filters, ASCII_FILTER] if self.ctx.ascii else filters

    def get_key_display(self, binding: Binding) -> str:
        shown = super().get_key_display(binding)
        return ASCII_KEYS.get(shown, shown) if self.ctx.ascii else shown

    def on_mount(self) -> None:
        self.theme = THEMES.get(self.ctx.config.dashboard.theme, "textual-dark")
        if self.ctx.ascii:
            self.add_class("-ascii")
        from tui.screens.dashboard import DashboardScreen
        self.install_screen(DashboardScreen(self.ctx), "dashboard")
        self.push_screen("dashboard")
        if self.start_screen == "alerts":
            self.open_alerts()
        elif self.start_screen == "logs":
            self.open_logs(self.log_request or LogRequest('{job=~".+"}', self.ctx.clock() - 3600))

    # ---- navigation used by every screen ----------------------------------------------------
    def open_alerts(self) -> None:
        try:
            from tui.screens.alerts import AlertsScreen
        except ImportError:
            self.notify("the alerts screen is not available in this build", severity="warning")
            return
        self.push_screen(AlertsScreen(self.ctx))

    def open_logs(self, request: LogRequest) -> None:
        try:
            from tui.screens.logs import LogsScreen
        except ImportError:
            self.notify("the logs screen is not available in this build", severity="warning")
            return
        self.push_screen(LogsScreen(self.ctx, request))

    def open_logs_for(self, labels: dict[str, str], start: float, end: float | None, title: str) -> None:
        """Logs for the labels in hand (a panel, series, GPU, service or alert) over a window."""
        from probes.logql import quote, request_for_labels

        job = labels.get("job", "")
        if "|" in job:  # a panel covering several jobs
            request = LogRequest("{job=~%s}" % quote(job), start, end, title)
        else:
            request = request_for_labels(labels, start, end, title, self.ctx.config.services)
        self.open_logs(request)

    def action_open_alerts(self) -> None:
        """`a` on the dashboard (and the palette's "alerts screen")."""
        self.open_alerts()

    def action_help(self) -> None:
        """`?`: every key live on this screen (focused widget, screen, app), as the footer has them."""
        from tui.screens.help import HelpScreen
        self.push_screen(HelpScreen(help_rows(self)))

    # ---- palette targets ----------------------------------------------------------------------
    def _dashboard(self):
        return self.get_screen("dashboard")

    def goto_panel(self, key: str) -> None:
        while self.screen is not self._dashboard() and len(self.screen_stack) > 1:
            self.pop_screen()
        self._dashboard().focus_panel(key)

    def set_range(self, seconds: float) -> None:
        self._dashboard().set_range(seconds)

    def set_theme(self, name: str) -> None:
        self.theme = THEMES[name]

    def dashboard_action(self, name: str) -> None:
        getattr(self._dashboard(), f"action_{name}")()

    async def on_unmount(self) -> None:
        await self.ctx.aclose()


def own_bindings(node: object) -> list[Binding]:
    """The Binding objects llmwatch itself declares for this node (its class and bases in tui/),
    leaving out the scroll and copy keys Textual's own widgets add."""
    return [b for cls in type(node).__mro__ if cls.__module__.startswith("tui.")
            for b in cls.__dict__.get("BINDINGS", ()) if isinstance(b, Binding)]


def help_rows(app: App) -> list[tuple[str, str]]:
    """(keys as shown, what they do) for every llmwatch binding live on the current screen
    (focused widget, screen, app): one row per action, keys that share it joined ("esc/q")."""
    rows: dict[tuple[int, str], list[str]] = {}
    for active in app.screen.active_bindings.values():
        binding = active.binding
        ours = {(b.action, b.description) for b in own_bindings(active.node)}
        if not binding.description or (binding.action, binding.description) not in ours:
            continue
        key = (id(active.node), binding.action)
        rows.setdefault(key, [binding.tooltip or binding.description]).append(app.get_key_display(binding))
    return [("/".join(dict.fromkeys(keys)), desc) for desc, *keys in rows.values()]


def run_dashboard(ctx: AppContext, screen: str = "dashboard") -> int:
    """Run the app in this terminal until the user quits; the exit code for the command."""
    app = LlmwatchApp(ctx, screen)
    app.run()
    if app.crash is not None:
        raise app.crash
    return int(app.return_code or 0)
