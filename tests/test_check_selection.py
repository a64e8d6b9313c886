"""`check --only X` / `--skip Y`: an excluded check sends nothing (LiteLLM's /health makes paid
upstream calls) and is not waited for. A server counts every request; one path never answers.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from probes.checks import PlannedCheck, Selection
from tests.harness.hostile import HostileServer
from tests.harness.terminal import LLMWATCH, ROOT, clean_env


async def _never(_remaining):  # pragma: no cover - a planned check must not run
    raise AssertionError("ran")


def planned(name, names=()):
    return PlannedCheck(name, "x", _never, names=names)


HEALTH = planned("gw", ((("gw"), False), ("gw/", True)))
TARGETS = planned("targets", (("target:", True), ("targets", False)))
ALERTS = planned("alerts", (("alert:", True), ("alerts", False), ("alertmanager", False)))


@pytest.mark.parametrize("only, skip, runs", [
    ((), (), {"gw", "targets", "alerts"}),
    (("gw",), (), {"gw"}),
    (("gw/redis",), (), {"gw"}),               # a component needs its service's probe
    (("target:*",), (), {"targets"}),
    (("target:vllm",), (), {"targets"}),
    (("*:vllm",), (), {"gw", "targets", "alerts"}),  # a target, an alert, or a component "gw/x:vllm"
    (("t?rget:*",), (), {"targets"}),
    (("nothing",), (), set()),
    ((), ("gw",), {"targets", "alerts"}),
    ((), ("gw/*",), {"gw", "targets", "alerts"}),  # the service itself still reports
    ((), ("target:*", "alert:*"), {"gw"}),
    ((), ("*",), set()),
    ((), ("target:vllm",), {"gw", "targets", "alerts"}),  # other jobs' targets still checked
])
def test_selection_decides_before_running(only, skip, runs):
    sel = Selection(only, skip)
    assert {c.name for c in (HEALTH, TARGETS, ALERTS) if sel.runs(c)} == runs


@pytest.fixture
def counting(tmp_path):
    with HostileServer("x", hang=("/hang",)) as server:
        conf = tmp_path / "c.toml"
        conf.write_text(f"""
[prometheus]
url = "{server.url}"
[[services]]
name = "ok"
url = "{server.url}/ready"
[[services]]
name = "litellm"
url = "{server.url}/hang"
timeout = "5s"
""")
        yield server, conf


def check(conf, tmp_path, *args):
    started = time.monotonic()
    p = subprocess.run([LLMWATCH, "check", "--config", str(conf), "--timeout", "8s", *args], capture_output=True,
                       text=True, env=clean_env(tmp_path), timeout=60, cwd=ROOT)
    return p, time.monotonic() - started


def test_only_sends_nothing_for_the_others(counting, tmp_path):
    server, conf = counting
    p, took = check(conf, tmp_path, "--only", "ok")
    assert p.returncode == 0 and "1 checks OK" in p.stdout, p.stdout
    assert dict(server.requests) == {"/ready": 1} and took < 3


def test_skip_sends_nothing_and_does_not_wait_for_a_hung_service(counting, tmp_path):
    server, conf = counting
    p, took = check(conf, tmp_path, "--skip", "litellm", "--skip", "target:*", "--skip", "alert:*")
    assert "litellm" not in p.stdout and "/hang" not in server.requests, server.requests
    assert not any(path.startswith("/api/v1/") for path in server.requests), server.requests
    assert took < 3


def test_only_targets_touches_only_the_targets_api(counting, tmp_path):
    server, conf = counting
    p, took = check(conf, tmp_path, "--only", "target:*", "--format", "json")
    assert set(server.requests) == {"/api/v1/targets"}, server.requests
    assert took < 3
