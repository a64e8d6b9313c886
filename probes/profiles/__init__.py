"""Profiles: one TOML file per system, mapping catalogue signals to PromQL templates.

Why data files: adding a system is adding a file, and users fix or extend a profile for their
own build in their config's profiles_dir without touching code. A file there with the same
[profile] name as a built-in replaces it; a new name adds a profile. Errors name the file and
the key. Schema (see any built-in file for a worked example):

  [profile]            name, title, kind (gateway|engine|gpu|host|generic), priority (int; on
                       one job the highest serving profile wins), breakdown (main label),
                       model_label, provider_label, traffic (signal whose 0 means no traffic,
                       default request_rate), global (true: one unscoped instance), description
  [profile.detect]     all = [metric names that must all exist on a job]
                       any = [metric names of which one must exist]
  [[profile.detect]]   several such rules: the profile matches when any one holds (e.g. a
                       request counter once traffic came, or the gauges a fresh process exports)
  [signals.<name>]     promql (template, see probes.promql), by (breakdown labels), breakdown
                       (a different template for the breakdown, e.g. shares), method,
                       requires / requires_any (metric names on the job, else `why`), unit and
                       title (only for signals outside the catalogue)
                       method = "priced": input, output (selectors), model_label,
                       price ("table" | "reference"), over ("window" | "today")
  [[signals.<name>]]   the same, several times: alternatives, the first whose requires hold
  [missing]            <signal> = "why this system does not export it"
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from probes.catalogue import KINDS, METHODS, SIGNALS
from probes.promql import PLACEHOLDERS, placeholders

BUILTIN_DIR = Path(__file__).resolve().parent
_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class SignalSpec:
    """How one profile feeds one signal (one alternative)."""

    name: str
    promql: str = ""
    breakdown: str = ""    # template for the breakdown when it differs from promql with `by`
    by: tuple[str, ...] = ()
    method: str = "gauge"
    requires: tuple[str, ...] = ()
    requires_any: tuple[str, ...] = ()
    why: str = ""
    unit: str | None = None
    title: str | None = None
    # method = "priced"
    input: str = ""
    output: str = ""
    model_label: str = "model"
    price: str = "table"
    over: str = "window"

    def available(self, metrics: frozenset[str] | None) -> bool:
        """True when the job has what this alternative needs (unknown metrics: assume yes)."""
        if metrics is None:
            return True
        if any(m not in metrics for m in self.requires):
            return False
        return not self.requires_any or any(m in metrics for m in self.requires_any)


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    kind: str
    priority: int = 0
    detect_all: tuple[str, ...] = ()
    detect_any: tuple[str, ...] = ()
    breakdown: str | None = None
    detect_more: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()  # further (all, any) rules
    model_label: str | None = None
    provider_label: str | None = None
    traffic: str | None = "request_rate"
    is_global: bool = False
    description: str = ""
    signals: Mapping[str, tuple[SignalSpec, ...]] = field(default_factory=dict)
    missing: Mapping[str, str] = field(default_factory=dict)
    source: str = ""

    @property
    def detect_rules(self) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
        return ((self.detect_all, self.detect_any),) + self.detect_more

    def metric_names(self) -> set[str]:
        """Every metric name detection must look for: detect rules and requires."""
        names: set[str] = set()
        for d_all, d_any in self.detect_rules:
            names |= set(d_all) | set(d_any)
        for alts in self.signals.values():
            for spec in alts:
                names |= set(spec.requires) | set(spec.requires_any)
        return names

    def matches(self, names: Iterable[str]) -> tuple[str, ...] | None:
        """The detection names found (of the first rule that holds), or None when none holds."""
        present = set(names)
        for d_all, d_any in self.detect_rules:
            if not d_all and not d_any or any(n not in present for n in d_all):
                continue
            hits_any = [n for n in d_any if n in present]
            if d_any and not hits_any:
                continue
            return tuple(sorted(set(d_all) | set(hits_any)))
        return None


_PROFILE_KEYS = {"name", "title", "kind", "priority", "breakdown", "model_label", "provider_label", "traffic",
                 "global", "description", "detect"}
_SIGNAL_KEYS = {"promql", "breakdown", "by", "method", "requires", "requires_any", "why", "unit", "title", "input",
                "output", "model_label", "price", "over"}


def _err(where: str, msg: str) -> ProfileError:
    return ProfileError(f"{where}: {msg}")


def _strs(value: Any, where: str, pattern: re.Pattern | None = None) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(where, "expected a list of strings")
    if pattern is not None:
        for v in value:
            if not pattern.match(v):
                raise _err(where, f"{v!r} is not a valid name")
    return tuple(value)


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _err(where, "expected a string")
    return value


def _check_template(text: str, where: str) -> None:
    unknown = placeholders(text) - PLACEHOLDERS
    if unknown:
        raise _err(where, f"unknown placeholder ${sorted(unknown)[0]} (known: "
                   + ", ".join("$" + p for p in sorted(PLACEHOLDERS)) + ")")
    if text.count("(") != text.count(")") or text.count("{") != text.count("}"):
        raise _err(where, "unbalanced brackets")


def _signal(name: str, raw: Any, where: str) -> SignalSpec:
    if not isinstance(raw, dict):
        raise _err(where, "expected a table")
    for key in raw:
        if key not in _SIGNAL_KEYS:
            raise _err(f"{where}.{key}", f"unknown key (known: {', '.join(sorted(_SIGNAL_KEYS))})")
    kw: dict[str, Any] = {"name": name}
    for key in ("promql", "breakdown", "why", "unit", "title", "input", "output", "model_label", "price", "over"):
        if key in raw:
            kw[key] = _str(raw[key], f"{where}.{key}")
    kw["method"] = _str(raw.get("method", SIGNALS[name].method if name in SIGNALS else "gauge"),
                        f"{where}.method")
    if kw["method"] not in METHODS:
        raise _err(f"{where}.method", f"expected one of {', '.join(METHODS)}")
    for key, pattern in (("by", _LABEL), ("requires", _METRIC), ("requires_any", _METRIC)):
        if key in raw:
            kw[key] = _strs(raw[key], f"{where}.{key}", pattern)
    if name not in SIGNALS and not kw.get("unit"):
        raise _err(where, f"{name!r} is not a catalogue signal: give it a unit (known signals: "
                   + ", ".join(sorted(SIGNALS)) + ")")
    if kw["method"] == "priced":
        if not kw.get("input") and not kw.get("output"):
            raise _err(where, "a priced signal needs input and/or output selectors")
        if kw.get("price", "table") not in ("table", "reference"):
            raise _err(f"{where}.price", "expected table or reference")
        if kw.get("over", "window") not in ("window", "today"):
            raise _err(f"{where}.over", "expected window or today")
        for key in ("input", "output"):
            if kw.get(key):
                _check_template(kw[key], f"{where}.{key}")
    else:
        if not kw.get("promql"):
            raise _err(where, "missing promql")
        _check_template(kw["promql"], f"{where}.promql")
    if kw.get("breakdown"):
        _check_template(kw["breakdown"], f"{where}.breakdown")
        if not kw.get("by"):
            raise _err(f"{where}.breakdown", "a breakdown template needs `by` labels")
    return SignalSpec(**kw)


def parse_profile(data: Mapping[str, Any], source: str) -> Profile:
    """A decoded profile document -> Profile, or ProfileError naming source and key."""
    for key in data:
        if key not in ("profile", "signals", "missing"):
            raise _err(f"{source}: {key}", "unknown section (known: profile, signals, missing)")
    head = data.get("profile")
    if not isinstance(head, dict):
        raise _err(source, "missing [profile] table")
    for key in head:
        if key not in _PROFILE_KEYS:
            raise _err(f"{source}: profile.{key}", f"unknown key (known: {', '.join(sorted(_PROFILE_KEYS))})")
    w = f"{source}: profile"
    name = _str(head.get("name", ""), f"{w}.name")
    if not re.match(r"^[a-z0-9][a-z0-9_.-]*$", name):
        raise _err(f"{w}.name", f"{name!r}: use lowercase letters, digits, - _ .")
    kind = _str(head.get("kind", "generic"), f"{w}.kind")
    if kind not in KINDS:
        raise _err(f"{w}.kind", f"expected one of {', '.join(KINDS)}")
    priority = head.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise _err(f"{w}.priority", "expected an integer")
    detect = head.get("detect", {})
    rules = []
    for i, rule in enumerate(detect if isinstance(detect, list) else [detect]):
        where = f"{w}.detect" + (f"[{i}]" if isinstance(detect, list) else "")
        if not isinstance(rule, dict) or set(rule) - {"all", "any"}:
            raise _err(where, "expected a table with all and/or any")
        r_all = _strs(rule.get("all", []), f"{where}.all", _METRIC)
        r_any = _strs(rule.get("any", []), f"{where}.any", _METRIC)
        if not r_all and not r_any:
            raise _err(where, "needs at least one metric name in all or any")
        rules.append((r_all, r_any))
    if not rules:
        raise _err(f"{w}.detect", "needs at least one rule")
    (d_all, d_any), more = rules[0], tuple(rules[1:])
    is_global = head.get("global", False)
    if not isinstance(is_global, bool):
        raise _err(f"{w}.global", "expected true or false")
    signals: dict[str, tuple[SignalSpec, ...]] = {}
    raw_signals = data.get("signals", {})
    if not isinstance(raw_signals, dict):
        raise _err(f"{source}: signals", "expected [signals.<name>] tables")
    for sname, raw in raw_signals.items():
        if not _LABEL.match(sname):
            raise _err(f"{source}: signals.{sname}", "not a valid signal name")
        alts = raw if isinstance(raw, list) else [raw]
        signals[sname] = tuple(_signal(sname, alt, f"{source}: signals.{sname}" + (f"[{i}]" if len(alts) > 1 else ""))
                               for i, alt in enumerate(alts))
    missing = data.get("missing", {})
    if not isinstance(missing, dict) or not all(isinstance(v, str) for v in missing.values()):
        raise _err(f"{source}: missing", "expected <signal> = \"reason\" strings")
    for sname in missing:
        if sname in signals:
            raise _err(f"{source}: missing.{sname}", "is also defined in [signals]")
    traffic = head.get("traffic", "request_rate")
    if traffic is not None:
        traffic = _str(traffic, f"{w}.traffic") or None
    opt = {k: _str(head[k], f"{w}.{k}") for k in ("breakdown", "model_label", "provider_label", "description")
           if k in head}
    return Profile(name=name, title=_str(head.get("title", name), f"{w}.title"), kind=kind, priority=priority,
                   detect_all=d_all, detect_any=d_any, detect_more=more, traffic=traffic, is_global=is_global,
                   signals=signals, missing=dict(missing), source=source, **opt)


def load_file(path: Path) -> Profile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: invalid TOML: {exc}") from None
    return parse_profile(data, str(path))


def load_dir(directory: Path) -> list[Profile]:
    profiles: list[Profile] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.toml")):
        p = load_file(path)
        if p.name in seen:
            raise ProfileError(f"{path}: profile.name {p.name!r} is also used by {seen[p.name]}")
        seen[p.name] = str(path)
        profiles.append(p)
    return profiles


_BUILTIN: tuple[Profile, ...] | None = None


def builtin_profiles() -> tuple[Profile, ...]:
    """The profiles shipped in this package (parsed once per process)."""
    global _BUILTIN
    if _BUILTIN is None:
        _BUILTIN = tuple(load_dir(BUILTIN_DIR))
    return _BUILTIN


def load_profiles(profiles_dir: str | Path | None = None) -> tuple[Profile, ...]:
    """Built-ins, then the user's directory: same name replaces, a new name adds.

    A named directory that does not exist is an error (a typo should not silently mean "no
    overrides"); so is any invalid file in it.
    """
    merged = {p.name: p for p in builtin_profiles()}
    if profiles_dir:
        directory = Path(profiles_dir).expanduser()
        if not directory.is_dir():
            raise ProfileError(f"profiles_dir {directory}: not a directory")
        for p in load_dir(directory):
            merged[p.name] = p
    return tuple(sorted(merged.values(), key=lambda p: p.name))
