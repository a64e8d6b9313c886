"""The logs screen: Loki lines for the labels and window the user came from (`l` on a panel/alert).

Layout: header (where from, the query, the window), filter bar (text, regex, level toggles,
follow), log volume by level, the lines newest first, a status line. All I/O runs in exclusive
async workers; widgets only render what the workers hand them. Every untrusted string is cleaned
(probes.textsafe) and rendered as rich Text, so `[bold]` in a log line stays text.

Keys: e edit query · / text filter (|=) · ~ regex filter (|~) · 1-4 toggle error/warn/info/debug
· f follow · r reload · enter expand · escape/q back.
"""

from __future__ import annotations

import asyncio
import math
import time

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Static

from probes.logql import LEVELS, LogRequest, build_query, volume_query
from tui.output import plain
from tui.logfmt import labels_text, local_time, pretty, rfc3339_nano
from tui.widgets.log_lines import LogLines
from tui.widgets.log_volume import LogVolume

NOT_CONFIGURED = ("Loki not configured. Set [loki] url = \"http://loki:3100\" in ~/.config/llmwatch/config.toml, "
                  "or pass --loki-url URL, or set LOKI_ADDR (with LOKI_USERNAME/LOKI_PASSWORD, "
                  "LOKI_BEARER_TOKEN, LOKI_ORG_ID as needed).")
FOLLOW_BUFFER = 5000
# A static key line instead of textual's Footer: the Footer rebuilds a widget per binding on
# every focus change, about 90 ms of the time to first lines (bench/bench_logs.py).
# The binding contract test (tests/test_bindings_contract.py) checks every key here is bound.
KEY_HINTS = (("?", "help"), ("esc", "back"), ("e", "edit query"), ("/", "text"), ("~", "regex"), ("1-4", "levels"),
             ("f", "follow"), ("r", "reload"), ("⏎", "expand"), ("↑↓", "move"))
KEYS = Text.assemble(*[part for key, what in KEY_HINTS for part in ((f" {key} ", "bold"), (what + " ", ""))])
PROMPTS = {"query": "LogQL query (Enter runs it, Esc cancels)", "text": "Show lines containing (|=)",
           "regex": "Show lines matching regex (|~)"}


def _fmt_window(start: float, end: float, following: bool) -> str:
    with_date = end - start >= 86400
    a = local_time(int(start * 1e9), with_date=with_date, millis=False)
    if following:
        return f"since {a}, following"
    b = local_time(int(end * 1e9), with_date=with_date, millis=False)
    span = end - start
    human = f"{span / 3600:.0f}h" if span >= 7200 else f"{span / 60:.0f}m" if span >= 120 else f"{span:.0f}s"
    return f"{a} → {b} ({human})"


