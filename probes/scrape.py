"""Direct scrape: llmwatch reads /metrics itself when there is no Prometheus.

Why: many small stacks are one vLLM (or one gateway) and nothing else. ScrapeClient scrapes the
given URLs every `interval`, keeps a bounded window (probes/scrape_store.py) and answers the
same calls as PrometheusClient (query, query_range, targets, label_values, buildinfo, ready,
alerts, rules, metadata) by evaluating the PromQL subset itself (probes/promql_eval.py). So
detection, signals, the dashboard and `llmwatch check` run unchanged and compute the same
numbers from the same profile templates.

What needs Prometheus stays honest: alerts, rules and metadata answer ApiError(kind
"needs_prometheus"); PromQL outside the subset answers bad_data "... not supported in
direct-scrape mode (needs Prometheus)"; ranges longer than the retention carry a warning.

Scraping follows Prometheus: samples stamped with the scrape's start time, the same Accept
header (OpenMetrics preferred), a per-request timeout no longer than the interval, job and
instance labels, up/scrape_duration_seconds/scrape_samples_scraped per target, stale markers
for vanished series and for every series of a target that failed. Scrapes never overlap: the
loop waits for one round to end before scheduling the next.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence
from urllib.parse import urlsplit, urlunsplit

import httpx

from probes.apibase import one_line
from probes.exposition import ACCEPT, parse
from probes.http import DEFAULT_MAX_BYTES, ClientOptions, FetchError, fetch, make_client
from probes.promql import duration
from probes.promql_query import RangeEval, instant_query
from probes.promtypes import ApiError, ApiResult, QueryResult, Target
from probes.redact import display_url
from probes.scrape_store import DEFAULT_MAX_SERIES, Store
from probes.scrape_targets import ScrapeTarget, as_targets

__all__ = ["ScrapeClient", "ScrapeTarget", "parse_scrape_arg", "ScrapeArgError", "NEEDS_PROMETHEUS"]

NEEDS_PROMETHEUS = "needs_prometheus"
RANGE_SLICE_S = 0.01  # range-query evaluation time between two yields to the event loop
_NO_AUTH = ScrapeTarget("", "").client_key()
_JOB_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:")


class ScrapeArgError(ValueError):
    """A --scrape value that is not URL or job=URL; the message says what is wrong."""


def parse_scrape_arg(arg: str) -> tuple[str, str]:
    """"URL" or "job=URL" -> (job, url). The job defaults to host:port; a URL without a path
    gets /metrics (Prometheus' default metrics_path)."""
    text = arg.strip()
    job = ""
    if "=" in text and not text.lower().startswith(("http://", "https://")):
        job, text = (p.strip() for p in text.split("=", 1))
        if not job or not set(job) <= _JOB_CHARS:
            raise ScrapeArgError(f"--scrape {arg!r}: the job name before '=' may hold letters, digits, _ - . :")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        raise ScrapeArgError(f"--scrape {arg!r}: not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ScrapeArgError(f"--scrape {arg!r}: want http://host:port/metrics (or job=URL)")
    path = parts.path if parts.path not in ("", "/") else "/metrics"
    url = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    if not job:
        job = _instance(url)
    return job, url


def _instance(url: str) -> str:
    """host:port, as Prometheus' instance label (the default port filled in)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{host}:{port}"


@dataclass
class _TargetState:
    job: str
    url: str
    instance: str
    health: str = "unknown"
    last_error: str = ""
    last_scrape: datetime | None = None
    duration_s: float = 0.0
    samples: int = 0
    malformed: int = 0
    problems: list[str] = field(default_factory=list)
    auth: ScrapeTarget | None = None   # its credentials (None: the client-wide options)


class ScrapeClient:
    """A PrometheusClient look-alike over our own scrapes. Call start() (idempotent) or
    scrape_once(); aclose() stops the loop and closes the HTTP client."""

    system = "Direct scrape"

    def __init__(self, targets: Sequence[ScrapeTarget | tuple[str, str]], interval: float = 5.0, retention: float = 3600.0,
                 timeout: float | None = None, options: ClientOptions | None = None, *,
                 max_series: int = DEFAULT_MAX_SERIES, max_bytes: int = DEFAULT_MAX_BYTES,
                 client: httpx.AsyncClient | None = None):
        if interval <= 0 or retention <= 0:
            raise ValueError("interval and retention must be positive")
        self.interval = float(interval)
        self.retention = float(retention)
        self.timeout = float(timeout) if timeout is not None else min(10.0, self.interval)
        self.max_bytes = max_bytes
        self.store = Store(retention_s=retention, max_series=max_series)
        self._targets = [_TargetState(t.job, t.url, _instance(t.url), auth=t) for t in as_targets(targets)]
        opts = options or ClientOptions(timeout=self.timeout)
        self._options = ClientOptions(
            timeout=self.timeout, bearer_token=opts.bearer_token, username=opts.username, password=opts.password,
            ca_file=opts.ca_file, insecure=opts.insecure, max_redirects=opts.max_redirects,
            bearer_token_file=opts.bearer_token_file,
            headers={"Accept": ACCEPT, "X-Prometheus-Scrape-Timeout-Seconds": f"{self.timeout:g}", **opts.headers})
        self._client = client
        self._owns_client = client is None
        self._clients: dict[tuple, httpx.AsyncClient] = {}  # per distinct target credentials
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self.scrapes = 0
        self.first_scrape = asyncio.Event()
        self.loop_error = ""

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def display(self) -> str:
        if len(self._targets) == 1:
            return f"direct scrape of {display_url(self._targets[0].url)}"
        return f"direct scrape of {len(self._targets)} targets"

    async def start(self) -> None:
        """Start the background scrape loop (first round at once). Calling it again is a no-op."""
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.create_task(self._loop(), name="llmwatch-scrape")

    async def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait for the first scrape round to finish; False if it did not within timeout."""
        try:
            await asyncio.wait_for(self.first_scrape.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def _loop(self) -> None:
        while True:
            began = time.monotonic()
            try:
                await self.scrape_once()
                self.loop_error = ""
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug in one round must not stop the next
                self.loop_error = one_line(f"{type(exc).__name__}: {exc}", 200)
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - began)))

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None
        for extra in self._clients.values():
            await extra.aclose()
        self._clients.clear()

    async def __aenter__(self) -> "ScrapeClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- scraping -------------------------------------------------------------------------------

    async def scrape_once(self) -> None:
        """Scrape every target once, concurrently; rounds never overlap."""
        async with self._lock:
            if self._client is None:
                self._client = make_client(self._options)
            try:
                results = await asyncio.gather(*(self._scrape(t) for t in self._targets), return_exceptions=True)
                for tgt, res in zip(self._targets, results):
                    if isinstance(res, Exception):  # one target's bug costs that target, not the round
                        self._failed(tgt, f"internal error ({type(res).__name__}: {res})")
            finally:  # retention, counters and the first-scrape flag never depend on one target
                self.store.prune(int(time.time() * 1000))
                self.scrapes += 1
                self.first_scrape.set()

    def _failed(self, tgt: _TargetState, error: str, took: float = 0.0) -> None:
        tgt.health, tgt.last_error, tgt.samples = "down", one_line(error or "no answer", 300), 0
        self.store.down(tgt.job, tgt.instance, int(time.time() * 1000), took)

    def _client_for(self, tgt: _TargetState) -> httpx.AsyncClient:
        """The shared client, or one per distinct set of target credentials (made once)."""
        assert self._client is not None
        if tgt.auth is None or tgt.auth.client_key() == _NO_AUTH:
            return self._client
        key = tgt.auth.client_key()
        if key not in self._clients:
            client = make_client(tgt.auth.options(self._options))
            hosts = {urlsplit(t.url).netloc for t in self._targets if t.auth and t.auth.client_key() == key}
            client.event_hooks["request"].append(_same_host_only(hosts, tuple(tgt.auth.headers)))
            self._clients[key] = client
        return self._clients[key]

    async def _scrape(self, tgt: _TargetState) -> None:
        start = time.time()
        t_ms = int(start * 1000)
        began = time.monotonic()
        error = ""
        parsed = None
        try:
            resp = await fetch(self._client_for(tgt), "GET", tgt.url, timeout=self.timeout, max_bytes=self.max_bytes)
            if resp.status != 200:
                error = f"server returned HTTP status {resp.status}"
            else:
                text = resp.body.decode("utf-8", errors="replace")
                parsed = await asyncio.to_thread(parse, text, resp.content_type) if len(text) > 65536 \
                    else parse(text, resp.content_type)
                if not parsed.samples and (parsed.malformed or "html" in resp.content_type.lower()):
                    head = f" ({parsed.problems[0]})" if parsed.problems else ""
                    error = f"not a metrics page: no sample could be read{head}"
        except FetchError as exc:
            prefix = display_url(tgt.url) + ": "
            error = exc.message[len(prefix):] if exc.message.startswith(prefix) else exc.message
        took = time.monotonic() - began
        tgt.duration_s = took
        tgt.last_scrape = datetime.fromtimestamp(start, timezone.utc)
        if error or parsed is None:
            tgt.health, tgt.last_error, tgt.samples = "down", one_line(error or "no answer", 300), 0
            self.store.down(tgt.job, tgt.instance, t_ms, took)
            return
        tgt.samples = self.store.ingest(tgt.job, tgt.instance, t_ms, parsed.samples, took, parsed.types)
        tgt.health, tgt.last_error = "up", ""
        tgt.malformed, tgt.problems = parsed.malformed, [one_line(p, 160) for p in parsed.problems]

    # -- the PrometheusClient interface -------------------------------------------------------

    # `timeout` is accepted for interface parity and unused: evaluation is local (bench: a round
    # of every seed signal ~15 ms; range queries yield to the loop every RANGE_SLICE_S).

    async def query(self, promql: str, at: float | None = None, timeout: float | None = None) -> QueryResult:
        t = at if at is not None else time.time()
        try:
            return instant_query(self.store, promql, round(t * 1000))
        except Exception as exc:  # an evaluator bug is an error answer, never a crash
            return _internal(promql, exc)

    async def query_range(self, promql: str, start: float, end: float, step: float,
                          timeout: float | None = None) -> QueryResult:
        try:
            job = RangeEval(self.store, promql, round(start * 1000), round(end * 1000), round(step * 1000))
            while not job.run(RANGE_SLICE_S):
                await asyncio.sleep(0)  # let the UI and the scrape loop run between slices
            return job.result()
        except Exception as exc:
            return _internal(promql, exc)

    async def targets(self) -> ApiResult[list[Target]]:
        """Each target as Prometheus' /targets shows it, plus what a person needs to know that
        Prometheus would say elsewhere: lines that did not parse, and the series cap."""
        out = []
        for i, t in enumerate(self._targets):
            problems = []
            if t.health == "up" and t.malformed:
                first = f" (first: {t.problems[0]})" if t.problems else ""
                problems.append(f"{t.malformed} line{'s' if t.malformed != 1 else ''} could not be parsed{first}")
            if i == 0 and self.store.dropped_series:
                problems.append(f"series cap {self.store.max_series} reached: {self.store.dropped_series} new "
                                "series not kept")
            out.append(Target(labels={"job": t.job, "instance": t.instance}, scrape_url=t.url, health=t.health,
                              last_error=t.last_error, last_scrape=t.last_scrape, scrape_pool=t.job,
                              last_scrape_duration=t.duration_s, scrape_interval=duration(self.interval),
                              problems=tuple(problems)))
        return ApiResult(ok=True, value=out)

    async def label_values(self, label: str = "__name__") -> ApiResult[list[str]]:
        return ApiResult(ok=True, value=self.store.label_values(label))

    async def buildinfo(self) -> ApiResult[dict]:
        return ApiResult(ok=True, value={"version": "direct scrape", "revision": "", "branch": "",
                                         "buildUser": "llmwatch", "buildDate": "", "goVersion": ""})

    async def ready(self) -> ApiResult[bool]:
        if self.scrapes:
            return ApiResult(ok=True, value=True)
        return ApiResult(ok=False, value=False, error=ApiError("not_ready", "direct scrape: no scrape has finished yet"))

    def _needs(self, what: str) -> ApiResult[Any]:
        return ApiResult(ok=False, error=ApiError(NEEDS_PROMETHEUS, f"direct scrape: {what} needs Prometheus "
                                                  f"(not available in direct-scrape mode)"))

    async def alerts(self) -> ApiResult[list]:
        return self._needs("alerts")

    async def rules(self) -> ApiResult[list]:
        return self._needs("rules")

    async def metadata(self, metric: str | None = None) -> ApiResult[dict]:
        return self._needs("metadata")

    # -- stats ----------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """What is kept and what scraping costs: series, samples, approx bytes, per-target durations."""
        st = self.store.stats()
        st.update(scrapes=self.scrapes, interval_s=self.interval, retention_s=self.retention,
                  targets={t.url: {"job": t.job, "health": t.health, "duration_s": round(t.duration_s, 4),
                                   "samples": t.samples, "malformed": t.malformed, "problems": list(t.problems),
                                   "last_error": t.last_error} for t in self._targets})
        warnings = []
        if self.store.dropped_series:
            warnings.append(f"series cap {self.store.max_series} reached: {self.store.dropped_series} new series "
                            f"were not kept")
        if self.loop_error:
            warnings.append(f"scrape loop: {self.loop_error}")
        st["warnings"] = warnings
        return st


def _same_host_only(hosts: set[str], headers: tuple[str, ...]):
    """A request hook: a redirect to another host gets none of the target's credentials (httpx
    drops Authorization itself; custom headers such as X-Api-Key are dropped here)."""
    async def hook(request: httpx.Request) -> None:
        if request.url.netloc.decode("ascii", "replace") not in hosts:
            for name in ("Authorization", *headers):
                request.headers.pop(name, None)
    return hook


def _internal(query: str, exc: Exception) -> QueryResult:
    return QueryResult(query=query, ok=False, error=ApiError(
        "internal", one_line(f"direct scrape: evaluation failed ({type(exc).__name__}: {exc})", 300)))
