"""Enter on a panel: the same panel full screen, and for charts a legend with each series'
last, min, max and mean over the range (the numbers behind the lines)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from probes.dashboard_model import Chart
from probes.units import format_value
from tui.output import text
from tui.screens.help import HELP_BINDING
from tui.widgets.keys_footer import KeysFooter
from tui.widgets.panel import Panel
from tui.widgets.panels import ChartPanel


class ZoomScreen(Screen):
    BINDINGS = [
        HELP_BINDING,
        Binding("escape,enter,q", "app.pop_screen", "back"),
        Binding("l", "logs", "logs"),
    ]

    def __init__(self, source: Panel) -> None:
        super().__init__(classes="zoom")
        self.source = source
        self.panel = type(source)(source.key, source.border_title or source.key, panel_id=f"zoom-{source.key}")

    def compose(self) -> ComposeResult:
        yield Static(Text(f"{self.source.border_title}: Esc to go back", style="bold"), id="zoom-title")
        yield self.panel
        if isinstance(self.source, ChartPanel):
            yield DataTable(id="legend", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.panel.ascii, self.panel.colour = self.source.ascii, self.source.colour
        self.panel.pattern = self.source.pattern
        self.sync()
        self.set_interval(1.0, self.sync)
        self.panel.focus()

    def sync(self) -> None:
        self.panel.set_source(self.source.source)
        if self.source.data == self.panel.data:
            return
        self.panel.update_data(self.source.data)
        table = self.query("#legend")
        if table and isinstance(self.source.data, Chart):
            self._legend(table.first(), self.source.data)

    def _legend(self, table: DataTable, chart: Chart) -> None:
        table.clear(columns=True)
        table.add_columns("series", "last", "min", "max", "mean")
        for line in self.panel.rows():
            last, lo, hi, mean = line.stats()
            table.add_row(text(line.name, max_len=80), *(format_value(v, chart.unit) for v in (last, lo, hi, mean)))

    def action_logs(self) -> None:
        labels = self.panel.log_labels()
        table = self.query("#legend")
        if table and table.first().has_focus:
            rows = self.panel.rows()
            row = table.first().cursor_row
            if 0 <= row < len(rows):
                labels = self.panel.row_labels(rows[row])
        dash = self.app.get_screen("dashboard") if self.app.is_screen_installed("dashboard") else None
        range_s = getattr(dash, "range_s", 3600.0)
        now = self.app.ctx.clock()
        self.app.open_logs_for(labels, now - range_s, None, f"panel {self.source.border_title}")
