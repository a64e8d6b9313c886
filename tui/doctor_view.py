"""The text layout of `llmwatch doctor`: sections a new user reads top to bottom.

Built from rich Text objects (never markup strings), so label values and server messages are
shown as they are and cannot inject styles. On a terminal rich adds colour; piped or with
NO_COLOR, the very same lines come out plain. Long PromQL is never wrapped, so it can be copied.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from probes.doctor import DoctorReport
from probes.promql import duration
from probes.signals import SignalValue
from probes.textsafe import one_line
from probes.units import format_value

STATE_STYLE = {"ok": "bold", "not_exported": "dim", "no_traffic": "yellow", "no_data": "yellow", "error": "red",
               "down": "bold red"}
LEVEL_STYLE = {"error": "red", "warning": "yellow", "info": "cyan"}
LABEL_W = 14
SIGNAL_W = 23
VALUE_W = 14


def _line(*parts: tuple[str, str] | str) -> Text:
    t = Text()
    for p in parts:
        if isinstance(p, tuple):
            t.append(p[0], style=p[1])
        else:
            t.append(p)
    return t


def render_text(r: DoctorReport, cfg, *, show_queries: bool = True, console: Console | None = None) -> None:
    con = console or Console(highlight=False, soft_wrap=True)
    out = con.print
    det = r.detection
    out(_line(("llmwatch doctor", "bold")))
    out("")
    ver = f", version {r.version}" if r.version else ""
    out(_line(("Prometheus".ljust(LABEL_W), "bold"), r.url, "  ", ("reached", "green"),
              f"{ver} ({r.elapsed_s * 1000:.0f} ms)"))
    out(_line(("Config".ljust(LABEL_W), "bold"), r.config_source or "none (defaults and environment)"))
    out(_line(("Window".ljust(LABEL_W), "bold"), duration(r.window), (f"  ({r.window_why})", "dim")))
    targets = det.targets if det else ()
    up = sum(1 for t in targets if t.health == "up")
    out("")
    out(_line(("Targets".ljust(LABEL_W), "bold"), f"{up} of {len(targets)} up"))
    for t in sorted(targets, key=lambda t: (t.health == "up", t.job)):
        health = ("up  ", "green") if t.health == "up" else (t.health.upper().ljust(4), "red bold")
        every = f"every {t.scrape_interval}" if t.scrape_interval else ""
        err = f"  {one_line(t.why, 200)}" if t.why else ""
        out(_line("  ", health, "  ", one_line(t.job, 40).ljust(16), one_line(t.labels.get("instance", ""), 40).ljust(24),
                  every.ljust(10), (err, "red")))
    systems = det.systems if det else ()
    out("")
    out(_line(("Systems".ljust(LABEL_W), "bold"), f"{len(systems)} detected"))
    for d in systems:
        where = f"job {d.job}" if d.job else "all jobs"
        out(_line("  ", (d.title.ljust(22), "bold"), where.ljust(22), d.profile.kind.ljust(9),
                  ("matched " + ", ".join(d.matched), "dim")))
    grouped = {d.name for d in systems if d.profile.kind == "host" and len(d.profile.signals) == 1
               and sum(1 for x in systems if x.name == d.name) > 1}
    for d in systems:
        if d.name not in grouped:
            _system(out, r, d, show_queries)
    for name in sorted(grouped):
        _per_job(out, r, [d for d in systems if d.name == name], show_queries)
    if r.providers:
        out("")
        out(_line(("Routing".ljust(LABEL_W), "bold"), "providers seen and how [routing] local_providers classifies them"))
        for system, provider, kind in r.providers:
            out(_line("  ", system.ljust(22), one_line(provider, 60).ljust(24), (kind, "green" if kind == "local" else "")))
    out("")
    if r.issues:
        out(_line(("Config check".ljust(LABEL_W), "bold"), f"{len(r.issues)} finding(s)"))
        for i in r.issues:
            out(_line("  ", (i.level.ljust(8), LEVEL_STYLE.get(i.level, "")), (i.where, "bold"), ": ", one_line(i.message, 400)))
    else:
        out(_line(("Config check".ljust(LABEL_W), "bold"), ("nothing unused or wrong found", "green")))


def _system(out, r: DoctorReport, d, show_queries: bool) -> None:
    out("")
    where = f"job {d.job}" if d.job else "all jobs"
    out(_line((d.title, "bold underline"), (f"  {d.name} on {where}", "dim")))
    values = r.values_for(d)
    missing = [v for v in values if v.state == "not_exported"]
    for v in values:
        if v.state == "not_exported":
            continue
        _signal(out, v, d, show_queries)
    for v in missing:
        out(_line("  ", v.label.ljust(SIGNAL_W), ("not exported", "dim"), (f": {v.reason}", "dim")))


def _per_job(out, r: DoctorReport, ds: list, show_queries: bool) -> None:
    """One block for a profile found on many jobs (process memory): a line per job."""
    out("")
    labels = sorted({v.label for d in ds for v in r.values_for(d)})
    out(_line((ds[0].title, "bold underline"), (f"  {ds[0].name} on {len(ds)} jobs: {', '.join(labels)} per job", "dim")))
    for d in ds:
        for v in r.values_for(d):
            note = f"  {one_line(v.reason, 200)}" if v.state != "ok" and v.reason else ""
            out(_line("  ", one_line(d.job or "", 40).ljust(SIGNAL_W - 1), " ", (v.text.ljust(VALUE_W), STATE_STYLE.get(v.state, "")),
                      (note, "dim")))
            if show_queries and v.query:
                out(_line(" " * (SIGNAL_W + 2), (v.query, "dim")))


def _signal(out, v: SignalValue, d, show_queries: bool) -> None:
    label = v.label + (" (avg)" if v.method == "average" else "")
    text = v.text
    note = f"  {one_line(v.reason, 300)}" if v.state != "ok" and v.reason else (f"  {v.note}" if v.note else "")
    out(_line("  ", label.ljust(SIGNAL_W), (text.ljust(VALUE_W), STATE_STYLE.get(v.state, "")), (note, "dim")))
    parts = [p for p in v.breakdown if p.labels]
    if parts and len(parts) <= 8 and len(parts) > 1 or (parts and d.profile.kind == "gpu"):
        main = d.profile.breakdown
        cells = []
        for p in parts[:8]:
            labels = dict(p.labels)
            name = labels.get(main) if main and main in labels else " ".join(labels.values())
            if d.profile.kind == "gpu" and main in labels:
                name = f"{main} {labels[main]}"
            cells.append(f"{one_line(name, 80)}: {format_value(p.value, v.unit)}")
        out(_line(" " * (SIGNAL_W + 2), ("   ".join(cells), "")))
    if show_queries and v.query:
        out(_line(" " * (SIGNAL_W + 2), (v.query, "dim")))
