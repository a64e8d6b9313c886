"""Prometheus text exposition (format 0.0.4) rendered by hand, in each client library's dialect.

Why by hand: the synthetic stack must look like *several different* real exporters (Python
prometheus_client, Node prom-client, Go client_golang, Rust metrics-exporter-prometheus, C++),
and those differ in number formatting, `le` placement and `_created` series. A scraper that
only works against one dialect would pass our tests and fail in the field.
"""

from __future__ import annotations

import math
import threading
import time
from bisect import bisect_left
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Iterable, Mapping, Sequence

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

PYTHON_DEFAULT_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
NODE_DEFAULT_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


def _shortest_digits(d: float) -> tuple[str, int]:
    """Shortest round-trip digits and decimal exponent of a positive finite float (like Go/JS)."""
    sign, digits, exp = Decimal(repr(d)).normalize().as_tuple()
    text = "".join(str(x) for x in digits) or "0"
    return text, len(text) + int(exp) - 1  # scientific exponent


def python_float(d: float) -> str:
    """prometheus_client.utils.floatToGoString, verbatim behaviour."""
    d = float(d)
    if d == math.inf:
        return "+Inf"
    if d == -math.inf:
        return "-Inf"
    if math.isnan(d):
        return "NaN"
    s = repr(d)
    dot = s.find(".")
    if d > 0 and dot > 6:
        mantissa = f"{s[0]}.{s[1:dot]}{s[dot + 1:]}".rstrip("0.")
        return f"{mantissa}e+0{dot - 1}"
    return s


def _shortest_g(d: float, low: int, high: int, exp_width: int) -> str:
    """Shortest round-trip digits, in exponent form when exp < low or exp >= high."""
    d = float(d)
    if math.isinf(d):
        return "+Inf" if d > 0 else "-Inf"
    if math.isnan(d):
        return "NaN"
    if d == 0:
        return "0"
    sign = "-" if d < 0 else ""
    digits, exp = _shortest_digits(abs(d))
    if exp < low or exp >= high:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}e{'+' if exp >= 0 else '-'}{abs(exp):0{exp_width}d}"
    return sign + _plain(digits, exp)


def go_float(d: float) -> str:
    """Go strconv.FormatFloat(f, 'g', -1, 64) as used by client_golang's expfmt.

    Go's shortest %g uses exponent form when exp < -4 or exp >= 6 (eprec is 6 when shortest),
    which is why node_exporter prints 1.6522948608e+10 but dcgm prints 81559.
    """
    return _shortest_g(d, -4, 6, 2)


def js_float(d: float) -> str:
    """JavaScript Number#toString, as prom-client prints values."""
    return _shortest_g(d, -6, 21, 1)


def _plain(digits: str, exp: int) -> str:
    """Digits and scientific exponent written without exponent notation."""
    if exp < 0:
        return "0." + "0" * (-exp - 1) + digits
    if exp + 1 >= len(digits):
        return digits + "0" * (exp + 1 - len(digits))
    return digits[: exp + 1] + "." + digits[exp + 1:]


def rust_float(d: float) -> str:
    """Rust `Display` for f64: shortest round-trip, never exponent notation (TGI buckets)."""
    d = float(d)
    if math.isinf(d):
        return "+Inf" if d > 0 else "-Inf"
    if math.isnan(d):
        return "NaN"
    if d == 0:
        return "0"
    sign = "-" if d < 0 else ""
    digits, exp = _shortest_digits(abs(d))
    return sign + _plain(digits, exp)


@dataclass(frozen=True)
class Dialect:
    """How one client library writes the format (the differences scrapers trip over)."""

    name: str
    number: Callable[[float], str]
    created: bool          # Python client: foo_created gauge family after each counter/histogram
    le_first: bool         # prom-client puts le before the other labels
    blank_line: bool       # prom-client separates families by a blank line


PYTHON = Dialect("python", python_float, created=True, le_first=False, blank_line=False)
PYTHON_NO_CREATED = Dialect("python-no-created", python_float, created=False, le_first=False,
                            blank_line=False)
NODE = Dialect("node", js_float, created=False, le_first=True, blank_line=True)
GO = Dialect("go", go_float, created=False, le_first=False, blank_line=False)
RUST = Dialect("rust", rust_float, created=False, le_first=False, blank_line=True)
CPP = Dialect("cpp", go_float, created=False, le_first=False, blank_line=False)

