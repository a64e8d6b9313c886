"""The dashboard panel: a bordered, focusable box that renders the latest data it was given.

Why one base: every panel has the same life (loading -> value | no data | not exported | error,
"stale since" when its source fails) and the same keys (up/down pick a row or series, which `l`
and Enter act on). Panels never fetch; the screen hands them immutable data and they redraw
only when it changed, so an idle dashboard sends next to nothing over SSH.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from rich.console import RenderableType
from rich.text import Text
from textual.binding import Binding
from textual.widget import Widget

from probes.dashboard_model import Source
from tui.output import markup, text


def hhmmss(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t))


class Panel(Widget, can_focus=True):
    """Subclasses implement body(width, height) and optionally rows()/row_labels()."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "prev row", show=False, tooltip="pick the previous series, GPU, service or alert"),
        Binding("down", "cursor(1)", "next row", show=False, tooltip="pick the next one (then l: its logs)"),
        # Here, not on the screen: the scrolling body around the panels binds left/right to scroll.
        Binding("right", "move_focus(1)", "next panel", show=False),
        Binding("left", "move_focus(-1)", "prev panel", show=False),
    ]

    def __init__(self, key: str, title: str, panel_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(id=panel_id or f"panel-{key}", classes="panel", **kwargs)
        self.key = key
        self.border_title = markup(title)
        self.data: Any = None
        self.source: Source | None = None
        self.cursor: int | None = None
        self.pattern = None      # compiled regex from `/`, or None
        self.ascii = False
        self.colour = True

    # ---- data in ------------------------------------------------------------------------------
    def update_data(self, data: Any) -> None:
        if data == self.data:
            return
        self.data = data
        n = len(self.rows())
        if self.cursor is not None and self.cursor >= n:
            self.cursor = n - 1 if n else None
        self.refresh()

    def set_source(self, source: Source | None) -> None:
        # Compare what is drawn (ok, error, stale since), not updated_at: every successful poll
        # has a new timestamp, and redrawing unchanged panels is what costs bytes over SSH.
        def shown(s: Source | None):
            return None if s is None else (s.ok, s.error, s.stale_since)
        if shown(source) == shown(self.source):
            self.source = source
            return
        self.source = source
        stale = source is not None and not source.ok
        self.set_class(stale, "-stale")
        if stale:
            since = f"stale since {hhmmss(source.stale_since)}: " if source.stale_since and self.data is not None else ""
            self.border_subtitle = markup(f"{since}{source.error}", 90)
        else:
            self.border_subtitle = ""
        self.refresh()

    def set_pattern(self, pattern) -> None:
        if pattern != self.pattern:
            self.pattern = pattern
            self.refresh()

    # ---- rows (series, GPUs, services, alerts) -------------------------------------------------
    def rows(self) -> Sequence[Any]:
        return ()

    def row_labels(self, row: Any) -> dict[str, str]:
        return {}

    def selected(self) -> Any | None:
        rows = self.rows()
        if self.cursor is None or not rows or self.cursor >= len(rows):
            return None
        return rows[self.cursor]

    def log_labels(self) -> dict[str, str]:
        """Labels for `l`: the selected row's, else what the whole panel covers."""
        row = self.selected()
        return self.row_labels(row) if row is not None else self.panel_labels()

    def panel_labels(self) -> dict[str, str]:
        return {}

    def action_cursor(self, delta: int) -> None:
        n = len(self.rows())
        if n == 0:
            self._move_focus(delta)
            return
        if self.cursor is None:
            self.cursor = 0 if delta > 0 else n - 1
        else:
            nxt = self.cursor + delta
            if nxt < 0 or nxt >= n:
                self.cursor = None
                self.refresh()
                self._move_focus(delta)
                return
            self.cursor = nxt
        self.refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """left/right exist only where there is another panel to go to (not on the zoom screen)."""
        if action == "move_focus":
            return len(self.screen.query(".panel")) > 1
        return True

    def action_move_focus(self, delta: int) -> None:
        self._move_focus(delta)

    def _move_focus(self, delta: int) -> None:
        if delta > 0:
            self.screen.focus_next(".panel")
        else:
            self.screen.focus_previous(".panel")

    def is_selected(self, index: int) -> bool:
        return self.cursor == index and self.has_focus

    # ---- drawing ------------------------------------------------------------------------------
    def render(self) -> RenderableType:
        if self.data is None:
            if self.source is not None and not self.source.ok:
                return text(self.source.error, style="bold", max_len=300)
            return Text("loading…" if not self.ascii else "loading...", style="dim")
        w, h = self.content_size.width, self.content_size.height
        return self.body(max(w, 1), max(h, 1))

    def body(self, width: int, height: int) -> RenderableType:
        raise NotImplementedError
