"""The dashboard screen: header, stat row and panels, fed by one poll loop per source.

Sources and the panels they feed:
  meta     -> header (Prometheus version, systems); gates the others (they need detection)
  instant  -> stats, cost, routing, serving, gpu, alerts
  range    -> latency, traffic, errors, and the stat trends and spend over the range
  health   -> health         ollama -> gpu (loaded models)
A source that fails leaves its panels showing the last data with "stale since"; other panels
carry on. Keys are listed in BINDINGS (the footer and `?` read them from there).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Static

from probes.config import Config
from probes.dashboard_fetch import Instant, Meta, Ranges, load_instant, load_meta, load_ranges
from probes.dashboard_model import Source
from probes.durations import format_duration
from probes.health import ClientPool
from probes.profiles import load_profiles
from probes.redact import display_url
from tui.appctx import AppContext
from tui.output import markup, plain
from tui.poller import Poller
from tui.screens.help import HELP_BINDING
from tui.widgets.keys_footer import KeysFooter
from tui.widgets.panel import Panel, hhmmss
from tui.widgets.panels import PANELS, make_panel

RANGES = (300.0, 900.0, 3600.0, 6 * 3600.0, 86400.0, 7 * 86400.0)
META_EVERY = 60.0
SOURCES_OF = {"instant": ("stats", "cost", "routing", "serving", "gpu", "alerts"),
              "range": ("latency", "traffic", "errors"), "health": ("health",), "ollama": ()}


RANGE_KEYS = Binding.Group("range", compact=True)   # one footer item: "+-range"


def snap_range(seconds: float) -> float:
    return min(RANGES, key=lambda r: abs(r - seconds))


class DashboardScreen(Screen):
    BINDINGS = [
        HELP_BINDING,   # first, so the footer keeps it at 80 columns (as nano keeps ^G Help)
        Binding("q", "app.quit", "quit"),
        Binding("plus,equals_sign", "range(1)", "longer", key_display="+", group=RANGE_KEYS,
                tooltip="longer chart range: 5m 15m 1h 6h 24h 7d"),
        Binding("minus", "range(-1)", "shorter", key_display="-", group=RANGE_KEYS, tooltip="shorter chart range"),
        Binding("r", "refresh_now", "refresh", tooltip="poll every source now"),
        Binding("p", "pause", "pause", tooltip="pause / resume polling"),
        Binding("enter", "zoom", "zoom", tooltip="the focused panel full screen, with a legend"),
        Binding("slash", "filter", "filter", key_display="/", tooltip="filter series by regex (Esc clears)"),
        Binding("l", "logs", "logs", tooltip="Loki logs of the focused panel or the picked row"),
        Binding("a", "app.open_alerts", "alerts", tooltip="the alerts screen: silences, rule errors"),
        Binding("tab", "app.focus_next", "next", show=False, tooltip="next panel"),
        Binding("shift+tab", "app.focus_previous", "prev", show=False, tooltip="previous panel"),
        Binding("escape", "clear_filter", "clear filter", show=False),
    ]

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(id="dashboard")
        self.ctx = ctx
        cfg: Config = ctx.config
        self.range_s = snap_range(cfg.dashboard.range)
        self.refresh_s = cfg.dashboard.refresh
        self.paused = False
        self.pattern: re.Pattern | None = None
        self.meta: Meta | None = None
        self.instant: Instant | None = None
        self.ranges: Ranges | None = None
        self.health: Any = None
        self.models: tuple = ()
        self.meta_ready = asyncio.Event()
        self.pollers: dict[str, Poller] = {}
        self.panels: dict[str, Panel] = {}
        self.chart_points = 60
        self.health_clients = ClientPool()     # kept across polls: no CA reload every refresh
        self._was_ok: dict[str, bool] = {}      # per source, for down/up toasts only
        self._header_text: Text | None = None

    # ---- layout -----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="header")
        with VerticalScroll(id="body"):
            stats = make_panel("stats")
            self.panels["stats"] = stats
            yield stats
            with Grid(id="grid"):
                for key in PANELS:
                    if key == "stats":
                        continue
                    panel = make_panel(key)
                    self.panels[key] = panel
                    yield panel
        yield Input(placeholder="filter series by regex (Enter apply, Esc clear)", id="filter")
        yield KeysFooter()

    def on_mount(self) -> None:
        colour = not self.app.no_color
        for p in self.panels.values():
            p.ascii, p.colour = self.ctx.ascii, colour
        self.query_one("#filter", Input).display = False
        self._start_pollers()
        self.panels["stats"].focus()
        self.render_header()

    def on_resize(self) -> None:
        width = max((p.content_size.width for k, p in self.panels.items() if k in ("latency", "traffic", "errors")),
                    default=60)
        self.chart_points = max(20, width)

    async def on_unmount(self) -> None:
        await self.health_clients.aclose()

    # ---- polling ------------------------------------------------------------------------------
    def _start_pollers(self) -> None:
        cfg, ctx = self.ctx.config, self.ctx
        timeout = max(2.0, min(cfg.prometheus.timeout, 30.0))
        profiles = load_profiles(cfg.profiles_dir)

        def every() -> float:
            return self.refresh_s

        def deadline() -> float:
            return timeout + 5.0

        async def meta():
            return await load_meta(ctx.prometheus, profiles, timeout, self.meta)

        async def instant():
            return await load_instant(ctx.prometheus, self.meta, cfg, timeout, at=None)

        async def ranges():
            return await load_ranges(ctx.prometheus, self.meta, cfg, self.range_s, self.chart_points, timeout)

        async def health():
            from probes.health import probe_all
            return tuple(await probe_all(cfg.services, deadline=min(timeout, self.refresh_s * 2),
                                         pool=self.health_clients))

        async def ollama():
            from probes.ollama import is_ollama, loaded_models
            out = []
            for svc in cfg.services:
                if is_ollama(svc):
                    models = await loaded_models(svc, timeout, client=self.health_clients.get(svc))
                    out += [(f"{svc.name}: {n}" if len(cfg.services) > 1 else n, v) for n, v in models]
            return tuple(out)

        specs: list[tuple[str, Any, Any, asyncio.Event | None]] = []
        if ctx.prometheus is not None:
            specs += [("meta", meta, lambda: META_EVERY if self.meta and self.meta.systems else self.refresh_s, None),
                      ("instant", instant, every, self.meta_ready),
                      ("range", ranges, lambda: max(self.refresh_s, self.range_s / 120), self.meta_ready)]
        if cfg.services:
            specs.append(("health", health, every, None))
            from probes.ollama import is_ollama
            if any(is_ollama(s) for s in cfg.services):
                specs.append(("ollama", ollama, lambda: max(self.refresh_s, 10.0), None))
        for name, fetch, interval, ready in specs:
            poller = Poller(name, fetch, interval, self._on_result, deadline, self.ctx.clock, ready)
            self.pollers[name] = poller
            self._run_poller(poller)
        if not cfg.services:
            self.panels["health"].update_data(())
        if ctx.prometheus is None:
            for key in SOURCES_OF["instant"] + SOURCES_OF["range"]:
                self.panels[key].set_source(Source("prometheus", False, "needs Prometheus (--prometheus-url)"))

    @work(exit_on_error=False)
    async def _run_poller(self, poller: Poller) -> None:
        start = getattr(self.ctx.prometheus, "start", None)
        if poller.name == "meta" and start is not None:
            await start()  # direct-scrape client: begin scraping before the first detection
            ready = getattr(self.ctx.prometheus, "wait_ready", None)
            if ready is not None:  # detect on a filled store, not an empty one
                await ready(timeout=max(5.0, self.refresh_s))
        await poller.run()

    def _on_result(self, name: str, result: Any, source: Source) -> None:
        prev = self._was_ok.get(name)
        self._was_ok[name] = source.ok
        if prev is True and not source.ok:
            self.notify(markup(f"{name}: {source.error}", 200), title="source down", severity="error")
        elif prev is False and source.ok:
            self.notify(f"{name} is back", title="source up", markup=False)
        if name == "meta":
            if result is not None:
                self.meta = result
                self.meta_ready.set()
            elif self.meta is None:  # nothing yet: every Prometheus panel says why
                for key in SOURCES_OF["instant"] + SOURCES_OF["range"]:
                    self.panels[key].set_source(source)
        elif name == "instant":
            if result is not None:
                self.instant = result
            self._apply_instant(source)
        elif name == "range":
            if result is not None:
                self.ranges = result
            self._apply_ranges(source)
        elif name == "health":
            if result is not None:
                self.health = result
            self.panels["health"].update_data(self.health)
            self.panels["health"].set_source(source)
        elif name == "ollama":
            if result is not None:
                self.models = result
            self._apply_instant(None)
        self.render_header()

    def _apply_instant(self, source: Source | None) -> None:
        inst = self.instant
        if inst is not None:
            self._apply_stats()
            spend = (self.ranges.spend_range, self.ranges.range_s) if self.ranges else (None, None)
            self.panels["cost"].update_data((inst.cost, inst.cost_bars, *spend))
            self.panels["routing"].update_data((inst.local_share, inst.routing, inst.local_shares))
            self.panels["serving"].update_data(inst.serving)
            self.panels["gpu"].update_data((inst.gpus, inst.memory, self.models))
            self.panels["alerts"].update_data((inst.alerts, inst.alerts_error, inst.at))
        if source is not None:
            for key in SOURCES_OF["instant"]:
                self.panels[key].set_source(source)

    def _apply_stats(self) -> None:
        if self.instant is None:
            return
        trends = self.ranges.trends if self.ranges else {}
        stats = tuple(replace(s, trend=trends.get(s.key, ())) for s in self.instant.stats)
        if self.instant.window:  # the window every Now value is a rate over, like $__rate_interval
            self.panels["stats"].border_title = markup(f"Now (rates over {format_duration(self.instant.window)})")
        self.panels["stats"].update_data(stats)

    def _apply_ranges(self, source: Source) -> None:
        if self.ranges is not None:
            for key in SOURCES_OF["range"]:
                chart = self.ranges.charts.get(key)
                if chart is not None:
                    self.panels[key].update_data(chart)
            self._apply_stats()
            if self.instant is not None:
                self._apply_instant(None)
        for key in SOURCES_OF["range"]:
            self.panels[key].set_source(source)

    @property
    def loaded(self) -> bool:
        """Every source answered once (ok or failed). A source waiting on detection counts as
        answered when detection itself failed: it cannot run until Prometheus is back."""
        meta = self.pollers.get("meta")
        blocked = meta is not None and meta.reported.is_set() and not self.meta_ready.is_set()
        return all(
            p.reported.is_set() or (blocked and p.ready is self.meta_ready) for p in self.pollers.values())

    async def wait_loaded(self, timeout: float = 30.0) -> bool:
        """True once `loaded`, False when the timeout passed first."""
        end = asyncio.get_running_loop().time() + timeout
        while not self.loaded:
            if asyncio.get_running_loop().time() >= end:
                return False
            await asyncio.sleep(0.05)
        return True

    # ---- header -----------------------------------------------------------------------------
    def render_header(self) -> None:
        ctx, cfg = self.ctx, self.ctx.config
        top = Text(no_wrap=True, overflow="ellipsis")
        top.append("llmwatch ", style="bold")
        if ctx.scrape_mode:
            top.append("direct scrape", style="bold")
        elif ctx.prometheus is not None:
            version = f" {plain(self.meta.version, 40)}" if self.meta and self.meta.version else ""
            top.append(f"Prometheus{version} {plain(display_url(cfg.prometheus.url), 200)}")
        top.append(f" | range {format_duration(self.range_s)} | every {format_duration(self.refresh_s)}")
        updated = [p.source.updated_at for p in self.pollers.values() if p.source.updated_at]
        if updated:
            top.append(f" | updated {hhmmss(max(updated))}")
        status = ctx.extras.get("status_line")  # the demo's incident step, live
        if callable(status):
            top.append(" | " + plain(status(), 120), style="bold")
        if self.paused:
            top.append(" | PAUSED", style="bold reverse")
        if self.pattern is not None:
            top.append(f" | filter /{plain(self.pattern.pattern, 40)}/", style="bold")
        second = Text(no_wrap=True, overflow="ellipsis")
        down = [p.source for p in self.pollers.values() if not p.source.ok]
        if down:
            s = down[0]
            since = f" (stale since {hhmmss(s.stale_since)})" if s.stale_since else ""
            second.append(plain(f"{s.name.upper()} DOWN: {s.error}{since}", 300), style="bold reverse")
            self.set_class(True, "-down")
        else:
            self.set_class(False, "-down")
            names = self.instant.systems if self.instant and self.instant.systems else (
                self.meta.systems if self.meta else ())
            systems = ", ".join(names) if self.meta else "detecting systems…"
            if ctx.banner:
                second.append(plain(ctx.banner, 200) + " | ", style="bold")
            second.append(plain(systems, None), style="dim")
            notes = self.instant.target_notes if self.instant and ctx.scrape_mode else ()
            if notes:  # direct scrape: why a scrape failed, parse errors, the series cap
                second.append(" | " + plain("; ".join(notes), 300), style="bold")
        text = Text.assemble(top, "\n", second)
        if text != self._header_text:  # unchanged: no redraw, no bytes
            self._header_text = text
            self.query_one("#header", Static).update(text)

    # ---- actions ----------------------------------------------------------------------------
    def action_range(self, delta: int) -> None:
        i = RANGES.index(self.range_s) if self.range_s in RANGES else 2
        self.set_range(RANGES[min(max(i + delta, 0), len(RANGES) - 1)])

    def set_range(self, seconds: float) -> None:
        if seconds == self.range_s:
            return
        self.range_s = seconds
        self.render_header()
        if "range" in self.pollers:
            self.pollers["range"].wake()

    def action_refresh_now(self) -> None:
        for p in self.pollers.values():
            p.wake()
        self.notify("refreshing", timeout=1.5)

    def action_pause(self) -> None:
        self.paused = not self.paused
        for p in self.pollers.values():
            p.paused = self.paused
            if not self.paused:
                p.wake()
        self.render_header()

    def focused_panel(self) -> Panel | None:
        node = self.focused
        while node is not None and not isinstance(node, Panel):
            node = node.parent
        return node

    def action_zoom(self) -> None:
        panel = self.focused_panel()
        if panel is not None:
            from tui.screens.zoom import ZoomScreen
            self.app.push_screen(ZoomScreen(panel))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.pattern.pattern if self.pattern else ""
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "filter":
            return
        text = event.value.strip()
        try:
            self.set_pattern(re.compile(text, re.I) if text else None)
        except re.error as exc:
            self.notify(f"bad regex: {exc}", severity="error", markup=False)
            return
        event.input.display = False
        self.panels["stats"].focus()

    def set_pattern(self, pattern: re.Pattern | None) -> None:
        self.pattern = pattern
        for p in self.panels.values():
            p.set_pattern(pattern)
        self.render_header()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:
            box.display = False
            self.panels["stats"].focus()
        elif self.pattern is not None:
            self.set_pattern(None)

    def action_logs(self) -> None:
        panel = self.focused_panel()
        labels = panel.log_labels() if panel is not None else {}
        now = self.ctx.clock()
        title = f"panel {panel.border_title}" if panel is not None else "dashboard"
        self.app.open_logs_for(labels, now - self.range_s, None, title)

    def focus_panel(self, key: str) -> None:
        if key in self.panels:
            self.panels[key].focus()
            self.panels[key].scroll_visible()
