"""The alerts screen: Prometheus' firing/pending alerts with Alertmanager's state, rule evaluation
problems and silences; silence (n) and expire (x) from the keyboard, enter opens the alert's logs.

All data comes from probes.alerts.load_alerts in one exclusive worker; ticks are skipped while a
poll runs, so polls never overlap. Every label and annotation is untrusted: it is cleaned with
probes.textsafe and shown as rich Text, never parsed as markup. Writes go through a confirmation
step and never happen in a read-only session.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Static

from probes.alerts import (AM_NOT_IN, AlertRow, AlertsView, SilenceSpec, age_text, load_alerts, silence_matchers,
                           span_text, with_stale)
from probes.logql import LogRequest, request_for_labels
from tui.output import plain
from tui.screens.alerts_forms import ConfirmScreen, SilenceForm
from tui.screens.help import HELP_BINDING
from tui.widgets.keys_footer import KeysFooter

LOG_LABELS = ("job", "instance", "service")
LOG_LEAD_S = 300.0  # logs from 5 minutes before the alert became active


def _t(text: Any, max_len: int = 200) -> str:
    """A server string for a cell or a line: cleaned, secrets scrubbed, one line (tui.output)."""
    return plain(text, max_len)


def log_request(row: AlertRow, now: float, services=()) -> LogRequest:
    """The alert's logs: selected by its job, instance and service labels (a configured service's
    Loki selector or label mapping wins, see probes.logql), from 5 minutes before it became active.
    An alert with none of those labels (e.g. `sum(rate(...)) > x`) opens every job's logs."""
    picked = {k: str(row.labels[k]) for k in LOG_LABELS if row.labels.get(k)}
    start = (row.active_since.timestamp() if row.active_since else now) - LOG_LEAD_S
    return request_for_labels(picked, start, None, f"alert {_t(row.name, 80)}", services)


