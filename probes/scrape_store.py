"""A bounded in-memory window of scraped samples, with Prometheus' staleness rules.

Why: in direct-scrape mode llmwatch is its own (tiny) Prometheus. The evaluator must see what
Prometheus' TSDB would hold for the same scrapes, or rate() and "stale since" disagree:

- every sample is stamped with its scrape's start time (or the page's own timestamp);
- a series missing from a scrape gets a stale marker at that scrape's time: instant queries stop
  returning it at once, instead of repeating its last value for the 5 m lookback;
- a failed scrape marks every series of the target stale and writes up=0; every scrape writes
  up, scrape_duration_seconds and scrape_samples_scraped with job and instance labels;
- a page's own job/instance labels become exported_job/exported_instance (honor_labels: false).

Memory bound: per series two arrays (int64 ms, float64 value) = 16 bytes a point, plus about
SERIES_OVERHEAD bytes for the series itself (label dict and strings, measured by
bench/bench_scrape.py). At most `max_series` series are kept (new ones beyond it are dropped and
counted, with a warning); points older than `retention` are dropped after every scrape. So the
bound is about max_series x (SERIES_OVERHEAD + 16 x retention / interval): with the defaults
(5000 series, 1 h at 5 s) 5000 x (1.7 kB + 11.5 kB) = ~66 MB; a typical vLLM page is ~600
series, ~8 MB (bench/bench_scrape.py measured 12.9 KiB per series at 720 points).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from typing import Iterable, Iterator

from probes.exposition import SeriesError, parse_series
from probes.re2match import anchored

__all__ = ["Store", "SeriesBuf", "DEFAULT_MAX_SERIES", "SERIES_OVERHEAD", "LOOKBACK_MS"]

DEFAULT_MAX_SERIES = 5000
SERIES_OVERHEAD = 1700     # bytes per series beyond 16 B/point, incl. array slack (bench/bench_scrape.py)
LOOKBACK_MS = 300_000      # Prometheus' default --query.lookback-delta (5 m)
SYNTHETIC = ("up", "scrape_duration_seconds", "scrape_samples_scraped")


class SeriesBuf:
    """One series: its labels (with __name__) and its points, oldest first."""

    __slots__ = ("labels", "key", "ts", "vals", "stale", "__weakref__")

    def __init__(self, labels: dict[str, str], key: tuple | None = None):
        self.labels = labels
        # Prometheus' series order (labels.Compare); the store passes its own dict key: no extra memory
        self.key = key if key is not None else tuple(sorted(labels.items()))
        self.ts = array("q")
        self.vals = array("d")
        self.stale: list[int] = []   # stale-marker timestamps (ms); rare, so a plain list

    def append(self, t: int, v: float) -> bool:
        ts = self.ts
        if ts and t <= ts[-1]:
            return False  # duplicate or out of order: Prometheus rejects it too
        try:
            ts.append(t)
        except OverflowError:  # beyond int64 ms: the parser counts these, a replay must not crash either
            return False
        self.vals.append(v)
        return True

    def mark_stale(self, t: int) -> None:
        if self.ts and t > self.ts[-1] and not (self.stale and self.stale[-1] >= self.ts[-1]):
            self.stale.append(t)

    def at(self, t: int, lookback: int = LOOKBACK_MS) -> float | None:
        """The value an instant selector sees at t (ms), or None (none within lookback, or stale)."""
        ts = self.ts
        i = bisect_right(ts, t) - 1
        if i < 0:
            return None
        st = ts[i]
        if st < t - lookback:
            return None
        for m in self.stale:
            if st < m <= t:
                return None
        return self.vals[i]

    def window(self, start: int, end: int) -> tuple[array, array]:
        """Points with start <= t <= end (Prometheus 2.x range selection is closed on both ends)."""
        ts = self.ts
        i = bisect_left(ts, start)
        j = bisect_right(ts, end)
        return ts[i:j], self.vals[i:j]

    def prune(self, cutoff: int) -> None:
        ts = self.ts
        if ts and ts[0] < cutoff:
            k = bisect_left(ts, cutoff)
            del ts[:k]
            del self.vals[:k]
        if self.stale and self.stale[0] < cutoff:
            self.stale = [m for m in self.stale if m >= cutoff]


class _Target:
    __slots__ = ("job", "instance", "alias", "live", "dropped")

    def __init__(self, job: str, instance: str):
        self.job, self.instance = job, instance
        self.dropped = 0                        # series its last scrape could not keep (max_series)
        self.alias: dict[str, SeriesBuf] = {}   # raw series text from the page -> its series
        self.live: set[SeriesBuf] = set()       # series written by the last successful scrape


class Store:
    """Every kept series, indexed by metric name. Not thread-safe: one event loop owns it."""

    def __init__(self, retention_s: float = 3600.0, max_series: int = DEFAULT_MAX_SERIES):
        self.retention_ms = int(retention_s * 1000)
        self.max_series = max_series
        self.series: dict[tuple, SeriesBuf] = {}
        self.by_name: dict[str, dict[tuple, SeriesBuf]] = {}
        self.targets: dict[tuple[str, str], _Target] = {}
        self.bad_series = 0           # label sets that could not be read
        self.types: dict[str, str] = {}

    # -- writing --------------------------------------------------------------------------------

    def _target(self, job: str, instance: str) -> _Target:
        key = (job, instance)
        tgt = self.targets.get(key)
        if tgt is None:
            tgt = self.targets[key] = _Target(job, instance)
        return tgt

    def _get(self, labels: dict[str, str], synthetic: bool = False) -> SeriesBuf | None:
        key = tuple(sorted(labels.items()))
        s = self.series.get(key)
        if s is not None:
            return s
        if not synthetic and len(self.series) >= self.max_series:
            return None
        s = self.series[key] = SeriesBuf(labels, key)
        self.by_name.setdefault(labels["__name__"], {})[key] = s
        return s

    def _new(self, raw: str, tgt: _Target) -> SeriesBuf | None:
        try:
            name, labels = parse_series(raw)
        except SeriesError:
            self.bad_series += 1
            return None
        for k in ("job", "instance"):
            if k in labels:
                labels["exported_" + k] = labels.pop(k)
        labels["__name__"] = name
        labels["job"] = tgt.job
        labels["instance"] = tgt.instance
        s = self._get(labels)
        if s is None:
            tgt.dropped += 1
        else:
            tgt.alias[raw] = s
        return s

    def ingest(self, job: str, instance: str, t: int, samples: Iterable[tuple[str, float, int | None]],
               duration_s: float = 0.0, types: dict[str, str] | None = None) -> int:
        """One successful scrape at t (ms). Returns the number of samples stored."""
        tgt = self._target(job, instance)
        alias = tgt.alias
        seen: set[SeriesBuf] = set()
        n = 0
        tgt.dropped = 0
        for raw, v, st in samples:
            s = alias.get(raw)
            if s is None:
                s = self._new(raw, tgt)
                if s is None:
                    continue
            if s.append(t if st is None else st, v):
                n += 1
            seen.add(s)
        for s in tgt.live - seen:
            s.mark_stale(t)
        tgt.live = seen
        if types:
            self.types.update(types)
        self._synthetic(tgt, t, 1.0, duration_s, float(n))
        return n

    def down(self, job: str, instance: str, t: int, duration_s: float = 0.0) -> None:
        """A failed scrape: everything the target exported is stale from t; up is 0."""
        tgt = self._target(job, instance)
        for s in tgt.live:
            s.mark_stale(t)
        tgt.live = set()
        self._synthetic(tgt, t, 0.0, duration_s, 0.0)

    def _synthetic(self, tgt: _Target, t: int, up: float, duration_s: float, samples: float) -> None:
        for name, v in zip(SYNTHETIC, (up, duration_s, samples)):
            s = self._get({"__name__": name, "job": tgt.job, "instance": tgt.instance}, synthetic=True)
            if s is not None:
                s.append(t, v)

    def add(self, labels: dict[str, str], t: int, v: float) -> SeriesBuf | None:
        """One sample for a series given by its labels (with __name__): for tests and replays."""
        s = self._get(dict(labels))
        if s is not None:
            s.append(t, v)
        return s

    def prune(self, now: int) -> int:
        """Drop points older than the retention and series left without points. Returns removed series."""
        cutoff = now - self.retention_ms
        dead = []
        for key, s in self.series.items():
            s.prune(cutoff)
            if not s.ts:
                dead.append(key)
        for key in dead:
            s = self.series.pop(key)
            names = self.by_name.get(s.labels["__name__"])
            if names is not None:
                names.pop(key, None)
                if not names:
                    del self.by_name[s.labels["__name__"]]
        if dead:
            for tgt in self.targets.values():
                tgt.alias = {r: s for r, s in tgt.alias.items() if s.ts}
                tgt.live = {s for s in tgt.live if s.ts}
        return len(dead)

    # -- reading --------------------------------------------------------------------------------

    def select(self, name: str | None, matchers: Iterable[tuple[str, str, str]]) -> list[SeriesBuf]:
        """Series matching a selector, in label order (as Prometheus returns them); raises RegexError."""
        tests = []
        name_tests = []
        for label, op, value in matchers:
            if op in ("=~", "!~"):
                test = (label, op, anchored(value))
            else:
                test = (label, op, value)
            (name_tests if label == "__name__" else tests).append(test)
        if name is not None:
            pools: Iterable[dict] = [self.by_name.get(name, {})]
        elif name_tests:
            pools = [pool for n, pool in self.by_name.items() if all(_ok(n, op, v) for _, op, v in name_tests)]
            name_tests = []
        else:
            pools = [self.series]
        out = []
        for pool in pools:
            for s in pool.values():
                labels = s.labels
                if all(_ok(labels.get(k, ""), op, v) for k, op, v in tests) and \
                        all(_ok(labels["__name__"], op, v) for _, op, v in name_tests):
                    out.append(s)
        out.sort(key=_series_key)
        return out

    @property
    def dropped_series(self) -> int:
        """Series the targets' last scrapes exported but the max_series cap kept out."""
        return sum(t.dropped for t in self.targets.values())

    def label_values(self, label: str) -> list[str]:
        if label == "__name__":
            return sorted(self.by_name)
        return sorted({s.labels[label] for s in self.series.values() if label in s.labels})

    def __iter__(self) -> Iterator[SeriesBuf]:
        return iter(self.series.values())

    def stats(self) -> dict[str, int]:
        points = sum(len(s.ts) for s in self.series.values())
        return {"series": len(self.series), "samples": points,
                "bytes": points * 16 + len(self.series) * SERIES_OVERHEAD,
                "dropped_series": self.dropped_series, "max_series": self.max_series}


def _series_key(s: SeriesBuf) -> tuple:
    return s.key


def _ok(have: str, op: str, want) -> bool:
    if op == "=":
        return have == want
    if op == "!=":
        return have != want
    if op == "=~":
        return want.matches(have)
    return not want.matches(have)
