"""One way to write a point in time for machines: RFC 3339 in UTC with a Z.

Why: every JSON output (check, alerts, watch webhooks, Alertmanager silences) must agree, and
an epoch number next to it (`started_at_epoch`) is for arithmetic, never instead of it.
"""

from __future__ import annotations

from datetime import datetime, timezone


def rfc3339(t: datetime | float, digits: int = 3) -> str:
    """A datetime (naive means UTC) or unix seconds -> '2026-11-22T05:24:33.000Z' (digits 0-6)."""
    if not isinstance(t, datetime):
        t = datetime.fromtimestamp(float(t), tz=timezone.utc)
    elif t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    text = t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return (text[:-7] if digits <= 0 else text[: len(text) - (6 - min(digits, 6))]) + "Z"
