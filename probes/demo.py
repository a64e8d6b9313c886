"""`llmwatch demo` without the UI: the synthetic stack, a synthetic Loki, real Prometheus/Alertmanager.

Why real servers when they are installed: the dashboard's job is to read what Prometheus and
Alertmanager really answer (rule evaluation, `for:` durations, alert grouping); a demo that
faked them would demonstrate nothing. When the binaries are missing the demo still runs: the
dashboard then scrapes the services directly (tui builds that client from scrape_targets()).

Everything started here is stopped by stop(): idempotent, registered with atexit, safe to call
from a signal handler's aftermath (the CLI calls it in a finally block). Servers are started
from the calling thread (Linux PR_SET_PDEATHSIG is tied to it): call start() from the main
thread so a killed demo also takes Prometheus down.

History: the charts start full (probes/demo_history.py backfills the past hour). By hand:
probes/demo_control.py breaks and heals services. The scripted incident: probes/demo_incident.py.
"""

from __future__ import annotations

import atexit
import json
import subprocess
import threading
import time
import tomllib
from typing import Callable, Iterable

from probes.config import Config, parse_config
from probes.demo_control import DemoControl
from probes.demo_history import HISTORY_S, Backfill, backfill_prometheus, keep_for_store
from probes.demo_incident import INCIDENT_PERIOD_S, IncidentTimeline, first_line
from probes.synthetic import Stack
from probes.synthetic.loki import SyntheticLoki
from probes.synthetic.model import TrafficConfig
from probes.synthetic.servers import (SEED_RULES, AlertmanagerServer, PrometheusServer, ServerError,
                                      find_binary)
from probes.synthetic.services import SERVICES

__all__ = ["Demo", "DemoError", "STACKS", "resolve_stack", "INCIDENT_PERIOD_S"]

STACKS: dict[str, tuple[str, ...]] = {
    # The Hybrid AI Stack (local Ollama + cloud Claude, with dollars), a vLLM, its GPUs, the host.
    "default": ("api-gateway", "ollama", "vllm", "dcgm", "node"),
    "seeds": ("tinycode", "dev-pynode", "api-gateway", "ai-forge", "code-llm-api"),
    "all": tuple(SERVICES),
}
SCRAPE_INTERVAL_S = 2
REFRESH_S = 2
# The alert each service's error spike makes fire (seed rules, probes/synthetic/rules).
ERROR_ALERTS = {"api-gateway": "GatewayHighErrorRate", "tinycode": "TinyLlamaHighErrorRate",
                "dev-pynode": "HighErrorRate", "ai-forge": "AIForgeHighErrorRate"}
# Cloud models without a price in the synthetic routes: public list prices, USD per 1M tokens.
LIST_PRICES = {"gpt-4": (30.0, 60.0)}


class DemoError(RuntimeError):
    """The demo cannot start; the message is one line for the user."""


def resolve_stack(spec: str) -> tuple[str, ...]:
    """"default" | "seeds" | "all" | "a,b,c" -> service names; ValueError names the known ones."""
    spec = (spec or "default").strip()
    if spec in STACKS:
        return STACKS[spec]
    names = tuple(dict.fromkeys(n.strip() for n in spec.split(",") if n.strip()))
    unknown = [n for n in names if n not in SERVICES]
    if unknown or not names:
        raise ValueError(f"unknown service(s) {', '.join(unknown) or '(none given)'}; use default, seeds, all "
                         f"or a comma list of: {', '.join(SERVICES)}")
    return names


