"""The base of every fake service: traffic generation, controls, gauges, HTTP dispatch.

Why one base: every service needs the same knobs (error_rate, latency_scale, rate, unhealthy,
health_delay, gauges) and the same guarantee that a counter read at time T covers exactly the
events with t <= T. Subclasses only declare metrics, health bodies and how an event updates them.
"""

from __future__ import annotations

import json
import math
import random
import time
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, ClassVar, Mapping

from probes.synthetic.exposition import CONTENT_TYPE, PYTHON, Dialect, Registry
from probes.synthetic.model import (EVENT_MAX_AGE_S, EVENT_MAX_COUNT, LOG_MAX_AGE_S, LOG_MAX_COUNT,
                                    Event, LogLine, Ring, Route, TrafficConfig)

VARIATION = 0.03          # gentle deterministic gauge wobble, +-3 %, when vary=True
VARIATION_PERIOD_S = 120.0


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def json_reply(obj: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(obj).encode(), "application/json")


def text_reply(text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> Reply:
    return Reply(status, text.encode(), content_type)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)   # lower-case names


@dataclass(frozen=True)
class Settings:
    """Run-time controls of one service (see Service.control)."""

    rate: float
    error_rate: float | None = None
    latency_scale: float = 1.0
    unhealthy: frozenset[str] = frozenset()
    health_delay: float = 0.0
    down: bool = False
    gauges: Mapping[str, float] = field(default_factory=dict)


def iso_z(t: float, digits: int = 6) -> str:
    """RFC 3339 UTC with a Z, as JS toISOString (digits=3) or Python loggers write it."""
    s = datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return (s[:-7] if digits == 0 else s[: len(s) - (6 - digits)]) + "Z"


def iso_local(t: float) -> str:
    """datetime.now().isoformat() as the seed's FastAPI code writes it (naive local time)."""
    return datetime.fromtimestamp(t).isoformat()


