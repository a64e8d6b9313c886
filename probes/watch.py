"""`llmwatch watch`: announce state changes, not polls, with Gatus-style flap control.

A check's announced state changes only after `failure_threshold` consecutive non-OK
observations (degradation, or a change between non-OK states) or `success_threshold`
consecutive OK ones (recovery). The first observation of each check is its baseline; checks
that appear later (a new alert) start from OK, and checks that disappear count as OK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from probes.checks import CheckResult, CheckRun
from probes.status import Status


@dataclass(frozen=True)
class Change:
    name: str
    kind: str
    before: Status
    after: Status
    summary: str
    value: float | None
    at: float  # unix seconds
    initial: bool = False  # reported at start: the check was already not OK

    def line(self) -> str:
        stamp = datetime.fromtimestamp(self.at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.initial:
            return f"{stamp} {self.name} {self.after.name} (at start): {self.summary}"
        return f"{stamp} {self.name} {self.before.name} -> {self.after.name}: {self.summary}"


@dataclass
class _Track:
    announced: Status
    candidate: Status | None = None
    streak: int = 0
    kind: str = ""


@dataclass
class Watcher:
    failure_threshold: int = 3
    success_threshold: int = 2
    _tracks: dict[str, _Track] = field(default_factory=dict)
    _started: bool = False

    def observe(self, run: CheckRun, at: float | None = None) -> list[Change]:
        """Feed one run; return the changes to announce now."""
        at = run.started_at if at is None else at
        seen: dict[str, CheckResult] = {r.name: r for r in run.results}
        changes: list[Change] = []
        if not self._started:
            self._started = True
            for r in run.results:
                self._tracks[r.name] = _Track(announced=r.status, kind=r.kind)
                if r.status is not Status.OK:
                    changes.append(Change(r.name, r.kind, Status.OK, r.status, r.summary, r.value, at, initial=True))
            return changes
        for name in list(self._tracks.keys() | seen.keys()):
            r = seen.get(name)
            track = self._tracks.get(name)
            if track is None:
                track = self._tracks[name] = _Track(announced=Status.OK, kind=r.kind if r else "")
            status = r.status if r is not None else Status.OK
            summary = r.summary if r is not None else "no longer reported"
            change = self._step(name, track, status, summary, r.value if r else None, at)
            if change:
                changes.append(change)
            if r is None and track.announced is Status.OK and track.candidate is None:
                del self._tracks[name]  # resolved and gone: forget it, keeps memory flat
        return changes

    def _step(self, name: str, track: _Track, status: Status, summary: str, value, at: float) -> Change | None:
        if status is track.announced:
            track.candidate, track.streak = None, 0
            return None
        if status is track.candidate:
            track.streak += 1
        else:
            track.candidate, track.streak = status, 1
        needed = self.success_threshold if status is Status.OK else self.failure_threshold
        if track.streak < needed:
            return None
        before = track.announced
        track.announced, track.candidate, track.streak = status, None, 0
        return Change(name, track.kind, before, status, summary, value, at)

    def status_line(self, run: CheckRun) -> str:
        """The compact line printed at start: counts per state and the non-OK names."""
        counts = {s: 0 for s in Status}
        for r in run.results:
            counts[r.status] += 1
        parts = [f"{counts[s]} {s.name}" for s in (Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN) if counts[s]]
        bad = [f"{r.name}={r.status.name}" for r in run.results if r.status is not Status.OK]
        stamp = datetime.fromtimestamp(run.started_at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        line = f"{stamp} watching {len(run.results)} checks: " + (", ".join(parts) or "none")
        return line + (f" ({', '.join(bad[:8])}{', ...' if len(bad) > 8 else ''})" if bad else "")

    @property
    def tracked(self) -> int:
        return len(self._tracks)
