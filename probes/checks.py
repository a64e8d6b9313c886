"""One-shot checks for `llmwatch check` and `llmwatch watch`: the result model and the runner.

Everything runs concurrently under ONE deadline that is never exceeded: a check still running
when the deadline comes is reported UNKNOWN ("did not finish within 10s"). Prometheus being
unreachable makes the Prometheus-based checks UNKNOWN while health checks still run and count.
"""

from __future__ import annotations

import asyncio
import fnmatch
import re
import time
from dataclasses import dataclass, field, replace
from typing import Awaitable, Callable, Iterable, Sequence

from probes.status import Status, worst


@dataclass(frozen=True)
class Perf:
    """One perfdata item: 'label'=value[UOM];[warn];[crit];[min];[max]."""

    label: str
    value: float
    uom: str = ""
    warn: str = ""
    crit: str = ""
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class CheckResult:
    name: str
    kind: str  # health | component | rule | target | alert | slo | prometheus
    status: Status
    summary: str
    value: float | None = None
    unit: str = ""
    perfdata: tuple[Perf, ...] = ()
    duration_s: float = 0.0
    silenced: bool = False
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckRun:
    results: tuple[CheckResult, ...]
    duration_s: float
    started_at: float
    deadline_s: float

    @property
    def status(self) -> Status:
        return worst(r.status for r in self.results)

    @property
    def exit_code(self) -> int:
        return int(self.status)

    def summary(self) -> str:
        """The one line a pager shows: what is wrong, worst first, or that all is well."""
        if not self.results:
            return "no checks configured"
        bad = [r for r in self.results if r.status is not Status.OK]
        if not bad:
            return f"{len(self.results)} checks OK"
        bad.sort(key=lambda r: (-_RANK[r.status], r.name))
        shown = "; ".join(f"{r.name}: {r.summary}" for r in bad[:3])
        more = f"; +{len(bad) - 3} more" if len(bad) > 3 else ""
        return f"{len(bad)} of {len(self.results)} checks not OK: {shown}{more}"


_RANK = {Status.OK: 0, Status.UNKNOWN: 1, Status.WARNING: 2, Status.CRITICAL: 3}

# A check producer: given the remaining seconds, returns one or more results.
Producer = Callable[[float], Awaitable[Sequence[CheckResult]]]


# The names a planned check can give its results: (text, is_prefix). ("target:", True) stands
# for every name starting "target:"; the first entry is the check's own (primary) name.
Names = tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class PlannedCheck:
    """A named unit of work; if it does not finish in time its placeholder results are reported."""

    name: str
    kind: str
    run: Producer
    prometheus: bool = False  # depends on Prometheus being reachable
    names: Names = ()         # what its results may be called; () means just `name`

    @property
    def result_names(self) -> Names:
        return self.names or ((self.name, False),)


@dataclass(frozen=True)
class Selection:
    """--only / --skip globs. `runs()` decides before anything is sent (an excluded check makes no
    request at all: LiteLLM's /health makes paid upstream calls); `wants()` filters results."""

    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()

    def wants(self, name: str) -> bool:
        if self.only and not any(fnmatch.fnmatchcase(name, g) for g in self.only):
            return False
        return not any(fnmatch.fnmatchcase(name, g) for g in self.skip)

    def runs(self, check: PlannedCheck) -> bool:
        """False when no result of `check` could survive the selection: --only matches none of
        the names it may produce, or --skip covers its primary name (all of it, for a prefix)."""
        names = check.result_names
        if self.only and not any(_glob_meets(g, text, prefix) for g in self.only for text, prefix in names):
            return False
        text, prefix = names[0]
        return not any(_glob_covers(g, text, prefix) for g in self.skip)


def _glob_tokens(glob: str) -> list[str]:
    """fnmatch's syntax split into one token per character position: '*', or a pattern for one
    character ('?', '[a-z]', '[!x]', a literal). A '[' without its ']' is a literal, as in fnmatch."""
    out, i = [], 0
    while i < len(glob):
        ch, end = glob[i], -1
        if ch == "[":
            j = i + 1
            j += glob[j:j + 1] == "!"
            j += glob[j:j + 1] == "]"
            end = glob.find("]", j)
        if end != -1:
            out.append(glob[i:end + 1])
            i = end
        else:
            out.append(ch)
        i += 1
    return out


