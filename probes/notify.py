"""Deliver watch notifications (webhook, exec) without ever blocking the checks.

Changes go into a bounded in-memory queue drained by one background task per sink. A failed
delivery is retried with exponential backoff (1 s doubling to 60 s) and keeps its place, so
nothing is lost while a webhook is down for a few minutes; only if the queue overflows
(`max_queue`) are the OLDEST changes dropped, and that is said on stderr.

What leaves is scrubbed of every registered secret (probes.redact): a summary can hold what a
server echoed back. The --exec variables are also made terminal-safe (a hook script echoes them).
"""

from __future__ import annotations

import asyncio
import math
import os
import socket
import sys
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import httpx

from probes.http import ClientOptions, FetchError, fetch, make_client
from probes.redact import display_url
from probes.redact import scrub, webhook_display
from probes.textsafe import clean
from probes.timestamps import rfc3339
from probes.watch import Change


def payload(change: Change, host: str) -> dict:
    """Slack-compatible `text` plus structured fields for anything else; secrets scrubbed."""
    value = change.value if change.value is None or math.isfinite(change.value) else None
    return {
        "text": scrub(f"[{host}] {change.line()}"),
        "check": scrub(change.name),
        "kind": change.kind,
        "from": change.before.name,
        "to": change.after.name,
        "initial": change.initial,
        "summary": scrub(change.summary),
        "value": value,
        "timestamp": rfc3339(change.at),
        "timestamp_epoch": round(change.at, 3),
        "host": host,
    }


def exec_env(change: Change, host: str) -> dict[str, str]:
    env = dict(os.environ)
    ours = {
        "LLMWATCH_CHECK": change.name, "LLMWATCH_KIND": change.kind, "LLMWATCH_FROM": change.before.name,
        "LLMWATCH_TO": change.after.name, "LLMWATCH_SUMMARY": change.summary,
        "LLMWATCH_VALUE": "" if change.value is None else f"{change.value:g}",
        "LLMWATCH_TIMESTAMP": f"{change.at:.3f}", "LLMWATCH_LINE": change.line(), "LLMWATCH_HOST": host,
    }
    env.update({k: clean(scrub(v), 4000, newlines="space") for k, v in ours.items()})
    return env


@dataclass
class Sink:
    """One destination with its own queue and retry loop."""

    name: str
    deliver: Callable[[Change], "asyncio.Future"]
    max_queue: int = 1000
    backoff_start: float = 1.0
    backoff_max: float = 60.0
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr, flush=True)
    queue: deque = field(default_factory=deque)
    dropped: int = 0
    delivered: int = 0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def put(self, change: Change) -> None:
        if len(self.queue) >= self.max_queue:
            self.queue.popleft()
            self.dropped += 1
            self.log(f"llmwatch: {self.name}: queue full, dropped the oldest notification ({self.dropped} so far)")
        self.queue.append(change)
        self._wake.set()

    async def run(self) -> None:
        delay = self.backoff_start
        while True:
            if not self.queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            change = self.queue[0]
            try:
                await self.deliver(change)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep the change, wait, try again
                self.log(f"llmwatch: {self.name}: delivery failed ({exc}); retrying in {delay:g}s, "
                         f"{len(self.queue)} queued")
                await asyncio.sleep(delay)
                delay = min(self.backoff_max, delay * 2)
                continue
            self.queue.popleft()
            self.delivered += 1
            delay = self.backoff_start


def webhook_sink(url: str, *, timeout: float = 10.0, host: str | None = None, **kw) -> tuple[Sink, httpx.AsyncClient]:
    host = host or socket.gethostname()
    client = make_client(ClientOptions(timeout=timeout))
    shown = webhook_display(url)

    async def deliver(change: Change) -> None:
        try:
            resp = await fetch(client, "POST", url, json_body=payload(change, host), timeout=timeout, max_bytes=65536)
        except FetchError as exc:  # fetch() names the URL in its display form: replace both forms
            raise RuntimeError(exc.message.replace(display_url(url), shown).replace(url, shown)) from None
        if resp.status >= 300:
            raise RuntimeError(f"{shown} answered HTTP {resp.status}")

    return Sink(f"webhook {shown}", deliver, **kw), client


def exec_sink(command: str, *, timeout: float = 30.0, host: str | None = None, **kw) -> Sink:
    host = host or socket.gethostname()

    async def deliver(change: Change) -> None:
        proc = await asyncio.create_subprocess_shell(command, env=exec_env(change, host),
                                                     stdin=asyncio.subprocess.DEVNULL,
                                                     stdout=asyncio.subprocess.DEVNULL,
                                                     stderr=asyncio.subprocess.PIPE)
        try:
            _, err = await asyncio.wait_for(proc.communicate(), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise RuntimeError(f"--exec command did not finish within {timeout:g}s") from None
        if proc.returncode != 0:
            tail = (err or b"").decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise RuntimeError(f"--exec command exited {proc.returncode}: {tail[0][:200]}")

    return Sink("--exec", deliver, **kw)
