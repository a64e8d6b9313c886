"""dcgm-exporter with two H100s (reference section 7): gauges only, values from gauge settings.

Gauge keys are "gpu<N>.<field>" (e.g. gpu0.util, gpu1.fb_used); FB_* are MiB and
used + free + reserved = 81559 MiB per GPU. Go client dialect (81559, not 81559.0).
"""

from __future__ import annotations

from probes.synthetic.exposition import GO
from probes.synthetic.service import Service

HOSTNAME = "llm-node-1"
MODEL_NAME = "NVIDIA H100 80GB HBM3"
TOTAL_MIB = 81559
FIELDS = (  # (metric, gauge field, help)
    ("DCGM_FI_DEV_GPU_UTIL", "util", "GPU utilization (in %)."),
    ("DCGM_FI_DEV_MEM_COPY_UTIL", "mem_copy_util", "Memory utilization (in %)."),
    ("DCGM_FI_DEV_FB_FREE", "fb_free", "Framebuffer memory free (in MiB)."),
    ("DCGM_FI_DEV_FB_USED", "fb_used", "Framebuffer memory used (in MiB)."),
    ("DCGM_FI_DEV_FB_RESERVED", "fb_reserved", "Framebuffer memory reserved (in MiB)."),
    ("DCGM_FI_DEV_GPU_TEMP", "temp", "GPU temperature (in C)."),
    ("DCGM_FI_DEV_MEMORY_TEMP", "mem_temp", "Memory temperature (in C)."),
    ("DCGM_FI_DEV_POWER_USAGE", "power", "Power draw (in W)."),
)
GPUS = (
    {"util": 62, "mem_copy_util": 35, "fb_used": 72_000, "fb_free": 9_000, "fb_reserved": 559,
     "temp": 64, "mem_temp": 70, "power": 352.4},
    {"util": 24, "mem_copy_util": 12, "fb_used": 18_000, "fb_free": 63_000, "fb_reserved": 559,
     "temp": 48, "mem_temp": 52, "power": 181.7},
)
LABELS = ("gpu", "UUID", "pci_bus_id", "device", "modelName", "Hostname")


def gpu_labels(i: int) -> dict[str, str]:
    return {"gpu": str(i), "UUID": f"GPU-{i}1234567-89ab-cdef-0123-456789abcdef",
            "pci_bus_id": f"00000000:{0x18 + i * 0x1c:02X}:00.0", "device": f"nvidia{i}",
            "modelName": MODEL_NAME, "Hostname": HOSTNAME}


class Dcgm(Service):
    name = "dcgm"
    dialect = GO
    health_path = None
    default_gauges = {f"gpu{i}.{k}": v for i, g in enumerate(GPUS) for k, v in g.items()}
    gauge_limits = {f"gpu{i}.{k}": 100.0 for i in range(len(GPUS)) for k in ("util", "mem_copy_util")}

    def setup(self) -> None:
        self.fams = {field: self.registry.gauge(metric, help_text, LABELS) for metric, field, help_text in FIELDS}

    def refresh_gauges(self, t: float, g: dict[str, float]) -> None:  # type: ignore[override]
        for i in range(len(GPUS)):
            for field, fam in self.fams.items():
                v = g[f"gpu{i}.{field}"]
                if field == "fb_free" and self.vary and f"gpu{i}.fb_free" not in self.settings.gauges:
                    v = TOTAL_MIB - g[f"gpu{i}.fb_used"] - g[f"gpu{i}.fb_reserved"]  # keep the sum exact
                fam.set(gpu_labels(i), v)
