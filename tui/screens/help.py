"""`?`: every key of the current screen, read from its live bindings (never out of date)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

# Each screen lists this first in its BINDINGS, so `?` is the footer's first key at any width.
HELP_BINDING = Binding("question_mark", "app.help", "help", key_display="?", tooltip="this list of keys")
NOTES = [
    ("mouse", "click a panel or row to focus it; scroll to see more"),
]


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "close")]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__(id="help")
        self.rows = rows   # (keys as shown, description), from tui.app.help_rows

    def compose(self) -> ComposeResult:
        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold")
        t.add_column()
        for keys, desc in [*self.rows, *NOTES]:
            t.add_row(keys, desc)
        yield Static(Text("llmwatch keys (Esc to close)", style="bold"), id="help-title")
        yield Static(t, id="help-body")
