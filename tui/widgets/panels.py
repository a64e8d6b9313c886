"""The dashboard's panel kinds. Each renders one immutable piece of data as rich Text.

The registry at the bottom maps a panel key to its class and title (dolphie's PANEL_MAPPING):
the screen builds panels from it, and `:` jumps to them by these titles.
"""

from __future__ import annotations

from typing import Sequence

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from probes.dashboard_model import Bar, Chart, GpuRow, Line, Stat
from probes.signals import SignalValue
from probes.units import format_state, format_value
from tui.output import plain
from tui.widgets.chart import render_chart, scale_for
from tui.widgets.glyphs import hbar, level_mark, sparkline
from tui.widgets.panel import Panel

STATE_WORDS = {"not_exported": "not exported", "no_traffic": "no traffic", "no_data": "no data",
               "error": "error", "needs_prometheus": "needs Prometheus", "loading": "loading…"}


def level_style(panel: Panel, level: str) -> str:
    theme = panel.app.current_theme
    colour = {"critical": theme.error, "warning": theme.warning, "ok": theme.success}.get(level)
    return f"bold {colour}" if colour and panel.colour else "bold"


def state_text(state: str, reason: str) -> Text:
    out = Text(STATE_WORDS.get(state, state.replace("_", " ")), style="bold")
    if reason:
        out.append("\n" + plain(reason, 400), style="dim")
    return out


def fit(text: str, width: int) -> str:
    """Untrusted text made safe and cut to `width` cells with "…" (cells are too narrow for
    textsafe's "[+N chars]" marker; the zoom view shows the whole text)."""
    safe = plain(text, 2000)
    return safe if len(safe) <= width else safe[: max(0, width - 1)] + "…"


def _row_style(panel: Panel, i: int) -> str:
    return "reverse" if panel.is_selected(i) else ""