class ExpandedLine(ModalScreen):
    """One line in full: time, labels, pretty JSON or the text with its own line breaks."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close")]

    def __init__(self, entry) -> None:
        super().__init__()
        self.entry = entry

    def compose(self) -> ComposeResult:
        head = Text(f"{rfc3339_nano(self.entry.ts_ns)}  ", style="bold")
        head.append(labels_text(self.entry.labels, 2000))
        with VerticalScroll(id="expanded-body"):
            yield Static(head, id="expanded-head")
            yield Static(Text(pretty(self.entry.line)), id="expanded-line")
            yield Static(Text("esc/q/enter close", style="dim"), id="expanded-keys")


class LogsScreen(Screen):
    CSS_PATH = "logs.tcss"
    COMPONENT_CLASSES = {"logs--on", "logs--off", "logs--error", "logs--dim", "logs--key"}
    BINDINGS = [
        Binding("escape,q", "back", "Back"),
        Binding("e", "edit('query')", "Edit query"),
        Binding("slash", "edit('text')", "Text filter"),
        Binding("tilde", "edit('regex')", "Regex filter"),
        Binding("1", "toggle_level('error')", "Errors", show=False),
        Binding("2", "toggle_level('warn')", "Warnings", show=False),
        Binding("3", "toggle_level('info')", "Info", show=False),
        Binding("4", "toggle_level('debug')", "Debug", show=False),
        Binding("f", "follow", "Follow"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, ctx, request: LogRequest, *, follow_interval: float = 2.0,
                 follow_buffer: int = FOLLOW_BUFFER) -> None:
        super().__init__()
        self.ctx = ctx
        self.request = request
        self.base_query = request.selector
        self.text = request.line_filter
        self.regex = request.regex
        self.levels = set(request.levels) & set(LEVELS) or set(LEVELS)
        self.following = False
        self.follow_interval = follow_interval
        self.follow_buffer = follow_buffer
        self.follower = None
        self.loaded = False
        self.error: str | None = None
        self.stats: dict = {}
        self.level_label: bool | None = None  # is `level` an indexed stream label?
        self._loaded_event = asyncio.Event()
        self._editing: str | None = None
        self._follow_timer = None
        self._polling = False
        self._window = (request.start, request.end if request.end is not None else ctx.clock())
        self._prefetch = self._start_prefetch()

    def _start_prefetch(self):
        """Send the first page's request now, while the screen mounts (its CSS, layout and first
        paint take ~50 ms the first time): the request and the mount overlap."""
        if self.ctx.loki is None or self.levels != set(LEVELS):
            return None
        try:
            loop = asyncio.get_running_loop()
            query = self.current_query()
        except (RuntimeError, ValueError):
            return None
        from probes.loki import to_ns

        start, end = self._window
        task = loop.create_task(self.ctx.loki.query_range(query, to_ns(start), to_ns(end), limit=self.request.limit))
        return (query, self._window, task)

    def on_unmount(self) -> None:
        if self._prefetch is not None:
            self._prefetch[2].cancel()
        self._stop_follower()

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="logs-header")
        yield Static(id="logs-filters")
        yield Input(id="logs-input", classes="-hidden", select_on_focus=False)
        yield LogVolume(id="logs-volume", ascii=getattr(self.ctx, "ascii", False))
        yield Static(id="logs-message", classes="-hidden")
        yield LogLines(id="logs-lines", with_date=self._window[1] - self._window[0] >= 86400)
        yield Static(id="logs-status")
        yield Static(KEYS, id="logs-keys")

    def on_mount(self) -> None:
        self._render_header()
        self.query_one(LogLines).focus()
        if self.ctx.loki is None:
            self._show_message(NOT_CONFIGURED, error=False)
            self.query_one(LogVolume).set_message("")
            self._status(Text("no Loki"))
            self._mark_loaded()
            return
        self._status(Text("loading…"))
        self._load()

    # -- state -> text ------------------------------------------------------------------------

    def _style(self, name: str):
        return self.get_component_rich_style(f"logs--{name}", partial=True)

    def current_query(self) -> str:
        """The query sent to Loki: the editable base + text, regex and level filters."""
        return build_query(self.base_query, self.text or None, self.regex or None, sorted(self.levels),
                           level_label=self.level_label is not False)

    def _render_header(self) -> None:
        start, end = self._window
        head = Text("Logs", style="bold")
        if self.request.title:
            head.append("  " + plain(self.request.title, 80), style=self._style("dim"))
        head.append("   " + _fmt_window(start, end, self.following), style=self._style("dim"))
        head.append("\n")
        try:
            query = self.current_query()
        except ValueError:
            query = self.base_query
        head.append(plain(query, 1000))
        self.query_one("#logs-header", Static).update(head)
        bar = Text(no_wrap=True, overflow="ellipsis")
        bar.append("/", style=self._style("key"))
        bar.append(" text ")
        bar.append(json_like(self.text) if self.text else "—", style=self._style("on" if self.text else "off"))
        bar.append("   ~", style=self._style("key"))
        bar.append(" regex ")
        bar.append(json_like(self.regex) if self.regex else "—", style=self._style("on" if self.regex else "off"))
        bar.append("   levels ")
        for i, level in enumerate(LEVELS, 1):
            on = level in self.levels
            bar.append(f"{i}", style=self._style("key"))
            bar.append(f"{'●' if on else '○'}{level} ", style=self._style("on" if on else "off"))
        bar.append("  f", style=self._style("key"))
        bar.append(" follow ")
        bar.append("on" if self.following else "off", style=self._style("on" if self.following else "off"))
        self.query_one("#logs-filters", Static).update(bar)

    def _status(self, text: Text) -> None:
        self.query_one("#logs-status", Static).update(text)

    def _show_message(self, message: str | None, error: bool = True) -> None:
        box = self.query_one("#logs-message", Static)
        lines = self.query_one(LogLines)
        if message is None:
            box.add_class("-hidden")
            lines.remove_class("-hidden")
            return
        box.update(Text(plain(message, 2000), style=self._style("error") if error else ""))
        box.remove_class("-hidden")
        lines.add_class("-hidden")

    def _update_status(self) -> None:
        lines = self.query_one(LogLines)
        text = Text()
        if self.error:
            text.append(plain(self.error, 300), style=self._style("error"))
            self._status(text)
            return
        if self.following and self.follower is not None:
            oldest = self.follower.oldest_ns
            since = local_time(oldest, millis=False) if oldest else "—"
            text.append(f"{lines.count}/{self.follow_buffer} lines, since {since}")
            if self.follower.error is not None:
                text.append("  " + plain(str(self.follower.error), 200), style=self._style("error"))
        else:
            text.append(f"{lines.count} lines")
            if lines.count >= self.request.limit:
                text.append(f" (limit {self.request.limit}: narrow the window or filter for older lines)",
                            style=self._style("dim"))
        exec_time = self.stats.get("execTime")
        if isinstance(exec_time, (int, float)):
            text.append(f"   Loki {exec_time * 1000:.0f} ms", style=self._style("dim"))
        self._status(text)

    def _mark_loaded(self) -> None:
        self.loaded = True
        self._loaded_event.set()

    async def wait_loaded(self, timeout: float | None = 30.0) -> bool:
        """True once the first page (or its error) is on screen; False on timeout."""
        try:
            await asyncio.wait_for(self._loaded_event.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    # -- loading ------------------------------------------------------------------------------

    def _volume_step(self, start: float, end: float) -> int:
        columns = max(20, self.size.width or 100)
        return max(1, math.ceil((end - start) / columns))

    @work(exclusive=True, group="logs-load", exit_on_error=False)
    async def _load(self) -> None:
        """The lines first (what the person waits for); volume and labels in a side worker."""
        from probes.loki import to_ns

        client = self.ctx.loki
        try:
            if self.level_label is None and self.levels != set(LEVELS):  # needed to build the query
                got = await client.labels()
                self.level_label = bool(got.ok and got.value and "level" in got.value)
            try:
                query = self.current_query()
            except ValueError as exc:
                self._fail(str(exc))
                return
            prefetch, self._prefetch = self._prefetch, None
            if self.request.end is None and prefetch is None:
                self._window = (self._window[0], self.ctx.clock())
            start, end = self._window
            self._render_header()
            self._load_side(query, start, end)
            if prefetch is not None and prefetch[:2] == (query, self._window):
                lines_r = await prefetch[2]
            else:
                if prefetch is not None:
                    prefetch[2].cancel()
                lines_r = await client.query_range(query, to_ns(start), to_ns(end), limit=self.request.limit)
            if not lines_r.ok:
                self._fail(str(lines_r.error))
                return
            self.error = None
            self.stats = dict(lines_r.stats or {})
            lines = self.query_one(LogLines)
            lines.set_entries(lines_r.entries)
            self._show_message(None if lines_r.entries else "No lines in this window for this query. "
                               "Widen the window, or press e to edit the query.", error=False)
            if self.following:
                self._start_follower(lines_r.entries)
            self._update_status()
        except Exception as exc:  # a bug must show as text, not take the app down
            self._fail(f"internal error: {type(exc).__name__}: {exc}")
            raise
        finally:
            self._render_header()
            self._mark_loaded()

    @work(exclusive=True, group="logs-side", exit_on_error=False)
    async def _load_side(self, query: str, start: float, end: float) -> None:
        """The log volume bars, and whether `level` is an indexed label (for level toggles)."""
        client = self.ctx.loki
        step = self._volume_step(start, end)
        volume = self.query_one(LogVolume)
        volume.set_message("loading log volume…")
        need_labels = self.level_label is None
        vol_r, labels_r = await asyncio.gather(
            client.query_range_metric(volume_query(query, step), start, end, step),
            client.labels() if need_labels else asyncio.sleep(0))
        if need_labels and self.level_label is None:
            self.level_label = bool(labels_r.ok and labels_r.value and "level" in labels_r.value)
        if self.error:
            volume.set_message("")
        elif vol_r.ok:
            volume.set_series(vol_r.series, start, end, step)
        else:
            volume.set_message(f"log volume: {vol_r.error}")

    def _fail(self, message: str) -> None:
        self.error = message
        self.query_one(LogLines).set_entries([])
        self.query_one(LogVolume).set_message("")
        self._show_message(message)
        self._update_status()

    # -- follow -------------------------------------------------------------------------------

    def _start_follower(self, entries) -> None:
        from probes.logfollow import Follower
        from probes.loki import to_ns

        newest = max((e.ts_ns for e in entries), default=to_ns(self._window[1]))
        self.follower = Follower(self.ctx.loki, self.current_query(), newest, buffer=self.follow_buffer,
                                 seen=entries, now_ns=lambda: max(time.time_ns(), to_ns(self.ctx.clock())))
        if self._follow_timer is None:
            self._follow_timer = self.set_interval(self.follow_interval, self._follow_tick)

    def _stop_follower(self) -> None:
        if self._follow_timer is not None:
            self._follow_timer.stop()
            self._follow_timer = None
        self.follower = None

    def _follow_tick(self) -> None:
        if not self._polling and self.follower is not None:  # polls never overlap
            self._poll()

    @work(exclusive=True, group="logs-follow", exit_on_error=False)
    async def _poll(self) -> None:
        follower = self.follower
        self._polling = True
        try:
            new = await follower.poll()
            if follower is not self.follower:  # query changed meanwhile
                return
            if new:
                self.query_one(LogLines).add_entries(new, cap=self.follow_buffer)
                self._show_message(None)
            self._update_status()
        finally:
            self._polling = False

    # -- actions ------------------------------------------------------------------------------

    def action_back(self) -> None:
        if self._editing is not None:
            self._close_input()
            return
        self._stop_follower()
        self.app.pop_screen()

    def action_edit(self, what: str) -> None:
        if self.ctx.loki is None:
            return
        box = self.query_one("#logs-input", Input)
        self._editing = what
        box.placeholder = PROMPTS[what]
        box.value = {"query": self.base_query, "text": self.text, "regex": self.regex}[what]
        box.cursor_position = len(box.value)
        box.remove_class("-hidden")
        box.focus()

    def _close_input(self) -> None:
        self._editing = None
        self.query_one("#logs-input", Input).add_class("-hidden")
        self.query_one(LogLines).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        what, value = self._editing, event.value
        self._close_input()
        if what == "query":
            self.base_query = value.strip() or self.base_query
        elif what == "text":
            self.text = value
        elif what == "regex":
            self.regex = value
        self.action_reload()

    def action_toggle_level(self, level: str) -> None:
        self.levels ^= {level}
        if not self.levels:  # none shown means nothing to show: treat as all
            self.levels = set(LEVELS)
        self.action_reload()

    def action_follow(self) -> None:
        if self.ctx.loki is None:
            return
        self.following = not self.following
        start, end = self._window
        now = self.ctx.clock()
        if self.following and end < now - 5:  # a past window: slide it to now, then follow
            self._window = (now - (end - start), now)
            self.action_reload()  # starts the follower once the new page is in
        elif self.following:
            lines = self.query_one(LogLines)
            self._start_follower([lines.entry_at(i) for i in range(lines.count - 1, -1, -1)])
        else:
            self._stop_follower()
        self._render_header()
        self._update_status()

    def action_reload(self) -> None:
        if self.ctx.loki is None:
            return
        if self._follow_timer is not None:
            self._stop_follower()
        self._render_header()
        self._status(Text("loading…"))
        self._load()

    def on_log_lines_selected(self, event: LogLines.Selected) -> None:
        self.app.push_screen(ExpandedLine(event.entry))


def json_like(value: str) -> str:
    return '"' + plain(value, 60, newlines="symbol").replace('"', '\\"') + '"'
