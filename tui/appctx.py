"""What every screen of the Textual app is handed: the config, the API clients and the clock.

Why one object: the dashboard, the alerts screen and the logs screen are built separately (and
headless by `llmwatch snapshot`), but must share one set of HTTP clients (connection reuse, one
in-flight de-duplication table) and one notion of "now" (a fixed clock in snapshot tests).
Screens never build clients themselves; they read them here. A client is None when its source
is not available (direct-scrape mode without Prometheus, no Alertmanager configured); the
screen then shows "needs Prometheus" / "Alertmanager not configured" instead of an error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from probes.config import Config


@dataclass
class AppContext:
    config: Config
    prometheus: Any = None       # probes.prometheus.PrometheusClient, or the direct-scrape client
    alertmanager: Any = None     # probes.alertmanager.AlertmanagerClient or None
    loki: Any = None             # probes.loki.LokiClient or None
    readonly: bool = False       # --readonly or [dashboard] readonly: no silences created/expired
    ascii: bool = False          # --ascii: no box drawing / block characters in bars and charts
    clock: Callable[[], float] = time.time   # unix seconds; fixed in snapshot tests
    scrape_mode: bool = False    # True when `prometheus` is the direct-scrape client
    banner: str = ""             # extra header text (the demo says what it started)
    extras: dict[str, Any] = field(default_factory=dict)

    async def aclose(self) -> None:
        for c in (self.prometheus, self.alertmanager, self.loki):
            close = getattr(c, "aclose", None)
            if close is not None:
                try:
                    await close()
                except Exception:  # closing must never mask the real exit
                    pass
