"""A small, strict parser for the text exposition format, with histogram invariant checks.

Why strict: the synthetic stack is the yardstick for every scraper in llmwatch; if it ever emits
something Prometheus would reject (bad escape, sample before its TYPE, non-cumulative buckets),
the tests must fail here rather than show up as a mystery gap in a dashboard.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
_SAMPLE_RE = re.compile(rf"^({_NAME})(\{{.*\}})?\s+(\S+)(?:\s+(-?\d+))?$")
_PAIR_RE = re.compile(rf'\s*({_LABEL})="((?:[^"\\]|\\.)*)"\s*(,|$)')
_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count", ""),
             "counter": ("",), "gauge": ("",), "untyped": ("",)}


class ExpositionError(ValueError):
    """The text is not valid exposition; the message names the line."""


@dataclass(frozen=True)
class Sample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float

    def label(self, key: str) -> str | None:
        return dict(self.labels).get(key)


@dataclass
class MetricFamily:
    name: str
    kind: str = "untyped"
    help: str | None = None
    samples: list[Sample] = field(default_factory=list)


def _unescape(v: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "\\": "\\", '"': '"'}.get(m.group(1), m.group(0)), v)


def _parse_labels(text: str, lineno: int) -> tuple[tuple[str, str], ...]:
    body = text[1:-1]
    pairs: list[tuple[str, str]] = []
    pos = 0
    while pos < len(body):
        m = _PAIR_RE.match(body, pos)
        if not m:
            raise ExpositionError(f"line {lineno}: bad label set {text!r}")
        pairs.append((m.group(1), _unescape(m.group(2))))
        pos = m.end()
    names = [k for k, _ in pairs]
    if len(set(names)) != len(names):
        raise ExpositionError(f"line {lineno}: duplicate label in {text!r}")
    return tuple(pairs)


def _parse_value(text: str, lineno: int) -> float:
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise ExpositionError(f"line {lineno}: bad value {text!r}") from None


def parse(text: str) -> dict[str, MetricFamily]:
    """Parse exposition text into families keyed by family name; raise ExpositionError."""
    families: dict[str, MetricFamily] = {}
    current: MetricFamily | None = None
    seen_series: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not re.fullmatch(_NAME, name):
                    raise ExpositionError(f"line {lineno}: bad metric name {name!r}")
                fam = families.get(name)
                if fam is None:
                    fam = families[name] = MetricFamily(name)
                elif fam.samples or (current is not fam):
                    raise ExpositionError(f"line {lineno}: {parts[1]} for {name} after its samples")
                if parts[1] == "TYPE":
                    kind = parts[3].strip() if len(parts) > 3 else ""
                    if kind not in _TYPES:
                        raise ExpositionError(f"line {lineno}: unknown type {kind!r}")
                    fam.kind = kind
                else:
                    fam.help = parts[3] if len(parts) > 3 else ""
                current = fam
            continue
        m = _SAMPLE_RE.match(line)
        if not m:
            raise ExpositionError(f"line {lineno}: not a sample: {line!r}")
        name, labels_text, value_text = m.group(1), m.group(2), m.group(3)
        labels = _parse_labels(labels_text, lineno) if labels_text else ()
        fam = current if current is not None and _belongs(name, current) else None
        if fam is None:
            if name in families:
                raise ExpositionError(f"line {lineno}: samples of {name} are not contiguous")
            fam = families[name] = MetricFamily(name)
            current = fam
        series = (name, tuple(sorted(labels)))
        if series in seen_series:
            raise ExpositionError(f"line {lineno}: duplicate series {name}{dict(labels)}")
        seen_series.add(series)
        fam.samples.append(Sample(name, labels, _parse_value(value_text, lineno)))
    return families


def _belongs(sample_name: str, fam: MetricFamily) -> bool:
    return any(sample_name == fam.name + s for s in _SUFFIXES.get(fam.kind, ("",)))


def sample_names(families: dict[str, MetricFamily]) -> set[str]:
    """Every sample name, as Prometheus' /api/v1/label/__name__/values would list it."""
    return {s.name for f in families.values() for s in f.samples}


def check_histograms(families: dict[str, MetricFamily]) -> None:
    """Raise ExpositionError unless every histogram is cumulative, ends in +Inf and +Inf == _count."""
    for fam in families.values():
        if fam.kind != "histogram":
            continue
        groups: dict[tuple, dict[str, object]] = {}
        for s in fam.samples:
            base = tuple(kv for kv in s.labels if kv[0] != "le")
            g = groups.setdefault(tuple(sorted(base)), {"buckets": []})
            if s.name.endswith("_bucket"):
                le = s.label("le")
                if le is None:
                    raise ExpositionError(f"{fam.name}: bucket without le")
                g["buckets"].append((_parse_value(le, 0), s.value))  # type: ignore[union-attr]
            else:
                g[s.name[len(fam.name):]] = s.value
        for key, g in groups.items():
            buckets = g["buckets"]
            assert isinstance(buckets, list)
            if not buckets or buckets[-1][0] != math.inf:
                raise ExpositionError(f"{fam.name}{dict(key)}: last bucket is not +Inf")
            les = [b for b, _ in buckets]
            if les != sorted(les) or len(set(les)) != len(les):
                raise ExpositionError(f"{fam.name}{dict(key)}: le not increasing")
            counts = [c for _, c in buckets]
            if any(b < a for a, b in zip(counts, counts[1:])):
                raise ExpositionError(f"{fam.name}{dict(key)}: buckets not cumulative")
            if "_count" not in g or "_sum" not in g:
                raise ExpositionError(f"{fam.name}{dict(key)}: missing _count or _sum")
            if g["_count"] != counts[-1]:
                raise ExpositionError(f"{fam.name}{dict(key)}: +Inf {counts[-1]} != _count {g['_count']}")
