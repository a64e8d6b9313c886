"""Shared fixtures: the real Prometheus/Alertmanager, the synthetic stack and the Loki replay.

Session-scoped because Prometheus 2.42 applies scrape targets on a fixed 5 s tick: paying that
once per run instead of once per test keeps the integration suite fast. A missing server binary
skips the integration tests on a developer's machine (with the package to install) but FAILS them
in CI (CI=true), where scripts/test.sh installs the binaries and a skip would hide a broken setup.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest

from tests.harness.loki_replay import LokiReplay
from tests.harness.paths import FIXTURES
from tests.harness.waiting import wait_for, wait_for_samples

if TYPE_CHECKING:
    from probes.synthetic.servers import AlertmanagerServer, PrometheusServer

# probes.synthetic.servers is imported inside fixtures: a broken probes.synthetic package then
# fails the integration tests only, not the collection of every unit test.

__all__ = ["FIXTURES", "in_ci", "require_binary", "wait_for", "wait_for_samples"]

STACK_SEED = 1234


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_binary(name: str) -> str:
    """The binary's path; skip (developer machine) or fail (CI) when it is not installed."""
    from probes.synthetic.servers import ServerError, find_binary

    path = find_binary(name)
    if path is not None:
        return path
    try:
        find_binary(name, required=True)
    except ServerError as exc:
        reason = f"{exc}. Integration tests need the real servers."
    else:  # pragma: no cover - find_binary raised nothing: cannot happen
        reason = f"{name} missing"
    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def _start(server: Any, what: str) -> Any:
    """Start a server; turn a start failure into a test error that carries the server's log."""
    from probes.synthetic.servers import ServerError

    try:
        return server.start()
    except ServerError as exc:
        pytest.fail(f"{what} failed to start: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def alertmanager() -> Iterator["AlertmanagerServer"]:
    """A started Alertmanager (null receiver, group_wait 1s) on a free loopback port."""
    from probes.synthetic.servers import AlertmanagerServer

    require_binary("prometheus-alertmanager")
    server = _start(AlertmanagerServer(), "Alertmanager")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def stack() -> Iterator[Any]:
    """A started probes.synthetic.Stack(seed=1234): every synthetic LLM service on loopback.

    Skips while probes.synthetic has no Stack (it is being written); any other import error fails.
    """
    try:
        import probes.synthetic as synthetic
    except ModuleNotFoundError as exc:
        if exc.name != "probes.synthetic":
            raise
        pytest.skip("probes.synthetic is not available yet")
    stack_cls = getattr(synthetic, "Stack", None)
    if stack_cls is None:
        pytest.skip("probes.synthetic.Stack is not available yet")
    instance = stack_cls(seed=STACK_SEED)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="session")
def prometheus(stack: Any, alertmanager: "AlertmanagerServer") -> Iterator["PrometheusServer"]:
    """Real Prometheus scraping every stack target each 1 s, seed alert rules loaded, sending to
    the `alertmanager` fixture; returned only once every target is up. Has .url and .endpoint."""
    from probes.synthetic.servers import SEED_RULES, PrometheusServer, ServerError

    require_binary("prometheus")
    server = PrometheusServer(
        stack.targets(),
        scrape_interval="1s",
        evaluation_interval="1s",
        rule_files=[SEED_RULES],
        alertmanager_url=alertmanager.url,
    )
    _start(server, "Prometheus")
    try:
        try:
            server.wait_for_targets(timeout=45)
        except ServerError as exc:
            pytest.fail(f"{exc}\n--- prometheus log ---\n{server.log_tail()}", pytrace=False)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def loki() -> Iterator[LokiReplay]:
    """The Loki 2.6.1 replay server (tests/fixtures/loki); no auth required, headers recorded."""
    with LokiReplay() as server:
        yield server


@pytest.fixture
def loki_requests(loki: LokiReplay) -> LokiReplay:
    """The session `loki`, with its recorded requests cleared for this test."""
    loki.clear_requests()
    return loki


@pytest.fixture
def prom_samples(prometheus: "PrometheusServer") -> Callable[..., int]:
    """`prom_samples("vllm:num_requests_running", n=3)` waits until the `prometheus` fixture holds
    >= n samples of that metric (rate() needs 2) and returns the count."""

    def wait(metric: str, n: int = 2, timeout: float = 30.0) -> int:
        return wait_for_samples(prometheus.url, metric, n=n, timeout=timeout)

    return wait


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """tests/fixtures: the recorded Prometheus, Alertmanager and Loki answers and the seed documents."""
    return FIXTURES
