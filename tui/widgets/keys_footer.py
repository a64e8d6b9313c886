"""The key footer every screen shows: Textual's Footer, compact below 120 columns.

Why: at 80 columns the roomy footer cut the dashboard's keys after `q`. Each screen lists `?`
first (tui.screens.help.HELP_BINDING) and the compact layout fits the rest at 80 columns.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Footer

COMPACT_BELOW = 120


class KeysFooter(Footer):
    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_BELOW