def _glob_states(glob: str, text: str) -> tuple[list[str], set[int]]:
    """The glob's tokens and the positions it can be at after reading `text` (an NFA walk)."""
    tokens = _glob_tokens(glob)

    def close(states: set[int]) -> set[int]:
        todo = list(states)
        while todo:
            i = todo.pop()
            if i < len(tokens) and tokens[i] == "*" and i + 1 not in states:
                states.add(i + 1)
                todo.append(i + 1)
        return states

    states = close({0})
    for ch in text:
        nxt = set()
        for i in states:
            if i < len(tokens):
                if tokens[i] == "*":
                    nxt.add(i)
                elif fnmatch.fnmatchcase(ch, tokens[i]):
                    nxt.add(i + 1)
        states = close(nxt)
        if not states:
            break
    return tokens, states


def _glob_meets(glob: str, text: str, prefix: bool) -> bool:
    """Can `glob` match `text` (prefix False), or some name starting with `text` (prefix True)?"""
    if not prefix:
        return fnmatch.fnmatchcase(text, glob)
    return bool(_glob_states(glob, text)[1])


def _glob_covers(glob: str, text: str, prefix: bool) -> bool:
    """Does `glob` match `text`, or (prefix) every name that starts with `text`?"""
    if not prefix:
        return fnmatch.fnmatchcase(text, glob)
    tokens, states = _glob_states(glob, text)
    return any(all(t == "*" for t in tokens[i:]) for i in states)


async def run_planned(plan: Sequence[PlannedCheck], deadline_s: float, *,
                      selection: Selection = Selection()) -> CheckRun:
    """Run every planned check concurrently; never take longer than deadline_s (plus scheduling)."""
    started = time.time()
    t0 = time.monotonic()
    end = t0 + deadline_s

    async def one(check: PlannedCheck) -> list[CheckResult]:
        c0 = time.monotonic()
        try:
            results = list(await check.run(max(0.05, end - time.monotonic() - 0.05)))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in one check must not hide the others
            results = [CheckResult(check.name, check.kind, Status.UNKNOWN,
                                   f"check failed: {type(exc).__name__}: {exc}")]
        took = time.monotonic() - c0
        return [r if r.duration_s else replace(r, duration_s=took) for r in results]

    plan = [c for c in plan if selection.runs(c)]  # excluded checks send nothing
    tasks = [asyncio.ensure_future(one(c)) for c in plan]
    done, pending = await asyncio.wait(tasks, timeout=max(0.0, end - time.monotonic())) if tasks else (set(), set())
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=0.2)
    results: list[CheckResult] = []
    for check, task in zip(plan, tasks):
        if task in done and not task.cancelled() and task.exception() is None:
            results.extend(task.result())
        else:
            results.append(CheckResult(check.name, check.kind, Status.UNKNOWN,
                                       f"did not finish within {deadline_s:g}s", duration_s=deadline_s))
    results = [r for r in results if selection.wants(r.name)]
    return CheckRun(results=tuple(results), duration_s=time.monotonic() - t0, started_at=started,
                    deadline_s=deadline_s)


def compile_patterns(patterns: Iterable[str], what: str) -> tuple[re.Pattern, ...]:
    """Compile user regexes, raising ValueError naming the bad one (the CLI turns it into exit 3)."""
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p))
        except re.error as exc:
            raise ValueError(f"{what}: bad regular expression {p!r}: {exc}") from None
    return tuple(out)


@dataclass(frozen=True)
class CheckOptions:
    deadline_s: float = 10.0
    urls: tuple[str, ...] = ()
    selection: Selection = field(default_factory=Selection)
    ignore_alerts: tuple[re.Pattern, ...] = ()
    include_targets: bool = True
    include_alerts: bool = True
