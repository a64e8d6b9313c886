"""`?`: every key of the current screen and the app, from their BINDINGS (never out of date)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

EXTRA = [
    ("up/down", "pick a row or series in the focused panel (then l or Enter)"),
    ("mouse", "click a panel to focus it; scroll to see more panels"),
    (":", "command palette: jump to a panel, change range, switch theme"),
]


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "close")]

    def __init__(self, bindings) -> None:
        super().__init__(id="help")
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold")
        t.add_column()
        seen = set()
        for b in self.bindings:
            if b.description and b.key not in seen:
                seen.add(b.key)
                t.add_row(b.key_display or b.key, b.description)
        for key, desc in EXTRA:
            t.add_row(key, desc)
        yield Static(Text("llmwatch keys (Esc to close)", style="bold"), id="help-title")
        yield Static(t, id="help-body")
