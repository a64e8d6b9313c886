"""A fast, forgiving parser for the Prometheus text format (0.0.4) and OpenMetrics text.

Why our own and not prometheus_client.parser: that one builds a Metric object per family and
a Sample namedtuple per line and raises on the first bad line; a 10,000-line vLLM page then
costs ~100 ms and one odd line loses the whole scrape. Here:

- one compiled regex per line; the series part (`name{labels}`) is returned as its raw text,
  which the store uses as a dictionary key, so a series seen before is never re-parsed (labels
  are parsed once per new series with `parse_series`);
- a malformed line is counted and the first few are kept (with line numbers) for the target's
  error text; the rest of the page is still used;
- OpenMetrics (`# EOF`, float-second timestamps, exemplars after ` # `, `_created` series of
  counters/histograms/summaries, which we drop) is read by the same loop.

Values: Go's strconv.ParseFloat spellings (NaN, +Inf, -Inf, 1e-3); Python's float() also takes
"1_000" and "infinity", which Prometheus rejects, so those are malformed here too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

__all__ = ["Parsed", "parse", "parse_series", "SeriesError", "OPENMETRICS", "ACCEPT"]

#: What Prometheus 2.42 sends as Accept: OpenMetrics preferred, text 0.0.4 accepted.
ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
          "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
OPENMETRICS = "application/openmetrics-text"
MAX_REPORTED = 5

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
# name, optional {label set} (quoted values may hold } , and escaped quotes), value, optional
# timestamp (never starting with '#': that is an OpenMetrics exemplar), optional exemplar.
_LINE = re.compile(
    rf'({_NAME})[ \t]*(\{{(?:[^"}}]++|"(?:[^"\\]++|\\.)*+")*+\}})?[ \t]+(\S+)(?:[ \t]+([^\s#]\S*))?(?:[ \t]+#.*)?[ \t]*\Z')
_PAIR = re.compile(r'[ \t]*([a-zA-Z_][a-zA-Z0-9_]*)[ \t]*=[ \t]*"((?:[^"\\]|\\.)*)"[ \t]*(?:,|\Z)')
_ESC = re.compile(r"\\(.)")
_ESCAPES = {"n": "\n", "\\": "\\", '"': '"'}
_CREATED_KINDS = frozenset({"counter", "histogram", "summary", "gaugehistogram"})
_TS_INT = re.compile(r"-?\d+\Z")
_INT64 = 2 ** 63  # sample timestamps are int64 milliseconds, as in Prometheus' TSDB


class SeriesError(ValueError):
    """A label set that cannot be read (bad escape, duplicate label name...)."""


@dataclass
class Parsed:
    """One page: samples as (raw series text, value, timestamp ms or None), plus what was wrong."""

    samples: list[tuple[str, float, int | None]] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)      # family name -> counter|gauge|...
    helps: dict[str, str] = field(default_factory=dict)
    malformed: int = 0
    problems: list[str] = field(default_factory=list)         # first MAX_REPORTED, "line N: why"
    openmetrics: bool = False
    eof: bool = False                                         # OpenMetrics `# EOF` seen

    def bad(self, lineno: int, why: str) -> None:
        self.malformed += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(f"line {lineno}: {why}")


def _value(text: str) -> float:
    if "_" in text or text[-1:].lower() == "y":  # "1_0", "Infinity": Go rejects both
        raise ValueError(text)
    return float(text)


def parse(text: str, content_type: str = "") -> Parsed:
    """Parse one scrape body. Never raises; look at .malformed/.problems."""
    out = Parsed(openmetrics=OPENMETRICS in content_type.lower())
    samples = out.samples
    append = samples.append
    match = _LINE.match
    om = out.openmetrics
    created_skip: set[str] = set()
    lineno = 0
    for line in text.split("\n"):
        lineno += 1
        if not line:
            continue
        c = line[0]
        if c == "#":
            _comment(out, line, lineno, created_skip)
            om = out.openmetrics
            continue
        if c == " " or c == "\t" or line[-1] == "\r":
            line = line.strip()
            if not line:
                continue
            if line[0] == "#":
                _comment(out, line, lineno, created_skip)
                om = out.openmetrics
                continue
        if out.eof:
            out.bad(lineno, "data after # EOF")
            continue
        m = match(line)
        if m is None:
            out.bad(lineno, "not a sample line")
            continue
        name, lbl, val, ts = m.groups()
        try:
            v = _value(val)
        except ValueError:
            out.bad(lineno, f"bad value {val[:40]!r}")
            continue
        t: int | None = None
        if ts is not None:
            try:
                if om or not _TS_INT.match(ts):
                    f = float(ts)
                    if not math.isfinite(f):
                        raise ValueError(ts)
                    t = int(f * 1000) if om else int(f)  # Prometheus: int64(ts * 1000), truncated
                else:
                    t = int(ts)
            except ValueError:
                out.bad(lineno, f"bad timestamp {ts[:40]!r}")
                continue
            if not -_INT64 <= t < _INT64:  # a long float or a nanosecond stamp: this sample only
                out.bad(lineno, f"timestamp out of range {ts[:40]!r}")
                continue
        if om and created_skip and name in created_skip:
            continue
        append((name + lbl if lbl else name, v, t))
    if out.openmetrics and created_skip and OPENMETRICS not in content_type.lower():
        # OpenMetrics recognised only by its `# EOF`: drop the _created series read before it
        out.samples = [s for s in samples if _family(s[0]) not in created_skip]
    return out


def _family(raw: str) -> str:
    brace = raw.find("{")
    return raw if brace < 0 else raw[:brace].rstrip()


def _comment(out: Parsed, line: str, lineno: int, created_skip: set[str]) -> None:
    parts = line.split(None, 3)
    if len(parts) < 2:
        return  # a bare "#" or a free comment
    word = parts[1]
    if word == "EOF":
        out.eof = True
        out.openmetrics = True
        return
    if word == "TYPE" and len(parts) >= 4:
        name, kind = parts[2], parts[3].strip().lower()
        out.types[name] = kind
        if kind in _CREATED_KINDS:
            created_skip.add(name + "_created")
            if name.endswith("_total"):
                created_skip.add(name[:-6] + "_created")
    elif word == "HELP" and len(parts) >= 3:
        out.helps[parts[2]] = parts[3] if len(parts) > 3 else ""


def _unescape(value: str) -> str:
    if "\\" not in value:
        return value
    return _ESC.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), value)


def parse_series(raw: str) -> tuple[str, dict[str, str]]:
    """`name{a="b"}` (as returned in Parsed.samples) -> (name, {"a": "b"}); raises SeriesError."""
    brace = raw.find("{")
    if brace < 0:
        return raw, {}
    name = raw[:brace].rstrip()
    body = raw[brace + 1:-1]
    labels: dict[str, str] = {}
    pos, end = 0, len(body)
    while pos < end:
        if body[pos:].strip() == "":
            break
        m = _PAIR.match(body, pos)
        if m is None:
            raise SeriesError(f"bad label set in {raw[:120]!r}")
        key = m.group(1)
        if key in labels:
            raise SeriesError(f"duplicate label {key!r} in {raw[:120]!r}")
        labels[key] = _unescape(m.group(2))
        pos = m.end()
    return name, labels