class StatsPanel(Panel):
    """The stat row: one card per headline number, coloured by thresholds, with a trend."""

    def body(self, width: int, height: int) -> RenderableType:
        stats: Sequence[Stat] = self.data
        if not stats:
            return Text("")
        grid = Table.grid(expand=True, padding=(0, 1))
        for _ in stats:
            grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        cell_w = max(6, width // len(stats) - 1)
        cells = []
        for st in stats:
            cell = Text(st.title + "\n", style="dim")
            style = level_style(self, st.level) if st.state == "ok" else "bold"
            cell.append(st.text, style=style)
            mark = level_mark(st.level, self.ascii) if st.state == "ok" else ""
            if mark:
                cell.append(" " + mark, style=style)
            cell.append("\n" + fit(st.detail, cell_w), style="dim")
            if st.trend and height >= 4:
                cell.append("\n" + sparkline(st.trend, cell_w, self.ascii), style=style if self.colour else "")
            cells.append(cell)
        grid.add_row(*cells)
        return grid


class ChartPanel(Panel):
    """Lines over the range; up/down pick a series (for `l`), the legend marks it."""

    def rows(self) -> Sequence[Line]:
        chart: Chart | None = self.data
        if chart is None:
            return ()
        if self.pattern is None:
            return chart.lines
        return tuple(ln for ln in chart.lines if self.pattern.search(ln.name))

    def row_labels(self, row: Line) -> dict[str, str]:
        out = dict(row.labels)
        if row.job:
            out["job"] = row.job
        return out

    def panel_labels(self) -> dict[str, str]:
        jobs = sorted({ln.job for ln in self.rows() if ln.job})
        return {"job": "|".join(jobs)} if jobs else {}

    def body(self, width: int, height: int) -> RenderableType:
        chart: Chart = self.data
        if chart.state != "ok":
            return state_text(chart.state, chart.reason)
        lines = self.rows()
        if not lines:
            return Text(f"no series match /{self.pattern.pattern}/" if self.pattern else "no data", style="dim")
        sel = self.selected() if self.has_focus else None
        shown = [sel] if sel is not None else list(lines)
        unit = scale_for(chart.unit)[1]
        text = render_chart(chart, width, height - 1, shown, ascii=self.ascii, colour=self.colour)
        if sel is not None:
            last = format_value(sel.last, chart.unit)
            head = Text(f"{fit(sel.name, 60)}: {last}  ({self.cursor + 1}/{len(lines)})", style="bold")
        else:
            head = Text(f"{len(lines)} series" + (f" in {unit}" if unit else ""), style="dim")
        note = chart.dropped.note()
        if note:  # what the answers held that cannot be drawn: say so rather than hide it
            head.append(f"  {note}", style="bold" if self.colour else "")
        head.truncate(width, overflow="ellipsis")
        return Text.assemble(head, "\n", text)


class BarsPanel(Panel):
    """Rows of label, bar and share (routing split, cost by model)."""

    headline: str = ""

    def rows(self) -> Sequence[Bar]:
        data = self.data or ((), ())
        bars = data[1]
        if self.pattern is None:
            return bars
        return tuple(b for b in bars if self.pattern.search(b.label))

    def row_labels(self, row: Bar) -> dict[str, str]:
        out = dict(row.labels)
        if row.job:
            out["job"] = row.job
        return out

    def head(self) -> Text:
        return Text("")

    def body(self, width: int, height: int) -> RenderableType:
        out = self.head()
        bars = self.rows()
        label_w = max(8, min(28, width // 3))
        bar_w = max(4, width - label_w - 20)
        room = max(0, height - len(out.plain.splitlines()))
        for i, b in enumerate(bars[:room]):
            line = Text(no_wrap=True, overflow="ellipsis", style=_row_style(self, i))
            line.append(fit(b.label, label_w).ljust(label_w) + " ")
            line.append(hbar(b.share, bar_w, self.ascii), style="cyan" if self.colour else "")
            line.append(f" {b.share * 100:5.1f}% {b.text}")
            out.append("\n")
            out.append_text(line)
        if len(bars) > room:
            out.append(f"\n+{len(bars) - room} more (Enter to zoom)", style="dim")
        if not bars and not out.plain:
            return Text("no traffic", style="dim")
        return out


class CostPanel(BarsPanel):
    """Rates on the first line, spend on the second, each window named: "last 1h" is the chart
    range, "today" runs from local midnight (so the two differ before 01:00)."""

    LABELS = {"cost_rate": "now", "savings_rate": "local savings", "spend_today": "today since 00:00"}

    def head(self) -> Text:
        stats, _bars, spend, range_s = (*self.data, None, None)[:4]
        if not stats:
            return state_text("not_exported", "no detected system counts cost or tokens with prices")
        rates = [st for st in stats if st.key != "spend_today" and (st.key != "savings_rate" or st.state == "ok")]
        spent = [st for st in stats if st.key == "spend_today"]
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        self._items(out, [(self.LABELS.get(st.key, st.title), st.text) for st in rates])
        items = []
        if spend is not None and range_s:
            from probes.durations import format_duration
            items.append((f"last {format_duration(range_s)}", format_value(spend, "$")))
        items += [(self.LABELS[st.key], st.text) for st in spent]
        if items:
            out.append("\n")
            self._items(out, items)
        return out

    @staticmethod
    def _items(out: Text, items: list[tuple[str, str]]) -> None:
        for i, (label, value) in enumerate(items):
            if i:
                out.append("   ")
            out.append(label + " ", style="dim")
            out.append(value, style="bold")

    def rows(self) -> Sequence[Bar]:
        return super().rows() if self.data else ()


class RoutingPanel(BarsPanel):
    """Stack-wide local share, then each system's own when there are several, then the bars."""

    def head(self) -> Text:
        share: SignalValue | None = self.data[0]
        mine: tuple[SignalValue, ...] = self.data[2] if len(self.data) > 2 else ()
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        if share is None:
            out.append("by traffic share", style="dim")
            return out
        if share.state != "ok":
            out.append(f"local share: {format_state(share.state, share.value, share.unit)}", style="dim")
            return out
        local = share.value or 0.0
        out.append("local " if len(mine) <= 1 else "stack local ", style="dim")
        out.append(f"{local * 100:.1f}%", style="bold")
        out.append(" " + hbar(local, 20, self.ascii) + " ", style="green" if self.colour else "")
        out.append(f"{(1 - local) * 100:.1f}%", style="bold")
        out.append(" cloud", style="dim")
        if len(mine) > 1:
            each = ", ".join(f"{fit(v.title, 24)} {format_state(v.state, v.value, v.unit)}" for v in mine)
            out.append("\n" + each, style="dim")
        return out


class ServingPanel(Panel):
    def rows(self):
        return self.data or ()

    def row_labels(self, row) -> dict[str, str]:
        return {"job": row.job} if row.job else {}

    def body(self, width: int, height: int) -> RenderableType:
        rows = self.rows()
        if not rows:
            return state_text("not_exported", "no serving engine detected (vLLM, TGI, llama.cpp, SGLang, Triton)")
        t = Table.grid(padding=(0, 1), expand=True)
        t.add_column("system", no_wrap=True, overflow="ellipsis", ratio=1)
        for _ in range(4):
            t.add_column(no_wrap=True, width=8)
        t.add_row(*(Text(h, style="dim") for h in ("system", "TTFT p95", "queue", "KV cache", "running")))
        t.columns[0].min_width = 10

        def cell(v: SignalValue | None) -> Text:
            if v is None:
                return Text("-", style="dim")
            text = v.text if v.state == "ok" else {"not_exported": "n/a", "no_traffic": "idle"}.get(v.state, v.text)
            return Text(text, style="" if v.state == "ok" else "dim")
        for i, r in enumerate(rows[: max(1, height - 1)]):
            t.add_row(Text(fit(r.system, 40), style=_row_style(self, i)), cell(r.ttft_p95), cell(r.queue),
                      cell(r.kv_cache), cell(r.in_flight))
        return t


class GpuPanel(Panel):
    def rows(self) -> Sequence[GpuRow]:
        return self.data[0] if self.data else ()

    def row_labels(self, row: GpuRow) -> dict[str, str]:
        out = {k: v for k, v in row.labels if k in ("gpu", "Hostname", "hostname")}
        if row.job:
            out["job"] = row.job
        return out

    def body(self, width: int, height: int) -> RenderableType:
        gpus, memory, models = self.data
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        bar_w = max(4, min(30, width - 32))
        if not gpus:
            out.append("GPU: not exported (no DCGM or nvidia_gpu_exporter detected)", style="dim")
        for i, g in enumerate(gpus):
            if i:
                out.append("\n")
            name = Text(f"GPU{fit(g.gpu, 3):<3} ", style=_row_style(self, i) or "bold")
            out.append_text(name)
            out.append("util ", style="dim")
            out.append(hbar(g.util, bar_w, self.ascii), style="cyan" if self.colour else "")
            out.append(f" {format_value(g.util, 'ratio'):>7} {format_value(g.temp, 'C')} {format_value(g.power, 'W')}")
            frac = (g.mem_used / g.mem_total) if g.mem_used is not None and g.mem_total else None
            out.append("\n       mem  ", style="dim")
            out.append(hbar(frac, bar_w, self.ascii), style="magenta" if self.colour else "")
            out.append(f" {format_value(g.mem_used, 'bytes')}/{format_value(g.mem_total, 'bytes')}")
        for m in memory:
            total = f"/{format_value(m.total, 'bytes')}" if m.total else ""
            out.append(f"\nmem {fit(m.label, 24)}: {format_value(m.used, 'bytes')}{total}", style="dim")
        for name, vram in models:
            out.append(f"\nollama {fit(name, 40)}: {format_value(vram, 'bytes')} VRAM", style="dim")
        return out


class HealthPanel(Panel):
    def rows(self):
        return self.data or ()

    def row_labels(self, row) -> dict[str, str]:
        return {"job": row.name, "service": row.name}

    def body(self, width: int, height: int) -> RenderableType:
        rows = self.rows()
        if not rows:
            return Text("no [[services]] configured: add health endpoints to the config", style="dim")
        t = Table.grid(padding=(0, 1), expand=True)
        t.add_column(no_wrap=True, overflow="ellipsis", max_width=20)
        t.add_column(no_wrap=True, width=8)
        t.add_column(no_wrap=True, width=15)
        t.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        for i, r in enumerate(rows[: max(1, height)]):
            level = {0: "ok", 1: "warning"}.get(int(r.status), "critical")
            ms = f"{r.response_time_ms:.0f} ms" if r.response_time_ms is not None else "-"
            when = r.checked_at.astimezone().strftime("%H:%M:%S") if r.checked_at else "-"
            detail = "" if r.ok else r.summary
            t.add_row(Text(fit(r.name, 20), style=_row_style(self, i)),
                      Text(r.status.name, style=level_style(self, level)), Text(f"{ms} {when}", style="dim"),
                      Text(fit(detail, 200)))
        return t


class AlertsPanel(Panel):
    """Firing and pending alerts, coloured by severity (the colours are theme variables in
    llmwatch.tcss: critical $error, warning $warning, anything else $primary; pending dimmer)."""

    COMPONENT_CLASSES = {"alert--critical", "alert--warning", "alert--info", "alert--pending"}

    def rows(self):
        return self.data[0] if self.data else ()

    def row_labels(self, row) -> dict[str, str]:
        return dict(row.labels)

    def _severity_style(self, severity: str, state: str):
        if not self.colour:
            return "bold" if state == "firing" else ""
        kind = "pending" if state != "firing" else {"critical": "critical", "warning": "warning"}.get(severity, "info")
        return self.get_component_rich_style(f"alert--{kind}")

    def body(self, width: int, height: int) -> RenderableType:
        alerts, error, now = self.data
        if error:
            if "needs Prometheus" in error:
                return state_text("needs_prometheus", "alerts come from Prometheus' rule evaluation; "
                                  "direct-scrape mode has none")
            return state_text("error", error)
        if not alerts:
            return Text("no alerts firing or pending", style="dim")
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        for i, a in enumerate(alerts[: max(1, height // 2)]):
            sev = a.labels.get("severity", "")
            style = self._severity_style(sev, a.state)
            age = _age(now - a.active_at.timestamp()) if a.active_at else "-"
            summary = a.annotations.get("summary") or a.annotations.get("description") or ""
            if i:
                out.append("\n")
            out.append(f"{fit(a.state, 8):<8}", style=style)
            out.append(fit(a.name, max(10, width - 30)), style=_row_style(self, i) or style)
            out.append("  ")
            out.append(fit(sev or "-", 10), style=style)
            out.append(f"  for {age}", style="dim")
            out.append("\n  " + fit(summary, max(10, width - 3)))
        if len(alerts) > height // 2:
            out.append(f"\n+{len(alerts) - height // 2} more (a: alerts screen)", style="dim")
        return out


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


# key -> (class, title). Order is the Tab order and the layout order.
PANELS: dict[str, tuple[type[Panel], str]] = {
    "stats": (StatsPanel, "Now"),
    "latency": (ChartPanel, "Latency P50/P95/P99"),
    "traffic": (ChartPanel, "Requests/s by label"),
    "errors": (ChartPanel, "Error rate"),
    "cost": (CostPanel, "Cost"),
    "routing": (RoutingPanel, "Routing split"),
    "serving": (ServingPanel, "LLM serving"),
    "gpu": (GpuPanel, "GPU and memory"),
    "health": (HealthPanel, "Health"),
    "alerts": (AlertsPanel, "Alerts"),
}


def make_panel(key: str) -> Panel:
    cls, title = PANELS[key]
    return cls(key, title)

