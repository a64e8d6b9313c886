"""Poll loops for the dashboard's sources: never overlapping, each on its own schedule.

Why a loop per source instead of a timer: a timer fires whether or not the last poll finished,
so a slow Prometheus would pile requests up (dolphie's WorkerManager and k9s' updater both
reschedule after completion). Each loop polls, waits `interval` or until woken (`r`, a range
change), and polls again. A failed poll keeps the last good data and records "stale since";
the first success after a failure clears it. Every poll has an outer deadline, so a server
that accepts the connection and never answers cannot freeze a loop, and a failure while showing
the data (a rendering bug on odd data) marks the source failed instead of ending its loop.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any, Awaitable, Callable

from probes.dashboard_model import Source
from probes.textsafe import one_line


class Poller:
    def __init__(self, name: str, fetch: Callable[[], Awaitable[Any]], interval: Callable[[], float],
                 on_result: Callable[[str, Any, Source], None], deadline: Callable[[], float],
                 clock: Callable[[], float] = time.time, ready: asyncio.Event | None = None):
        self.name = name
        self.fetch = fetch
        self.interval = interval
        self.on_result = on_result
        self.deadline = deadline
        self.clock = clock
        self.ready = ready                 # wait for this before the first poll (meta first)
        self.paused = False
        self.source = Source(name)
        self.polls = 0                     # polls started
        self.answered = 0                  # polls finished (ok or failed)
        self.reported = asyncio.Event()    # set after the first poll, ok or not
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        if self.ready is not None:
            await self.ready.wait()
        while True:
            if not self.paused:
                await self.poll_once()
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval())
            except asyncio.TimeoutError:
                pass

    async def poll_once(self) -> None:
        self.polls += 1
        now = self.clock()
        try:
            result = await asyncio.wait_for(self.fetch(), timeout=self.deadline())
        except asyncio.CancelledError:
            raise
        except asyncio.TimeoutError:
            self._failed(now, f"no answer within {self.deadline():.0f} s")
        except Exception as exc:  # a source's failure is data for the panel, never a crash
            self._failed(now, one_line(str(exc) or type(exc).__name__, 300))
        else:
            self.source = Source(self.name, True, "", self.clock(), None)
            self.answered += 1
            self.reported.set()
            try:
                self.on_result(self.name, result, self.source)
            except Exception as exc:  # noqa: BLE001 - showing the data failed: say so, keep polling
                self._failed(now, f"internal error showing the data ({type(exc).__name__})")

    def _failed(self, now: float, error: str) -> None:
        prev = self.source
        since = prev.stale_since if not prev.ok and prev.stale_since else now
        self.source = replace(prev, ok=False, error=error, stale_since=since)
        self.answered += 1
        self.reported.set()
        try:
            self.on_result(self.name, None, self.source)
        except Exception:  # noqa: BLE001 - even the error cannot be shown: the next poll tries again
            pass
