"""A virtualised list of log lines: only the rows on screen are formatted and rendered.

Why not DataTable or RichLog: both lay out every row when it is added (5000 JSON lines of up to
20 kB each), while a person sees ~30. Here `render_line(y)` formats row y on demand (probes-free,
via tui.logfmt) and caches the few strips on screen, so 5000 lines cost what 30 do.
Rows are newest first; entries are held oldest first so that follow mode appends in O(1).
Colours come from component classes styled in tui/screens/logs.tcss with theme variables.
"""

from __future__ import annotations

from typing import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.logfmt import Shown, local_time, show
from tui.output import plain

BADGES = {"error": "ERR", "warn": "WRN", "info": "INF", "debug": "DBG", None: "   "}
JOB_WIDTH = 14


class LogLines(ScrollView, can_focus=True):
    """Rows of `time  LVL  [job]  message  … [+19 kB]`; Enter posts LogLines.Selected."""

    COMPONENT_CLASSES = {
        "log-lines--time", "log-lines--job", "log-lines--marker", "log-lines--cursor",
        "log-lines--error", "log-lines--warn", "log-lines--info", "log-lines--debug", "log-lines--unknown",
    }
    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "jump(0)", "Newest", show=False),
        Binding("end,G", "jump(-1)", "Oldest", show=False),
        Binding("enter", "select", "Expand"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Selected(Message):
        def __init__(self, entry) -> None:
            self.entry = entry
            super().__init__()

    def __init__(self, *, with_date: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self._entries: list = []  # oldest first
        self._shown: dict[int, Shown] = {}  # id(entry) -> formatted, for rows rendered so far
        self._strips: dict[tuple[int, int, bool], Strip] = {}
        self.with_date = with_date
        self._jobs: set[str] = set()

    # -- data ---------------------------------------------------------------------------------

    @property
    def count(self) -> int:
        return len(self._entries)

    def entry_at(self, row: int):
        """The entry shown at `row` (0 = newest)."""
        if 0 <= row < len(self._entries):
            return self._entries[len(self._entries) - 1 - row]
        return None

    @property
    def selected(self):
        return self.entry_at(self.cursor)

    def set_entries(self, entries: Sequence, newest_first: bool = True) -> None:
        self._entries = list(reversed(entries)) if newest_first else list(entries)
        self._shown.clear()
        self._jobs = {_job(e) for e in self._entries}
        self._changed()
        self.cursor = 0
        self.scroll_to(y=0, animate=False)

    def add_entries(self, entries: Sequence, cap: int | None = None) -> None:
        """Append newer entries (oldest first); keep the selection on the same entry."""
        if not entries:
            return
        self._entries.extend(entries)
        self._jobs.update(_job(e) for e in entries)
        dropped = 0
        if cap is not None and len(self._entries) > cap:
            dropped = len(self._entries) - cap
            for e in self._entries[:dropped]:
                self._shown.pop(id(e), None)
            del self._entries[:dropped]
        self._changed()
        if self.cursor > 0:  # reading older lines: keep them still under the cursor
            self.cursor = min(self.cursor + len(entries), len(self._entries) - 1)
            self.scroll_to(y=self.scroll_y + len(entries), animate=False)

    def _changed(self) -> None:
        self._strips.clear()
        self.virtual_size = Size(self.size.width, len(self._entries))
        self.refresh()

    # -- rendering ----------------------------------------------------------------------------

    def _format(self, entry) -> Shown:
        key = id(entry)
        got = self._shown.get(key)
        if got is None:
            got = self._shown[key] = show(entry.line, entry.labels)
        return got

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def on_resize(self) -> None:
        self._strips.clear()
        self.virtual_size = Size(self.size.width, len(self._entries))

    def render_line(self, y: int) -> Strip:
        row = self.scroll_offset.y + y
        width = self.size.width
        base = self.rich_style
        entry = self.entry_at(row)
        if entry is None:
            return Strip.blank(width, base)
        key = (row, width, row == self.cursor)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._render_row(entry, width, row == self.cursor, base)
        return strip.apply_offsets(0, row)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"log-lines--{name}", partial=True)

    def _render_row(self, entry, width: int, is_cursor: bool, base: Style) -> Strip:
        shown = self._format(entry)
        level = shown.level or "unknown"
        segments = [
            Segment(local_time(entry.ts_ns, with_date=self.with_date) + " ", base + self._style("time")),
            Segment(BADGES.get(shown.level, "   ") + " ", base + self._style(level)),
        ]
        if len(self._jobs) > 1:
            job = _job(entry)[:JOB_WIDTH].ljust(JOB_WIDTH) + " "
            segments.append(Segment(job, base + self._style("job")))
        used = sum(len(s.text) for s in segments)
        room = max(0, width - used)
        marker = shown.cut
        text = shown.text[: room + 1]
        if marker and room > len(marker) + 4:
            text = text[: room - len(marker) - 1].ljust(room - len(marker) - 1) + " "
        else:
            marker = ""
        message_style = base + (self._style(level) if level in ("error", "warn") else Style())
        segments.append(Segment(text, message_style))
        if marker:
            segments.append(Segment(marker, base + self._style("marker")))
        strip = Strip(segments).crop_extend(0, width, base)
        if is_cursor:
            strip = Strip([Segment(s.text, (s.style or Style()) + self._style("cursor")) for s in strip])
        return strip

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self._entries) - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self._strips.clear()
        self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, force=True)
        self.refresh()

    # -- actions ------------------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        self.cursor = max(0, min(self.cursor + delta, len(self._entries) - 1))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.size.height - 1))

    def action_jump(self, where: int) -> None:
        self.cursor = 0 if where == 0 else max(0, len(self._entries) - 1)

    def action_select(self) -> None:
        if self.selected is not None:
            self.post_message(self.Selected(self.selected))

    def on_click(self, event) -> None:
        row = self.scroll_offset.y + event.y
        if 0 <= row < len(self._entries):
            if row == self.cursor and event.chain >= 2:
                self.action_select()
            self.cursor = row

    def visible_text(self) -> list[str]:
        """The rows on screen as plain text (tests and the headless snapshot)."""
        top = self.scroll_offset.y
        return ["".join(s.text for s in self._render_row(e, self.size.width, False, Style()))
                for e in (self.entry_at(r) for r in range(top, top + self.size.height)) if e is not None]


def _job(entry) -> str:
    labels = entry.labels
    return plain(labels.get("job") or labels.get("service_name") or labels.get("app") or "", 40)
