"""Polling helpers, so integration tests wait for data instead of sleeping a guessed time."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

import httpx

T = TypeVar("T")


def wait_for(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.1,
    message: str | Callable[[], str] = "condition",
) -> T:
    """Call ``predicate`` until it returns something truthy, and return that value.

    Exceptions from the predicate count as "not yet" (the server may still be starting) but the
    last one is reported when time runs out, so a failing wait says why.
    """
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    last_value: object = None
    while True:
        try:
            last_value = predicate()
            if last_value:
                return last_value
        except Exception as exc:  # noqa: BLE001 - reported below
            last_exc = exc
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            detail = f"; last error: {last_exc!r}" if last_exc else f"; last value: {last_value!r}"
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {text}{detail}")
        time.sleep(interval)


def prom_query(base_url: str, query: str, timeout: float = 5.0) -> list[dict]:
    """Instant query; returns data.result (a list for vectors) or raises on an error envelope."""
    resp = httpx.get(f"{base_url}/api/v1/query", params={"query": query}, timeout=timeout)
    body = resp.json()
    if body.get("status") != "success":
        raise AssertionError(f"query {query!r} failed: {resp.status_code} {body}")
    return body["data"]["result"]


def sample_count(base_url: str, metric: str, window: str = "10m") -> int:
    """Samples stored for the best-covered series of ``metric`` (a selector works too)."""
    result = prom_query(base_url, f"max(count_over_time({metric}[{window}]))")
    return int(float(result[0]["value"][1])) if result else 0


def wait_for_samples(base_url: str, metric: str, n: int = 2, timeout: float = 30.0) -> int:
    """Block until Prometheus holds >= n samples of ``metric``; rate() needs at least 2."""
    return wait_for(
        lambda: (count := sample_count(base_url, metric)) >= n and count,
        timeout=timeout,
        interval=0.25,
        message=f">= {n} samples of {metric} in {base_url}",
    )
