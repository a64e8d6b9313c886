"""node_exporter (extra): the memory pair llmwatch reads, in the Go dialect (1.6e+10 style)."""

from __future__ import annotations

from probes.synthetic.exposition import GO
from probes.synthetic.service import Service


class NodeExporter(Service):
    name = "node"
    dialect = GO
    health_path = None
    default_gauges = {"mem_total_bytes": 67_108_864_000, "mem_available_bytes": 23_500_000_000}

    def setup(self) -> None:
        r = self.registry
        self.total = r.gauge("node_memory_MemTotal_bytes", "Memory information field MemTotal_bytes.")
        self.avail = r.gauge("node_memory_MemAvailable_bytes", "Memory information field MemAvailable_bytes.")

    def refresh_gauges(self, t: float, g: dict[str, float]) -> None:  # type: ignore[override]
        self.total.set(None, g["mem_total_bytes"])
        self.avail.set(None, g["mem_available_bytes"])
