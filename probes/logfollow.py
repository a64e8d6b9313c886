"""Follow a LogQL query by polling: every new line once, none skipped, in a bounded buffer.

Why polling and not Loki's /tail websocket: the websocket is often blocked by the proxies in
front of Loki, needs its own auth path, and drops lines silently when the client is slow
("dropped_entries"). Polling query_range uses the same auth and errors as every other call.

How "no duplicates, no gaps" holds:
- Each poll asks `direction=forward` from the last seen timestamp, INCLUSIVE. Starting at
  last+1 would lose a line that shares the last nanosecond with one already seen but arrived in
  a later poll (several lines per ns are common when a shipper batches).
- Lines at exactly that timestamp are de-duplicated by (ts_ns, labels, line).
- A page of `limit` lines may not be all there is: page forward until a page is short.
  If a whole page shares ONE timestamp (more same-ns lines than `limit`), the next request would
  return the same page; the limit is doubled for that request, up to `max_limit`.
Known limit (shared with logcli --tail): a line Loki ingests after we polled past its timestamp
(a shipper that lags by more than the poll interval) is not seen. `lag_s` re-reads that many
seconds behind the cursor (de-duplicated) to close the gap for late shippers, at some cost.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Callable, Iterable

from probes.loki import LogEntry
from probes.promtypes import ApiError

__all__ = ["Follower", "entry_key"]


def entry_key(e: LogEntry) -> tuple[int, tuple[tuple[str, str], ...], str]:
    return (e.ts_ns, tuple(sorted(e.labels.items())), e.line)


class Follower:
    """`await f.poll()` -> the entries that appeared since the last poll, oldest first.

    `f.buffer` keeps the newest `buffer` entries (oldest first); `f.size`, `f.capacity`,
    `f.oldest_ns` and `f.dropped` say how much of the history is still held.
    `f.error` is the last poll's ApiError (None when it worked); a failed poll returns what the
    pages before the failure found and the next poll resumes from there.
    """

    def __init__(self, client: Any, query: str, start_ns: int, buffer: int = 5000, *, limit: int = 500,
                 max_limit: int = 5000, max_pages: int = 20, lag_s: float = 0.0,
                 seen: Iterable[LogEntry] = (), now_ns: Callable[[], int] = time.time_ns,
                 timeout: float | None = None) -> None:
        if buffer < 1 or limit < 1:
            raise ValueError("buffer and limit must be at least 1")
        self.client = client
        self.query = query
        self.limit = limit
        self.max_limit = max(limit, max_limit)
        self.max_pages = max_pages
        self.lag_ns = int(lag_s * 1e9)
        self.timeout = timeout
        self._now_ns = now_ns
        self.buffer: deque[LogEntry] = deque(maxlen=buffer)
        self.cursor_ns = int(start_ns)
        self._recent: dict[tuple, int] = {}  # key -> ts_ns, for keys at/after cursor - lag
        self.error: ApiError | None = None
        self.dropped = 0
        self.polls = 0
        self.gaps = 0  # same-ns bursts larger than max_limit (lines could not all be fetched)
        for e in sorted(seen, key=lambda e: e.ts_ns):  # what the caller already shows
            self.buffer.append(e)
            self._recent[entry_key(e)] = e.ts_ns
            self.cursor_ns = max(self.cursor_ns, e.ts_ns)
        self._forget()

    # -- what the screen shows ----------------------------------------------------------------

    @property
    def size(self) -> int:
        return len(self.buffer)

    @property
    def capacity(self) -> int:
        return self.buffer.maxlen or 0

    @property
    def oldest_ns(self) -> int | None:
        return self.buffer[0].ts_ns if self.buffer else None

    # -- polling ------------------------------------------------------------------------------

    async def poll(self) -> list[LogEntry]:
        """One poll: page forward from the cursor until Loki has no more. Never raises for
        server trouble (see `error`)."""
        self.polls += 1
        self.error = None
        fresh: list[LogEntry] = []
        limit = self.limit
        for _ in range(self.max_pages):
            start = self.cursor_ns - self.lag_ns
            end = max(self._now_ns(), self.cursor_ns + 1)
            result = await self.client.query_range(self.query, start, end, limit=limit, direction="forward",
                                                   timeout=self.timeout)
            if not result.ok:
                self.error = result.error
                break
            page = sorted(result.entries, key=lambda e: e.ts_ns)
            new = self._take(page)
            fresh.extend(new)
            if len(page) < limit:
                break
            if page[-1].ts_ns > self.cursor_ns:
                self.cursor_ns = page[-1].ts_ns
                limit = self.limit
            elif not new:  # a full page of one timestamp, all seen: ask for more at once
                if limit >= self.max_limit:
                    self.gaps += 1
                    self.cursor_ns += 1  # give up on the rest of this nanosecond
                    limit = self.limit
                else:
                    limit = min(limit * 2, self.max_limit)
        if fresh:
            self.cursor_ns = max(self.cursor_ns, fresh[-1].ts_ns)
        self._forget()
        return fresh

    def _take(self, entries: list[LogEntry]) -> list[LogEntry]:
        new = []
        for e in entries:
            key = entry_key(e)
            if key in self._recent or e.ts_ns < self.cursor_ns - self.lag_ns:
                continue
            self._recent[key] = e.ts_ns
            new.append(e)
            if len(self.buffer) == self.buffer.maxlen:
                self.dropped += 1
            self.buffer.append(e)
        return new

    def _forget(self) -> None:
        """Keep only the keys a later poll can see again (ts >= cursor - lag)."""
        floor = self.cursor_ns - self.lag_ns
        if any(ts < floor for ts in self._recent.values()):
            self._recent = {k: ts for k, ts in self._recent.items() if ts >= floor}