class Service:
    """A fake service. Subclasses set the class attributes and override the hooks."""

    name: ClassVar[str] = ""
    dialect: ClassVar[Dialect] = PYTHON
    has_metrics: ClassVar[bool] = True
    health_path: ClassVar[str | None] = "/health"
    components: ClassVar[tuple[str, ...]] = ()
    default_traffic: ClassVar[TrafficConfig | None] = None
    default_gauges: ClassVar[Mapping[str, float]] = {}
    gauge_limits: ClassVar[Mapping[str, float]] = {}   # key -> max value for varied gauges

    def __init__(self, seed: int = 0, traffic: TrafficConfig | None = None, vary: bool = False,
                 options: Mapping[str, Any] | None = None):
        self.traffic = traffic or self.default_traffic
        self.rng = random.Random(zlib.crc32(self.name.encode()) ^ seed)
        self.registry = Registry(self.dialect)
        self.lock = self.registry.lock
        self.events: Ring[Event] = Ring(EVENT_MAX_AGE_S, EVENT_MAX_COUNT)
        self.logs: Ring[LogLine] = Ring(LOG_MAX_AGE_S, LOG_MAX_COUNT)
        self.settings = Settings(rate=self.traffic.rate if self.traffic else 0.0)
        self.vary = vary
        self.options = dict(options or {})
        self.started = time.time()
        self._seq = 0
        self._due = 0.0
        self._last_tick: float | None = None
        self._last_t = 0.0
        self.setup()

    # ---- hooks ----------------------------------------------------------------------------
    def setup(self) -> None:
        """Declare metric families on self.registry."""

    def decorate(self, route: Route, error: bool, rng: random.Random) -> dict[str, str]:
        """Service-specific details of one request (error_type, status code...)."""
        return {}

    def outcome(self, route: Route, error: bool, extra: dict[str, str]) -> tuple[bool, float, float]:
        """Final (error, price in, price out) of a request; a proxy may rescue a failed call."""
        return error, route.price_in_per_mtok, route.price_out_per_mtok

    def observe(self, ev: Event, route: Route, rng: random.Random) -> None:
        """Update metrics and write log lines for one event (lock held)."""

    def tick_extra(self, t: float, dt: float) -> None:
        """Side streams (training jobs...) and time-driven counters (lock held)."""

    def refresh_gauges(self, t: float, g: Mapping[str, float]) -> None:
        """Copy the current gauge values into gauge families before a render (lock held)."""

    def endpoints(self) -> dict[tuple[str, str], Callable[[Request], Reply]]:
        """Extra (method, path) -> handler routes besides /metrics and the health path."""
        return {}

    def health(self) -> Reply:
        return Reply(200)

    # ---- controls and gauges ---------------------------------------------------------------
    def control(self, **kw: Any) -> Settings:
        """Apply run-time settings; unknown names or bad values raise ValueError."""
        s = self.settings
        for key, value in kw.items():
            if key == "error_rate":
                if value is not None and not 0 <= float(value) <= 1:
                    raise ValueError("error_rate must be within [0, 1] or None")
                s = replace(s, error_rate=None if value is None else float(value))
            elif key == "latency_scale":
                if float(value) <= 0:
                    raise ValueError("latency_scale must be > 0")
                s = replace(s, latency_scale=float(value))
            elif key == "rate":
                rate = self.traffic.rate if (value is None and self.traffic) else float(value or 0)
                if rate < 0:
                    raise ValueError("rate must be >= 0")
                s = replace(s, rate=rate)
            elif key == "unhealthy":
                names = set(self.components) if value is True else set() if not value else set(value)
                unknown = names - set(self.components)
                if unknown:
                    raise ValueError(f"{self.name}: unknown components {sorted(unknown)}; "
                                     f"known: {list(self.components)}")
                s = replace(s, unhealthy=frozenset(names))
            elif key == "health_delay":
                if float(value) < 0:
                    raise ValueError("health_delay must be >= 0")
                s = replace(s, health_delay=float(value))
            elif key == "down":
                s = replace(s, down=bool(value))
            elif key == "gauges":
                unknown = set(value) - set(self.default_gauges)
                if unknown:
                    raise ValueError(f"{self.name}: unknown gauges {sorted(unknown)}; "
                                     f"known: {sorted(self.default_gauges)}")
                s = replace(s, gauges={**s.gauges, **{k: float(v) for k, v in value.items()}})
            elif key == "reset":
                if value:  # every setting back to the defaults (the demo's "heal")
                    s = Settings(rate=self.traffic.rate if self.traffic else 0.0, down=s.down)
            elif key == "restart":
                if value:
                    with self.lock:
                        self.registry.reset()
                        self.started = time.time()
            else:
                raise ValueError(f"unknown setting {key!r}")
        with self.lock:
            self.settings = s
        return s

    def gauge_values(self, t: float | None = None) -> dict[str, float]:
        """Current gauge values: defaults, then overrides, then optional gentle variation."""
        t = time.time() if t is None else t
        out: dict[str, float] = {}
        for k, base in self.default_gauges.items():
            v = float(self.settings.gauges.get(k, base))
            if self.vary and k not in self.settings.gauges:
                phase = (zlib.crc32(k.encode()) % 1000) / 1000 * 2 * math.pi
                v = v * (1 + VARIATION * math.sin(2 * math.pi * t / VARIATION_PERIOD_S + phase))
                v = min(max(v, 0.0), self.gauge_limits.get(k, math.inf))
                if isinstance(base, int):
                    v = float(round(v))
            out[k] = v
        return out

    @property
    def healthy(self) -> bool:
        return not self.settings.unhealthy

    def component_ok(self, name: str) -> bool:
        return name not in self.settings.unhealthy

    # ---- traffic ---------------------------------------------------------------------------
    def tick(self, now: float) -> None:
        """Emit the requests due since the last tick (deterministic spacing: exact rates)."""
        self._advance(now, None)

    def tick_at(self, t: float) -> None:
        """The same generator in simulated time: events stamped t (history backfill, see
        probes/synthetic/history.py). Live ticks before t are then skipped, so nothing is counted twice."""
        self._advance(t, t)

    def _advance(self, now: float, at: float | None) -> None:
        with self.lock:
            if self._last_tick is None:
                self._last_tick = now
                return
            if now < self._last_tick:  # history ran ahead of the clock: wait for it
                return
            dt = now - self._last_tick
            self._last_tick = now
            if self.settings.down:
                return
            t = max(time.time() if at is None else at, self._last_t)
            self._last_t = t
            if self.traffic is not None:
                self._due += self.settings.rate * dt
                n = min(int(self._due), 10_000)
                self._due -= n
                for _ in range(n):
                    self._emit(t)
            self.tick_extra(t, dt)

    def _emit(self, t: float) -> None:
        assert self.traffic is not None
        rng = self.rng
        route = self.traffic.pick(rng)
        err_p = route.error_rate if self.settings.error_rate is None else self.settings.error_rate
        latency = route.latency.draw(rng) * self.settings.latency_scale
        error = rng.random() < err_p
        tin = max(1, round(route.tokens_in.draw(rng))) if route.tokens_in is not None else 0
        tout = max(1, round(route.tokens_out.draw(rng))) if route.tokens_out is not None else 0
        extra = self.decorate(route, error, rng)
        error, price_in, price_out = self.outcome(route, error, extra)
        if error:  # a failed call returns no usage: no tokens, no cost
            tin = tout = 0
        cost = (tin * price_in + tout * price_out) / 1e6
        ev = self.new_event(t, "request", route.label_map, latency, error, tin, tout, cost,
                            route.model, route.backend, extra)
        self.observe(ev, route, rng)
        self.events.append(ev)

    def new_event(self, t: float, kind: str, labels: Mapping[str, str], latency: float, error: bool,
                  tin: int = 0, tout: int = 0, cost: float = 0.0, model: str = "", backend: str = "",
                  extra: Mapping[str, str] | None = None) -> Event:
        self._seq += 1
        return Event(self._seq, t, self.name, kind, dict(labels), latency, error, tin, tout, cost,
                     model, backend, dict(extra or {}))

    def log(self, t: float, level: str, line: str) -> None:
        self.logs.append(LogLine(t, self.name, level.lower(), line))

    # ---- HTTP ------------------------------------------------------------------------------
    def metrics_reply(self) -> Reply:
        if not self.has_metrics:
            return text_reply("404 page not found\n", 404)
        with self.lock:
            t = max(time.time(), self._last_t)
            self.refresh_gauges(t, self.gauge_values(t))
            body = self.registry.render()
        return Reply(200, body.encode(), CONTENT_TYPE, (("X-Synthetic-Time", repr(t)),))

    def health_paths(self) -> tuple[str, ...]:
        return (self.health_path,) if self.health_path else ()

    def handle(self, req: Request) -> Reply:
        if req.path in self.health_paths():
            if self.settings.health_delay:
                time.sleep(self.settings.health_delay)
        if req.method in ("GET", "HEAD") and req.path == "/metrics":
            return self.metrics_reply()
        handler = self.endpoints().get((req.method if req.method != "HEAD" else "GET", req.path))
        if handler is not None:
            return handler(req)
        if req.method in ("GET", "HEAD") and req.path == self.health_path:
            return self.health()
        return self.not_found(req)

    def not_found(self, req: Request) -> Reply:
        return json_reply({"detail": "Not Found"}, 404)
