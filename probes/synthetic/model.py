"""Plain data for the synthetic stack: traffic configuration, events, log lines, bounded rings.

Why separate: truth.py, the services and the control server all speak these types, and none of
them should need to import an HTTP server to do so.
"""

from __future__ import annotations

import bisect
import math
import random
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Generic, Iterable, Mapping, TypeVar

EVENT_MAX_AGE_S = 1800.0      # events kept: the last 30 minutes ...
EVENT_MAX_COUNT = 200_000     # ... and at most this many per service
LOG_MAX_AGE_S = 1800.0        # log lines kept: the last 30 minutes ...
LOG_MAX_COUNT = 10_000        # ... and at most this many per service


@dataclass(frozen=True)
class LogNormal:
    """lognormal(median, sigma): median is exp(mu); sigma is the log-space standard deviation."""

    median: float
    sigma: float

    def draw(self, rng: random.Random) -> float:
        return self.median * math.exp(self.sigma * rng.gauss(0.0, 1.0))


@dataclass(frozen=True)
class Route:
    """One label group of the request mix: its labels, share of traffic and distributions."""

    labels: tuple[tuple[str, str], ...]
    weight: float
    latency: LogNormal
    error_rate: float = 0.0
    tokens_in: LogNormal | None = None
    tokens_out: LogNormal | None = None
    price_in_per_mtok: float = 0.0    # USD per million input tokens
    price_out_per_mtok: float = 0.0   # USD per million output tokens
    model: str = ""
    backend: str = ""                 # local | cloud, or the provider name

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass(frozen=True)
class TrafficConfig:
    """Declarative traffic of one service: arrivals per second and the weighted route mix."""

    rate: float
    routes: tuple[Route, ...]

    def pick(self, rng: random.Random) -> Route:
        total = sum(r.weight for r in self.routes)
        x = rng.random() * total
        for r in self.routes:
            x -= r.weight
            if x < 0:
                return r
        return self.routes[-1]


def labels(**kv: str) -> tuple[tuple[str, str], ...]:
    """Route labels from keyword arguments, in the order given."""
    return tuple(kv.items())


@dataclass(frozen=True)
class Event:
    """One finished request (or job), recorded at the instant its metrics were updated.

    `t` is the wall-clock time of the metric update, so a counter read at time T includes exactly
    the events with t <= T. `labels` are the labels the service exported for it.
    """

    seq: int
    t: float
    service: str
    kind: str                          # "request" or "training_job"
    labels: Mapping[str, str]
    latency_s: float
    error: bool
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    model: str = ""
    backend: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    def matches(self, where: Mapping[str, str] | None) -> bool:
        """True when every key equals: a label, or one of model/backend/kind/extra keys."""
        if not where:
            return True
        for k, v in where.items():
            if k in self.labels:
                if self.labels[k] != v:
                    return False
            elif k in ("model", "backend", "kind"):
                if getattr(self, k) != v:
                    return False
            elif self.extra.get(k) != v:
                return False
        return True


@dataclass(frozen=True)
class LogLine:
    """One log line as the service would write it; `level` is lowercase (Loki label style)."""

    t: float
    service: str
    level: str
    line: str


T = TypeVar("T", Event, LogLine)


class Ring(Generic[T]):
    """A time-ordered ring bounded by age and count; appends and reads are thread-safe."""

    def __init__(self, max_age_s: float, max_count: int):
        self.max_age_s = max_age_s
        self._items: deque[T] = deque(maxlen=max_count)
        self._lock = threading.Lock()

    def append(self, item: T) -> None:
        with self._lock:
            self._items.append(item)
            horizon = item.t - self.max_age_s
            while self._items and self._items[0].t < horizon:
                self._items.popleft()

    def extend(self, items: Iterable[T]) -> None:
        for i in items:
            self.append(i)

    def between(self, start: float | None = None, end: float | None = None) -> list[T]:
        """Items with start < t <= end (Prometheus increase() semantics between two scrapes)."""
        with self._lock:
            items = list(self._items)
        times = [i.t for i in items]
        lo = 0 if start is None else bisect.bisect_right(times, start)
        hi = len(items) if end is None else bisect.bisect_right(times, end)
        return items[lo:hi]

    def __len__(self) -> int:
        return len(self._items)