LabelValues = tuple[str, ...]


def _escape_label(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n")


class Family:
    """One metric family: fixed exposed name, type, help and label names."""

    kind = "untyped"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()):
        self.name = name
        self.help = help_text
        self.labelnames = tuple(labelnames)
        self.created: dict[LabelValues, float] = {}
        self.created_enabled = True   # custom collectors (process_*, python_gc_*) emit no _created
        self._series: dict[tuple, str] = {}

    def key(self, labels: Mapping[str, str] | Sequence[str] | None) -> LabelValues:
        kind = type(labels)
        if labels is None:
            values: tuple[str, ...] = ()
        elif kind is list or kind is tuple:  # exact types first: the Mapping ABC check is slow
            values = tuple([str(v) for v in labels])
        elif kind is dict or isinstance(labels, Mapping):
            try:
                values = tuple([str(labels[n]) for n in self.labelnames])  # type: ignore[index]
            except KeyError:
                values = ()
            if len(labels) != len(self.labelnames) or len(values) != len(self.labelnames):
                raise ValueError(f"{self.name}: labels {sorted(labels)} != {sorted(self.labelnames)}")
        else:
            values = tuple([str(v) for v in labels])
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name}: expected labels {self.labelnames}, got {values}")
        if values not in self.created:
            self.created[values] = time.time()
        return values

    def series(self, values: LabelValues, suffix: str = "", le: str | None = None, le_first: bool = False,
               name: str | None = None) -> str:
        """The series text as rendered (`name_suffix{labels}`), memoised: backfills ask it per step."""
        k = (values, suffix, le, le_first, name)
        text = self._series.get(k)
        if text is None:
            extra = (("le", le),) if le is not None else ()
            text = self._series[k] = f"{name or self.name}{suffix}{self.label_text(values, extra, le_first)}"
        return text

    def label_text(self, values: LabelValues, extra: tuple[tuple[str, str], ...] = (),
                   extra_first: bool = False) -> str:
        pairs = list(zip(self.labelnames, values))
        pairs = list(extra) + pairs if extra_first else pairs + list(extra)
        if not pairs:
            return ""
        return "{" + ",".join(f'{k}="{_escape_label(v)}"' for k, v in pairs) + "}"

    def samples(self, d: Dialect) -> list[tuple[str, float]]:  # pragma: no cover - overridden
        """(series text, value) in render order: what a scrape of this family reads now."""
        raise NotImplementedError

    def lines(self, d: Dialect) -> list[str]:
        return [f"{series} {d.number(v)}" for series, v in self.samples(d)]

    def reset(self) -> None:
        self.created.clear()


