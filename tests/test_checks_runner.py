"""The check runner: one deadline for everything, never exceeded; selection; overall status."""

from __future__ import annotations

import asyncio
import time

from probes.checks import CheckResult, CheckRun, PlannedCheck, Selection, run_planned
from probes.status import Status


def planned(name: str, delay: float, status: Status = Status.OK, raises: bool = False) -> PlannedCheck:
    async def run(remaining: float):
        await asyncio.sleep(delay)
        if raises:
            raise RuntimeError("boom")
        return [CheckResult(name, "health", status, f"{name} done")]
    return PlannedCheck(name, "health", run)


async def test_deadline_is_never_exceeded_and_late_checks_are_unknown():
    t0 = time.monotonic()
    run = await run_planned([planned("fast", 0.01), planned("hang", 30)], deadline_s=0.5)
    took = time.monotonic() - t0
    assert took < 0.9
    by = {r.name: r for r in run.results}
    assert by["fast"].status is Status.OK
    assert by["hang"].status is Status.UNKNOWN and "did not finish within 0.5s" in by["hang"].summary
    assert run.status is Status.UNKNOWN and run.exit_code == 3


async def test_checks_run_concurrently():
    t0 = time.monotonic()
    run = await run_planned([planned(f"c{i}", 0.3) for i in range(8)], deadline_s=5)
    assert time.monotonic() - t0 < 1.0
    assert len(run.results) == 8 and run.status is Status.OK


async def test_a_crashing_check_is_unknown_not_fatal():
    run = await run_planned([planned("bad", 0, raises=True), planned("good", 0, Status.CRITICAL)], deadline_s=2)
    by = {r.name: r for r in run.results}
    assert by["bad"].status is Status.UNKNOWN and "boom" in by["bad"].summary
    assert run.status is Status.CRITICAL  # a real problem outranks "could not check"


async def test_selection_only_and_skip():
    plan = [planned("api-gateway", 0), planned("tinycode", 0), planned("vllm", 0)]
    run = await run_planned(plan, 2, selection=Selection(only=("api-*", "vllm"), skip=("vllm",)))
    assert [r.name for r in run.results] == ["api-gateway"]


def test_summary_names_worst_first():
    results = (CheckResult("a", "health", Status.WARNING, "slow"), CheckResult("b", "health", Status.CRITICAL, "down"),
               CheckResult("c", "health", Status.OK, "fine"))
    run = CheckRun(results, 0.1, 0, 10)
    assert run.summary() == "2 of 3 checks not OK: b: down; a: slow"
    assert CheckRun((), 0, 0, 10).summary() == "no checks configured"
