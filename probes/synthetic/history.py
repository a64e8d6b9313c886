"""History for the demo: the live traffic generator run over the past hour in simulated time.

Why: a demo that starts with empty charts (data only at the right edge) shows nothing. Instead
of inventing curves, each service's own generator is advanced from `end - seconds` to `end` in
small simulated ticks, and what a scrape would have read is recorded every `step` seconds. The
services then carry on live from exactly that state, so the counters history ends with are the
counters the first live scrape sees: no reset, no jump where history meets live data.

Two sinks, one source: `write_openmetrics` feeds `promtool tsdb create-blocks-from openmetrics`
(the demo's real Prometheus loads the blocks at start), `fill_store` writes the same samples
into the direct-scrape store (no Prometheus). Never imports textual, rich or tui.
"""

from __future__ import annotations

import subprocess
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable

from probes.synthetic.service import Service

HISTORY_S = 3600.0       # how far back the demo starts
SUB_TICK_S = 0.5         # simulated generator tick (live ticks are 50 ms; 0.5 s keeps log times plausible)
FINE_S = 900.0           # the last 15 minutes are sampled at every scrape ...
COARSE_STEP_S = 10.0     # ... the rest every 10 s


@dataclass
class ServiceHistory:
    """What scrapes of one service every `step` s would have read: series text -> times, values."""

    job: str
    times: array = field(default_factory=lambda: array("d"))
    series: dict[str, tuple[array, array]] = field(default_factory=dict)

    def record(self, t: float, samples: Iterable[tuple[str, float]]) -> None:
        self.times.append(t)
        for text, v in samples:
            pts = self.series.get(text)
            if pts is None:
                pts = self.series[text] = (array("d"), array("d"))
            pts[0].append(t)
            pts[1].append(v)

    @property
    def samples(self) -> int:
        return sum(len(ts) for ts, _ in self.series.values())


def sample_times(start: float, end: float, step: float, fine_s: float = FINE_S,
                 coarse_step: float = COARSE_STEP_S) -> list[float]:
    """When history is sampled: every `step` over the last `fine_s` (the 5m and 15m charts'
    rate windows need every scrape), every `coarse_step` before that (the 1 h chart's step is
    tens of seconds, so 10 s samples fill it). Ends exactly at `end`."""
    fine_from = max(start, end - fine_s)
    out, t = [], end
    while t > fine_from + 1e-9:
        out.append(t)
        t -= step
    t = min(t, fine_from)
    while t > start + 1e-9:
        out.append(t)
        t -= max(step, coarse_step)
    return out[::-1]


def generate(service: Service, start: float, end: float, step: float) -> ServiceHistory:
    """Advance `service` from `start` to `end` in simulated time and record a scrape at each of
    sample_times(). Call before the stack's live ticks start (Stack.serve(), not Stack.start()):
    the service then holds the state at `end`, and live ticks before `end` are skipped."""
    hist = ServiceHistory(service.name)
    service.started = start
    service.tick_at(start)
    t = start
    for at in sample_times(start, end, step):
        while t < at:
            t = min(t + SUB_TICK_S, at)
            service.tick_at(t)
        if service.has_metrics:
            with service.lock:
                service.refresh_gauges(at, service.gauge_values(at))
                hist.record(at, service.registry.samples())
    return hist


# ---- sink 1: OpenMetrics for promtool ------------------------------------------------------------

def _with_target(text: str, job: str, instance: str) -> str:
    """`name{a="b"}` -> `name{job="..",instance="..",a="b"}`, the labels a Prometheus scrape adds.
    (The synthetic pages never carry their own job/instance labels, so no exported_* renames.)"""
    target = f'job="{job}",instance="{instance}"'
    name, brace, rest = text.partition("{")
    return f"{name}{{{target}}}" if not brace else f"{name}{{{target},{rest}"


def write_openmetrics(hist: ServiceHistory, instance: str, out: IO[str]) -> None:
    """Every series of `hist` as OpenMetrics samples with timestamps, plus `up` = 1 per scrape.
    Untyped (no TYPE lines): TSDB blocks keep samples only, and untyped families need no suffix rules."""
    for text, (ts, vals) in hist.series.items():
        prefix = _with_target(text, hist.job, instance)
        out.write("".join(f"{prefix} {v!r} {t:.3f}\n" for t, v in zip(ts, vals)))
    up = _with_target("up", hist.job, instance)
    out.write("".join(f"{up} 1.0 {t:.3f}\n" for t in hist.times))
    out.write("# EOF\n")


def start_promtool(promtool: str, source: Path, data_dir: Path) -> subprocess.Popen:
    """`promtool tsdb create-blocks-from openmetrics SOURCE DATA_DIR` in the background (the demo
    generates the next service while this one is written); the caller waits and checks it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(source),  # noqa: S603
                             str(data_dir)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


# ---- sink 2: the direct-scrape store ----------------------------------------------------------------

def fill_store(store: Any, hist: ServiceHistory, instance: str) -> int:
    """Write `hist` into a probes.scrape_store.Store as the scrapes it stands for (one ingest per
    sample time, with up/scrape_* series); returns the samples stored."""
    by_time: dict[float, list[tuple[str, float, None]]] = {}
    for text, (ts, vals) in hist.series.items():
        for t, v in zip(ts, vals):
            by_time.setdefault(t, []).append((text, v, None))
    return sum(store.ingest(hist.job, instance, int(t * 1000), by_time.get(t, ())) for t in hist.times)
