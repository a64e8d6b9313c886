"""Metrics every real client library adds on its own (process_*, python_gc_*, nodejs_*).

Why: real exporters never expose only the application metrics, and "which job is this" detection
must not be fooled by the shared process_* names.
"""

from __future__ import annotations

import json
import time

from probes.synthetic.exposition import Registry

PYTHON_VERSION = ("CPython", "3", "11", "9", "3.11.9")


class PythonProcess:
    """prometheus_client's default ProcessCollector, PlatformCollector and GCCollector."""

    def __init__(self, reg: Registry, cpu_fraction: float = 0.15):
        self.cpu_fraction = cpu_fraction
        self.cpu = 0.0
        self.start = time.time()
        self.vmem = reg.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.")
        self.rss = reg.gauge("process_resident_memory_bytes", "Resident memory size in bytes.")
        self.start_time = reg.gauge("process_start_time_seconds",
                                    "Start time of the process since unix epoch in seconds.")
        self.cpu_total = reg.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
        self.open_fds = reg.gauge("process_open_fds", "Number of open file descriptors.")
        self.max_fds = reg.gauge("process_max_fds", "Maximum number of open file descriptors.")
        self.gc_collected = reg.counter("python_gc_objects_collected_total",
                                        "Objects collected during gc", ["generation"])
        self.gc_uncollectable = reg.counter("python_gc_objects_uncollectable_total",
                                            "Uncollectable objects found during GC", ["generation"])
        self.gc_collections = reg.counter("python_gc_collections_total",
                                          "Number of times this generation was collected", ["generation"])
        self.info = reg.gauge("python_info", "Python platform information",
                              ["implementation", "major", "minor", "patchlevel", "version"])
        # the collectors are custom collectors: no *_created series in the real client either
        for fam in (self.cpu_total, self.gc_collected, self.gc_uncollectable, self.gc_collections):
            fam.created_enabled = False

    def advance(self, dt: float, requests: int) -> None:
        self.cpu += self.cpu_fraction * dt
        for gen, per_req in (("0", 40), ("1", 6), ("2", 1)):
            self.gc_collected.inc([gen], per_req * requests)
            self.gc_collections.inc([gen], max(requests // (10 ** int(gen) * 5), 0))
            self.gc_uncollectable.inc([gen], 0)

    def refresh(self, rss_bytes: float, open_fds: float = 24) -> None:
        self.cpu_total.values[()] = self.cpu
        self.cpu_total.created.setdefault((), self.start)
        self.rss.set(None, rss_bytes)
        self.vmem.set(None, rss_bytes * 3.1)
        self.start_time.set(None, round(self.start, 2))
        self.open_fds.set(None, open_fds)
        self.max_fds.set(None, 1048576)
        self.info.set(list(PYTHON_VERSION), 1)


def jdump(obj: dict) -> str:
    """json.dumps as Python loggers do (", " and ": " separators, key order kept)."""
    return json.dumps(obj)