class AlertsScreen(Screen):
    CSS_PATH = "alerts.tcss"
    BINDINGS = [
        HELP_BINDING,
        Binding("r", "refresh", "Refresh"),
        Binding("n", "new_silence", "Silence"),
        Binding("x", "expire_silence", "Expire silence"),
        Binding("s", "toggle_silences", "Silences"),
        Binding("enter", "open_logs", "Logs", show=True),
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back"),
    ]

    def __init__(self, ctx, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ctx = ctx
        self.view: AlertsView | None = None
        self.loaded = False
        self._loaded = asyncio.Event()
        self._polling = False
        self._last_ok: dict[str, float] = {}
        self._down: set[str] = set()
        self._rows: list[AlertRow] = []
        self._keys: list[str] = []

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("Alerts: loading…", id="alerts-status", markup=False)
        with Horizontal(id="alerts-main"):
            with Vertical(id="alerts-left"):
                yield DataTable(id="alerts-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="rule-problems", markup=False)
                yield DataTable(id="silences-table", cursor_type="row", classes="hidden")
            with VerticalScroll(id="alert-details-box"):
                yield Static("", id="alert-details", markup=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one("#alerts-table", DataTable)
        table.add_columns("State", "Severity", "Alert", "Age", "Summary", "Alertmanager")
        self.query_one("#silences-table", DataTable).add_columns("ID", "State", "Ends in", "By", "Comment",
                                                                "Matchers")
        table.focus()
        self.action_refresh()
        self.set_interval(max(1.0, float(self.ctx.config.dashboard.refresh)), self._tick)

    async def wait_loaded(self, timeout: float = 30.0) -> bool:
        """For headless snapshots and tests: wait until the first poll has been shown."""
        try:
            await asyncio.wait_for(self._loaded.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    # -- polling ---------------------------------------------------------------------------------

    def _tick(self) -> None:
        if not self._polling:  # a slow source: skip this tick rather than stack polls
            self.action_refresh()

    def action_refresh(self) -> None:
        self._polling = True
        self.poll()

    def _clients(self):
        prom = self.ctx.prometheus
        if prom is None or self.ctx.scrape_mode or not hasattr(prom, "alerts"):
            prom = None
        return prom, self.ctx.alertmanager

    @work(exclusive=True, group="alerts-poll", exit_on_error=False)
    async def poll(self) -> None:
        prom, am = self._clients()
        # A poll cancelled by `r` (exclusive worker) leaves the flags to the poll that replaced it.
        try:
            view = await load_alerts(prom, am, timeout=float(self.ctx.config.prometheus.timeout))
            self._announce(view)
            self.show(with_stale(view, self.view))
        except Exception:  # a bug must not leave the screen "loading" forever; the worker reports it
            self._finish()
            raise
        self._finish()

    def _finish(self) -> None:
        self._polling = False
        self.loaded = True
        self._loaded.set()

    def _announce(self, view: AlertsView) -> None:
        """Remember when each source last answered; toast only when one goes down or comes back."""
        now = self.ctx.clock()
        for source, used in (("prometheus", view.prometheus), ("alertmanager", view.alertmanager)):
            if not used:
                continue
            if source not in view.errors:
                self._last_ok[source] = now
                if source in self._down:
                    self._down.discard(source)
                    self.notify(f"{source.capitalize()} is reachable again", markup=False)
            elif source not in self._down:
                self._down.add(source)
                self.notify(f"{source.capitalize()} unreachable", severity="error", markup=False)

    # -- rendering -------------------------------------------------------------------------------

    def _colours(self) -> dict[str, str]:
        try:
            css = self.app.get_css_variables()
        except Exception:  # not mounted in an app with a theme
            css = {}
        return {"critical": css.get("error", "red"), "warning": css.get("warning", "yellow")}

    def show(self, view: AlertsView) -> None:
        self.view = view
        now = self.ctx.clock()
        self.query_one("#alerts-status", Static).update(self._status_text(view))
        table = self.query_one("#alerts-table", DataTable)
        selected = self._selected_key()
        table.clear()
        colours = self._colours()
        self._rows = list(view.rows)
        self._keys = self._unique_keys(self._rows)
        for i, r in enumerate(self._rows):
            style = colours.get(r.severity.lower(), "")
            state = Text(r.state, style=f"bold {style}" if r.state == "firing" and style else "")
            am = _t(r.am_state, 20) or "?"
            if r.silenced_by:
                am = f"silenced {_t(r.silenced_by[0], 8)}"
            elif r.inhibited_by:
                am = "inhibited"
            table.add_row(state, Text(_t(r.severity, 12) or "-", style=style), Text(_t(r.name, 60)),
                          age_text(r.active_since, now), Text(_t(r.summary, 80)), Text(am), key=self._keys[i])
        if selected in self._keys:  # keep the cursor on the same alert across refreshes
            table.move_cursor(row=self._keys.index(selected))
        self._show_problems(view)
        self._show_silences(view, now)
        self._show_details()

    @staticmethod
    def _unique_keys(rows: list[AlertRow]) -> list[str]:
        keys: list[str] = []
        for r in rows:
            key = json.dumps(sorted(r.labels.items()))
            while key in keys:
                key += "'"
            keys.append(key)
        return keys

    def _selected_key(self) -> str | None:
        table = self.query_one("#alerts-table", DataTable)
        if self.selected_row() is None:
            return None
        return self._keys[table.cursor_row]

    def _status_text(self, view: AlertsView) -> Text:
        out = Text()
        firing = len(view.firing)
        pending = sum(1 for r in view.rows if r.state == "pending")
        out.append(f"{firing} firing, {pending} pending, {len(view.silences)} silences")
        if self.ctx.readonly:
            out.append("  [read-only]", style="bold")
        names = {"prometheus": "Prometheus", "alertmanager": "Alertmanager"}
        if not view.prometheus:
            out.append("\nPrometheus: needs Prometheus (not configured, or direct-scrape mode)")
        if not view.alertmanager:
            out.append("\nAlertmanager: not configured (no silences, no routing state)")
        for source, message in view.errors.items():
            last = self._last_ok.get(source if source in names else
                                     ("prometheus" if source == "rules" else "alertmanager"))
            since = f" — stale since {time.strftime('%H:%M:%S', time.localtime(last))}" if last else " — no data yet"
            out.append("\n" + _t(message, 300) + since, style=self._colours()["critical"])
        return out

    def _show_problems(self, view: AlertsView) -> None:
        box = self.query_one("#rule-problems", Static)
        if not view.rule_problems:
            box.update("")
            box.display = False
            return
        text = Text(f"Rule evaluation problems ({len(view.rule_problems)})\n", style="bold")
        for p in view.rule_problems:
            text.append(f"{_t(p.group, 60)}/{_t(p.rule, 60)}: ", style="bold")
            text.append(_t(p.error, 300) + "\n")
        box.update(text)
        box.display = True

    def _show_silences(self, view: AlertsView, now: float) -> None:
        table = self.query_one("#silences-table", DataTable)
        table.clear()
        for s in view.silences:
            left = span_text(s.ends_at.timestamp() - now) if s.ends_at else "?"
            table.add_row(Text(_t(s.id, 40)), Text(_t(s.state, 12)), left, Text(_t(s.created_by, 30)), Text(_t(s.comment, 60)),
                          Text(", ".join(_t(str(m), 80) for m in s.matchers)), key=s.id)

    def selected_row(self) -> AlertRow | None:
        table = self.query_one("#alerts-table", DataTable)
        if not self._rows or table.cursor_row is None or not (0 <= table.cursor_row < len(self._rows)):
            return None
        return self._rows[table.cursor_row]

    @on(DataTable.RowHighlighted, "#alerts-table")
    def _show_details(self) -> None:
        row = self.selected_row()
        details = self.query_one("#alert-details", Static)
        if row is None:
            details.update(Text("No alerts." if self.loaded else "Loading…"))
            return
        now = self.ctx.clock()
        text = Text(_t(row.name, 120) + "\n", style="bold")
        text.append(f"{_t(row.state, 12)}, {_t(row.severity, 30) or 'no severity'}, active since ")
        text.append(row.active_since.astimezone().strftime("%Y-%m-%d %H:%M:%S") if row.active_since else "?")
        text.append(f" ({age_text(row.active_since, now)})\n")
        text.append("value: " + ("-" if row.value is None else f"{row.value:.6g}") + "\n")
        am = _t(row.am_state, 40) or "unknown (no Alertmanager answer)"
        text.append(f"Alertmanager: {am}" + (" (pending alerts are not sent)" if row.am_state == AM_NOT_IN
                                             and row.state == "pending" else "") + "\n")
        for what, ids in (("silenced by", row.silenced_by), ("inhibited by", row.inhibited_by)):
            if ids:
                text.append(f"{what}: " + ", ".join(_t(i, 60) for i in ids) + "\n")
        text.append("\nLabels\n", style="bold")
        for k, v in sorted(row.labels.items()):
            text.append(f"  {_t(k, 60)}", style="bold")
            text.append(f" = {_t(v, 300)}\n")
        text.append("\nAnnotations\n", style="bold")
        for k, v in sorted(row.annotations.items()):
            text.append(f"  {_t(k, 60)}", style="bold")
            text.append(": " + plain(v, 2000, newlines="keep") + "\n")
        details.update(text)

    # -- actions ---------------------------------------------------------------------------------

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        else:  # pushed alone (a test app, `llmwatch snapshot`): back means quit
            self.app.exit()

    def action_toggle_silences(self) -> None:
        table = self.query_one("#silences-table", DataTable)
        table.toggle_class("hidden")
        if not table.has_class("hidden"):
            table.focus()
        else:
            self.query_one("#alerts-table", DataTable).focus()

    @on(DataTable.RowSelected, "#alerts-table")
    def _row_selected(self) -> None:
        self.action_open_logs()

    def action_open_logs(self) -> None:
        row = self.selected_row()
        if row is None:
            self.notify("No alert selected.")
            return
        request = log_request(row, self.ctx.clock(), self.ctx.config.services)
        opener = getattr(self.app, "open_logs", None)
        if opener is None:
            self.notify(f"Logs are not available in this app; query: {_t(request.selector, 300)}", markup=False)
            return
        opener(request)

    def action_new_silence(self) -> None:
        if self.ctx.readonly:
            self.notify("read-only session: silences cannot be created", severity="warning")
            return
        if self.ctx.alertmanager is None:
            self.notify("Alertmanager not configured: cannot silence", severity="error")
            return
        row = self.selected_row()
        # Made safe for the input box: a label value with control or bidi characters would reach
        # the terminal raw there. The review step shows exactly what will be POSTed.
        prefill = " ".join(plain(m, None) for m in silence_matchers(row)) if row else ""
        self.app.push_screen(SilenceForm(prefill, self.ctx.clock), self._silence_chosen)

    def _silence_chosen(self, spec: SilenceSpec | None) -> None:
        if spec is not None:
            self.create_silence(spec)

    @work(exclusive=True, group="alerts-write", exit_on_error=False)
    async def create_silence(self, spec: SilenceSpec) -> None:
        res = await self.ctx.alertmanager.create_silence(list(spec.matchers), spec.starts_at, spec.ends_at,
                                                        spec.author, spec.comment)
        if res.ok:
            self.notify(f"silence {_t(res.value, 60)} created", markup=False)
            self.action_refresh()
        else:
            self.notify(_t(res.error.message if res.error else "Alertmanager refused the silence", 300),
                        severity="error", markup=False)

    def _silence_target(self) -> str | None:
        silences = self.query_one("#silences-table", DataTable)
        ids = [s.id for s in (self.view.silences if self.view else ())]
        if not silences.has_class("hidden") and ids and (silences.has_focus or self.selected_row() is None):
            if silences.cursor_row is not None and 0 <= silences.cursor_row < len(ids):
                return ids[silences.cursor_row]
        row = self.selected_row()
        if row is not None and row.silenced_by:
            return row.silenced_by[0]
        return None

    def action_expire_silence(self) -> None:
        if self.ctx.readonly:
            self.notify("read-only session: silences cannot be expired", severity="warning")
            return
        if self.ctx.alertmanager is None:
            self.notify("Alertmanager not configured", severity="error")
            return
        sid = self._silence_target()
        if sid is None:
            self.notify("Select a silence first (s lists silences), or a silenced alert.")
            return
        question = Text(f"Expire silence {_t(sid, 80)} now?")

        def chosen(yes: bool | None) -> None:
            if yes:
                self.expire_silence(sid)
        self.app.push_screen(ConfirmScreen(question, yes="Expire"), chosen)

    @work(exclusive=True, group="alerts-write", exit_on_error=False)
    async def expire_silence(self, sid: str) -> None:
        res = await self.ctx.alertmanager.expire_silence(sid)
        if res.ok:
            self.notify(f"silence {_t(sid, 80)} expired", markup=False)
            self.action_refresh()
        else:
            self.notify(_t(res.error.message if res.error else "could not expire", 300), severity="error",
                        markup=False)
