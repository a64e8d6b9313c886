"""LogQL for the logs screen: a request (selector + window) built from the labels in hand.

The dashboard, the alerts screen and the health table all open logs the same way: they build a
LogRequest and call `app.open_logs(request)`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LogRequest:
    selector: str            # LogQL stream selector, e.g. {job="gateway"}
    start: float             # unix seconds
    end: float | None = None  # None: now (the screen may follow)
    title: str = ""          # where it came from: "panel latency", "alert GatewayHighErrorRate"
    line_filter: str = ""    # optional text filter pushed down as |= "..."
