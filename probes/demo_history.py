"""The demo's past hour: history backfilled into its Prometheus, or kept for the direct-scrape store.

Why: `llmwatch demo` must show full charts at the first frame, not data at the right edge only.
probes/synthetic/history.py runs each service's own generator over the past hour; this module
puts the result where the dashboard reads it:

- with Prometheus: one OpenMetrics file per service, turned into TSDB blocks by `promtool tsdb
  create-blocks-from openmetrics` (the Debian `prometheus` package ships it) in the data directory
  before Prometheus starts, so it loads them. promtool writes one service's blocks while Python
  generates the next.
- without Prometheus: the histories are kept and written into the direct-scrape store when the
  dashboard builds its client (probes.scrape.ScrapeClient.store).

Where history meets live data: Prometheus 2.42 applies scrape targets on a 5 s tick, so its first
scrape comes at least 5 s after it starts. History therefore ends LEAD_S after generation begins
(the services skip live ticks until then), which keeps the seam under two scrape intervals and
never lets a live sample come before the last history sample (that would read as a counter reset).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from probes.synthetic.history import HISTORY_S, ServiceHistory, fill_store, generate, start_promtool, write_openmetrics

__all__ = ["HISTORY_S", "LEAD_S", "Backfill", "backfill_prometheus", "keep_for_store", "prefill_store"]

LEAD_S = 4.0
PROMTOOL_TIMEOUT_S = 60.0


@dataclass
class Backfill:
    """What was backfilled: for the demo's notes and the tests."""

    start: float
    end: float
    samples: int = 0
    series: int = 0
    seconds: float = 0.0       # wall time spent
    histories: dict[str, ServiceHistory] = field(default_factory=dict)  # direct scrape only


def backfill_prometheus(stack: Any, data_dir: Path, promtool: str, seconds: float = HISTORY_S,
                        step: float = 2.0, lead: float = LEAD_S) -> Backfill:
    """Generate every service's history and write it as TSDB blocks into `data_dir`.
    Call after stack.serve() and before stack.start(); raises RuntimeError if promtool fails."""
    began = time.monotonic()
    end = time.time() + lead
    report = Backfill(end - seconds, end)
    work = data_dir.parent / "history"
    work.mkdir(parents=True, exist_ok=True)
    targets = stack.targets()
    running = []
    try:
        for name, service in stack.services.items():
            hist = generate(service, report.start, end, step)
            if name not in targets or not hist.series:
                continue
            path = work / f"{name}.om"
            with open(path, "w", encoding="utf-8") as fh:
                write_openmetrics(hist, targets[name], fh)
            report.samples += hist.samples + len(hist.times)
            report.series += len(hist.series) + 1
            running.append((name, start_promtool(promtool, path, data_dir)))
        for name, proc in running:
            _, err = proc.communicate(timeout=PROMTOOL_TIMEOUT_S)
            if proc.returncode != 0:
                line = (err or "").strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
                raise RuntimeError(f"promtool could not backfill {name}: {line[0][:300]}")
    finally:
        for _, proc in running:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
        shutil.rmtree(work, ignore_errors=True)
    report.seconds = time.monotonic() - began
    return report


def keep_for_store(stack: Any, seconds: float, step: float) -> Backfill:
    """Generate every service's history up to now and keep it for prefill_store()."""
    began = time.monotonic()
    end = time.time()
    report = Backfill(end - seconds, end)
    for name, service in stack.services.items():
        hist = generate(service, report.start, end, step)
        if hist.series:
            report.histories[name] = hist
            report.samples += hist.samples
            report.series += len(hist.series)
    report.seconds = time.monotonic() - began
    return report


def prefill_store(store: Any, report: Backfill | None, targets: dict[str, str]) -> int:
    """Write the kept histories into a direct-scrape Store (job -> host:port instance). Kept for
    the demo's life (a few MB), so every dashboard built on it (screenshots make several) starts full."""
    if report is None:
        return 0
    return sum(fill_store(store, hist, targets[job]) for job, hist in report.histories.items() if job in targets)