class Demo(IncidentTimeline):
    """Start/stop the whole demo; config() says where everything is."""

    def __init__(self, stack_names: Iterable[str] | str = "default", with_prometheus: bool | None = None,
                 incident: bool = False, seed: int = 1234, *, loop: bool = True, history_s: float = HISTORY_S,
                 on_event: Callable[[str], None] | None = None,
                 find: Callable[[str], str | None] | None = None):
        self.names = resolve_stack(stack_names) if isinstance(stack_names, str) else tuple(stack_names)
        resolve_stack(",".join(self.names))  # validate
        self.with_prometheus = with_prometheus
        self.incident = incident
        self.seed = seed
        self.loop = loop
        self.on_event = on_event
        self._find = find  # None: probes.synthetic.servers.find_binary, looked up when starting
        self.stack: Stack | None = None
        self.loki: SyntheticLoki | None = None
        self.prometheus: PrometheusServer | None = None
        self.alertmanager: AlertmanagerServer | None = None
        self.control: DemoControl | None = None  # break/down/heal by hand (probes/demo_control.py)
        self.history_s = max(0.0, float(history_s))
        self.backfill: Backfill | None = None     # what history was written (direct scrape: kept until prefill)
        self.notes: list[str] = []              # what the demo decided (fallbacks), for the banner
        self.events: list[tuple[float, str]] = []  # incident steps (unix time, text)
        self._status = "starting"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._started = self._stopped = False
        self._saved_traffic: TrafficConfig | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> "Demo":
        with self._lock:
            if self._started:
                return self
            self._started = True
        atexit.register(self.stop)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        find = self._find or find_binary
        prom_bin = find("prometheus") if self.with_prometheus is not False else None
        am_bin = find("prometheus-alertmanager") if prom_bin else None
        if self.with_prometheus and not prom_bin:
            raise DemoError("prometheus is not installed: install the Debian package 'prometheus' "
                            "(or run without --prometheus to scrape the services directly)")
        try:
            self.stack = Stack(self.names, seed=self.seed, vary=True).serve()
            self.loki = SyntheticLoki(self.stack)
            self.loki.start()
            self.control = DemoControl(self.stack)
            self.control.start()
        except OSError as exc:
            raise DemoError(f"cannot open a loopback port: {exc.strerror or exc}") from None
        if prom_bin:
            self._start_servers(prom_bin, am_bin, find("promtool"))
        else:
            self.notes.append("Prometheus not installed: scraping the services directly (no alerts)"
                              if self.with_prometheus is None else
                              "--no-prometheus: scraping the services directly (no alerts)")
            if self.history_s:
                self.backfill = keep_for_store(self.stack, self.history_s, REFRESH_S)
            self.stack.start()
        self._status = "running"
        if self.incident:
            self._thread = threading.Thread(target=self._run_incident, name="demo-incident", daemon=True)
            self._thread.start()

    def _start_servers(self, prom_bin: str, am_bin: str | None, promtool: str | None) -> None:
        """Alertmanager, the history blocks, then Prometheus (it loads the blocks as it starts)."""
        assert self.stack is not None
        try:
            if am_bin:
                self.alertmanager = AlertmanagerServer(binary=am_bin)
                self.alertmanager.start()
            else:
                self.notes.append("Alertmanager not installed: alerts come from Prometheus only")
            self.prometheus = PrometheusServer(
                self.stack.targets(), scrape_interval=f"{SCRAPE_INTERVAL_S}s",
                evaluation_interval=f"{SCRAPE_INTERVAL_S}s", rule_files=[SEED_RULES],
                alertmanager_url=self.alertmanager.url if self.alertmanager else None, binary=prom_bin)
            if self.history_s and promtool:
                try:
                    self.backfill = backfill_prometheus(self.stack, self.prometheus.data_dir, promtool,
                                                        self.history_s, SCRAPE_INTERVAL_S)
                except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                    self.notes.append(f"no history: {first_line(exc)}")
            elif self.history_s:
                self.notes.append("promtool not found: the charts start empty")
            self.stack.start()
            self.prometheus.start()
            self.prometheus.wait_for_targets(timeout=20)
        except ServerError as exc:
            raise DemoError(first_line(exc)) from None

    def stop(self) -> None:
        """Stop everything that was started, in reverse order; safe to call any number of times."""
        with self._lock:
            if self._stopped or not self._started:
                return
            self._stopped = True
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        for part in (self.prometheus, self.alertmanager, self.control, self.loki, self.stack):
            if part is not None:
                try:
                    part.stop()
                except Exception:  # noqa: BLE001 - one failing part must not leave the others running
                    pass
        self._status = "stopped"
        atexit.unregister(self.stop)

    def __enter__(self) -> "Demo":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- what was started ------------------------------------------------------------------
    @property
    def scrape_mode(self) -> bool:
        return self.prometheus is None

    def scrape_targets(self) -> list[tuple[str, str]]:
        """(job, metrics URL) of every service with /metrics: what a direct scrape reads."""
        assert self.stack is not None
        return [(n, d["metrics"]) for n, d in self.stack.describe().items() if d["metrics"]]

    def urls(self) -> dict[str, str]:
        """name -> URL of every server the demo runs (services, prometheus, alertmanager, loki)."""
        out = {n: d["url"] for n, d in self.stack.describe().items()} if self.stack else {}
        for name, part in (("prometheus", self.prometheus), ("alertmanager", self.alertmanager),
                           ("loki", self.loki), ("control", self.control)):
            if part is not None:
                out[name] = part.url
        return out

    def banner(self) -> str:
        backend = (f"Prometheus {self.prometheus.url} scraping every {SCRAPE_INTERVAL_S}s" if self.prometheus
                   else "direct scrape")
        control = f", break/heal: {self.control.url}" if self.control else ""
        return (f"demo: synthetic stack on 127.0.0.1 ({len(self.names)} services, seed {self.seed}), {backend}"
                + (", incident timeline" if self.incident else "") + control)

    def status_line(self) -> str:
        """One line for the dashboard banner: what the demo is doing now (and for how long)."""
        since = f" ({time.time() - self.events[-1][0]:.0f}s ago)" if self.events and not self._stop.is_set() else ""
        return f"demo: {self._status}{since}" + (f" | {self.notes[0]}" if self.notes else "")

    @property
    def incident_alert(self) -> str | None:
        """The seed alert the incident's error spike makes fire, if the target has one."""
        target = self._error_target()
        return ERROR_ALERTS.get(target) if target else None

    # ---- configuration ---------------------------------------------------------------------
    def prices(self) -> dict[str, tuple[float, float]]:
        """model -> (input, output) USD per 1M tokens, as the synthetic services charge."""
        assert self.stack is not None
        return stack_prices(self.stack)

    def config_toml(self, theme: str = "dark") -> str:
        """A ready-to-use llmwatch config for this demo (valid TOML; config() parses it)."""
        assert self.stack is not None and self.loki is not None
        q = json.dumps
        lines = ["# llmwatch demo: save as demo.toml and run `llmwatch --config demo.toml` while the demo runs"]
        if self.prometheus:
            lines += ["[prometheus]", f"url = {q(self.prometheus.url)}", ""]
        else:
            lines += ["# no Prometheus started: the dashboard scrapes the services directly", ""]
        if self.alertmanager:
            lines += ["[alertmanager]", f"url = {q(self.alertmanager.url)}", ""]
        lines += ["[loki]", f"url = {q(self.loki.url)}", "",
                  "[dashboard]", f'refresh = "{REFRESH_S}s"', 'range = "15m"', f"theme = {q(theme)}", ""]
        prices = self.prices()
        cloud = [m for m, p in prices.items() if p != (0.0, 0.0)]
        if cloud:
            ref = "claude-sonnet" if "claude-sonnet" in cloud else cloud[0]
            lines += ["[routing]", f"cloud_reference = {q(ref)}", ""]
        for model, (pin, pout) in sorted(prices.items()):
            lines += [f"[prices.{q(model)}]", f"input = {pin!r}", f"output = {pout!r}", ""]
        if "api-gateway" in self.names and "vllm" in self.names:
            # the demo's vLLM serves behind the gateway: its requests are the gateway's, its
            # tokens/s (which the gateway does not count) are the stack's
            lines += ["[traffic]", 'behind_gateway = ["vllm"]', ""]
        scraped = self.stack.targets()
        for name in self.names:
            health = self.stack.health_url(name)
            if health:  # job only where Prometheus scrapes one (doctor checks it; Loki uses the name)
                job = [f"job = {q(name)}"] if name in scraped else []
                lines += ["[[services]]", f"name = {q(name)}", f"url = {q(health)}", *job, ""]
        return "\n".join(lines)

    def config(self, theme: str = "dark") -> Config:
        return parse_config(tomllib.loads(self.config_toml(theme)), source="llmwatch demo")


def stack_prices(stack: Stack) -> dict[str, tuple[float, float]]:
    """model -> (input, output) USD per 1M tokens, as the stack's synthetic services charge
    (cloud models without their own price get a list price; local models cost 0)."""
    out: dict[str, tuple[float, float]] = {}
    for svc in stack.services.values():
        for route in (svc.traffic.routes if svc.traffic else ()):
            if not route.model:
                continue
            price = (route.price_in_per_mtok, route.price_out_per_mtok)
            if price == (0.0, 0.0) and route.backend not in ("local", "ollama"):
                price = LIST_PRICES.get(route.model, price)
            if price != (0.0, 0.0) or route.backend in ("local", "ollama"):
                out.setdefault(route.model, price)
    return out