class Counter(Family):
    """Counter; `name` is the exposed sample name (with or without _total, as the system does)."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()):
        super().__init__(name, help_text, labelnames)
        self.values: dict[LabelValues, float] = {}
        self.reset()

    def inc(self, labels: Mapping[str, str] | Sequence[str] | None = None, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("counters only go up")
        k = self.key(labels)
        self.values[k] = self.values.get(k, 0.0) + amount

    def get(self, labels: Mapping[str, str] | Sequence[str] | None = None) -> float:
        return self.values.get(self.key(labels), 0.0)

    def samples(self, d: Dialect) -> list[tuple[str, float]]:
        return [(self.series(k), v) for k, v in self.values.items()]

    def reset(self) -> None:
        super().reset()
        self.values.clear()
        if not self.labelnames:  # a label-less counter exists (at 0) from the moment it is declared
            self.inc(None, 0.0)


class Gauge(Family):
    kind = "gauge"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()):
        super().__init__(name, help_text, labelnames)
        self.values: dict[LabelValues, float] = {}

    def set(self, labels: Mapping[str, str] | Sequence[str] | None, value: float) -> None:
        self.values[self.key(labels)] = float(value)

    def samples(self, d: Dialect) -> list[tuple[str, float]]:
        return [(self.series(k), v) for k, v in self.values.items()]

    def reset(self) -> None:
        super().reset()
        self.values.clear()


class Histogram(Family):
    """Cumulative-bucket histogram; `observe(v, n)` records n identical observations cheaply."""

    kind = "histogram"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = (),
                 buckets: Iterable[float] = PYTHON_DEFAULT_BUCKETS):
        super().__init__(name, help_text, labelnames)
        bs = [float(b) for b in buckets if not math.isinf(b)]
        if bs != sorted(bs) or len(set(bs)) != len(bs):
            raise ValueError(f"{name}: buckets must be strictly increasing")
        self.buckets: tuple[float, ...] = tuple(bs) + (math.inf,)
        self._le: dict[str, tuple[str, ...]] = {}   # dialect -> the buckets' `le` texts
        self.counts: dict[LabelValues, list[float]] = {}
        self.sums: dict[LabelValues, float] = {}
        self.reset()

    def observe(self, labels: Mapping[str, str] | Sequence[str] | None, value: float, n: int = 1) -> None:
        k = self.key(labels)
        counts = self.counts.setdefault(k, [0.0] * len(self.buckets))
        i = bisect_left(self.buckets, value)  # the first bucket with value <= le
        if i < len(counts):
            counts[i] += n  # non-cumulative storage; cumulated when rendered
        self.sums[k] = self.sums.get(k, 0.0) + value * n

    def count(self, labels: Mapping[str, str] | Sequence[str] | None = None) -> float:
        return sum(self.counts.get(self.key(labels), []))

    def samples(self, d: Dialect) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        les = self._le.get(d.name)
        if les is None:
            les = self._le[d.name] = tuple(d.number(b) for b in self.buckets)
        for k, counts in self.counts.items():
            acc = 0.0
            for le, c in zip(les, counts):
                acc += c
                out.append((self.series(k, "_bucket", le, d.le_first), acc))
            tail = [(self.series(k, "_count"), acc), (self.series(k, "_sum"), self.sums[k])]
            out += tail[::-1] if d.name == "node" else tail  # prom-client: _sum first
        return out

    def reset(self) -> None:
        super().reset()
        self.counts.clear()
        self.sums.clear()
        if not self.labelnames:
            self.counts[self.key(None)] = [0.0] * len(self.buckets)
            self.sums[()] = 0.0


class Registry:
    """An ordered set of families rendered in one dialect; callers hold `lock` while mutating."""

    def __init__(self, dialect: Dialect):
        self.dialect = dialect
        self.families: list[Family] = []
        self.lock = threading.RLock()

    def add(self, family: Family) -> Family:
        if any(f.name == family.name for f in self.families):
            raise ValueError(f"duplicate family {family.name}")
        self.families.append(family)
        return family

    def counter(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> Counter:
        return self.add(Counter(name, help_text, labelnames))  # type: ignore[return-value]

    def gauge(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> Gauge:
        return self.add(Gauge(name, help_text, labelnames))  # type: ignore[return-value]

    def histogram(self, name: str, help_text: str, labelnames: Sequence[str] = (),
                  buckets: Iterable[float] = PYTHON_DEFAULT_BUCKETS) -> Histogram:
        return self.add(Histogram(name, help_text, labelnames, buckets))  # type: ignore[return-value]

    def reset(self) -> None:
        """Forget all samples, as a restarted process would."""
        for f in self.families:
            f.reset()

    def _created_family(self, f: Family) -> tuple[str, list[tuple[LabelValues, float]]] | None:
        """prometheus_client's foo_created gauge after a counter or histogram, or None."""
        if self.dialect.created and f.created_enabled and f.kind in ("counter", "histogram") and f.created:
            base = f.name[:-6] if f.name.endswith("_total") else f.name
            return f"{base}_created", list(f.created.items())
        return None

    def render(self) -> str:
        d = self.dialect
        chunks: list[str] = []
        for f in self.families:
            lines = [f"# HELP {f.name} {_escape_help(f.help)}", f"# TYPE {f.name} {f.kind}"]
            lines += f.lines(d)
            created = self._created_family(f)
            if created is not None:
                name, items = created
                lines += [f"# HELP {name} {_escape_help(f.help)}", f"# TYPE {name} gauge"]
                lines += [f"{name}{f.label_text(k)} {d.number(v)}" for k, v in items]
            chunks.append("\n".join(lines) + "\n")
        return ("\n" if d.blank_line else "").join(chunks)

    def samples(self) -> list[tuple[str, float]]:
        """Every (series text, value) a scrape reads now, in page order, without the text."""
        out: list[tuple[str, float]] = []
        for f in self.families:
            out += f.samples(self.dialect)
            created = self._created_family(f)
            if created is not None:
                name, items = created
                out += [(f.series(k, name=name), v) for k, v in items]
        return out
