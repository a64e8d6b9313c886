"""Stack: the whole synthetic LLM stack on loopback, with one traffic generator thread.

Why one generator thread for all services: 2 CPU cores; a 50 ms tick over nine services costs
well under 1 % CPU at default rates, and one clock makes cross-service timing consistent.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Iterable, Mapping

from probes.synthetic import truth
from probes.synthetic.model import Event, LogLine, TrafficConfig
from probes.synthetic.serve import HOST, LoopbackServer
from probes.synthetic.service import Service, Settings
from probes.synthetic.services import REQUIRED_NAMES, SERVICES

TICK_S = 0.05


class Stack:
    """The synthetic stack. `services=None` is the required set; "all" adds the extras."""

    def __init__(self, services: Iterable[str] | str | None = None, seed: int = 1234, vary: bool = False,
                 traffic: Mapping[str, TrafficConfig] | None = None,
                 options: Mapping[str, Mapping[str, Any]] | None = None,
                 ports: Mapping[str, int] | None = None, tick_s: float = TICK_S):
        if services is None:
            names = list(REQUIRED_NAMES)
        elif services == "all":
            names = list(SERVICES)
        else:
            names = [services] if isinstance(services, str) else list(services)
        unknown = [n for n in names if n not in SERVICES]
        if unknown:
            raise ValueError(f"unknown services {unknown}; known: {sorted(SERVICES)}")
        traffic, options, ports = dict(traffic or {}), dict(options or {}), dict(ports or {})
        self.seed = seed
        self.tick_s = tick_s
        self.services: dict[str, Service] = {
            n: SERVICES[n](seed=seed, traffic=traffic.get(n), vary=vary, options=options.get(n)) for n in names}
        self.servers: dict[str, LoopbackServer] = {
            n: LoopbackServer(s.handle, ports.get(n, 0), server_header=n) for n, s in self.services.items()}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    def serve(self) -> "Stack":
        """Open every service's port, without traffic yet: history (probes/synthetic/history.py)
        can then be generated for the ports the scrapes will see, before start() goes live."""
        for srv in self.servers.values():
            srv.start()  # idempotent: a running server keeps its port
        return self

    def start(self) -> "Stack":
        self.serve()
        now = time.time()
        for s in self.services.values():
            s.tick(now)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="synthetic-traffic", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            now = time.time()
            for s in self.services.values():
                s.tick(now)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        for srv in self.servers.values():
            srv.stop()

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- addresses -------------------------------------------------------------------------
    def _service(self, name: str) -> Service:
        try:
            return self.services[name]
        except KeyError:
            raise KeyError(f"service {name!r} is not in this stack: {sorted(self.services)}") from None

    def port(self, name: str) -> int:
        self._service(name)
        return self.servers[name].port

    def url(self, name: str) -> str:
        return f"http://{HOST}:{self.port(name)}"

    def targets(self) -> dict[str, str]:
        """job -> host:port for every service that has /metrics (for scrape configs)."""
        return {n: f"{HOST}:{self.servers[n].port}" for n, s in self.services.items() if s.has_metrics}

    def health_url(self, name: str) -> str | None:
        path = self._service(name).health_path
        return self.url(name) + path if path else None

    def describe(self) -> dict[str, dict[str, Any]]:
        """The port file: {name: {url, job, metrics, health}}."""
        return {n: {"url": self.url(n), "job": n,
                    "metrics": self.url(n) + "/metrics" if s.has_metrics else None,
                    "health": self.health_url(n)} for n, s in self.services.items()}

    # ---- controls and truth ----------------------------------------------------------------
    def control(self, name: str, **settings: Any) -> Settings:
        """Change a service at run time; down=True closes its socket, down=False re-opens the same port."""
        svc = self._service(name)
        result = svc.control(**settings)
        if "down" in settings:
            if settings["down"]:
                self.servers[name].stop()
            else:
                self.servers[name].start()
        return result

    def events(self, name: str, start: float | None = None, end: float | None = None) -> list[Event]:
        return self._service(name).events.between(start, end)

    def logs(self, name: str, since: float | None = None) -> list[LogLine]:
        return self._service(name).logs.between(since, None)

    def gauges(self, name: str, t: float | None = None) -> dict[str, float]:
        """The configured gauge values (after overrides and variation) at time t."""
        return self._service(name).gauge_values(t)

    def truth(self, name: str, window: float = 60.0, end: float | None = None) -> dict[str, object]:
        end = time.time() if end is None else end
        start = end - window
        return truth.summary(self.events(name, start, end), start, end, self.gauges(name, end))
