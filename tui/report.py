"""Check output: text (a table on a TTY, plain lines otherwise), nagios, json, prom textfile.

Only the first line reaches a pager, so every format that has lines starts with the summary.
Every string here may come from a server (check names hold job labels and alert names,
summaries hold bodies and error texts): each format cleans it for its own syntax (table cells via
tui.output.text, JSON via tui.output.dumps, Prometheus label values escaped per the exposition
format after control characters are removed), and the writer in tui/output.py filters the whole
output once more.
"""

from __future__ import annotations

import math

from probes.checks import CheckResult, CheckRun, Perf
from probes.status import Status
from probes.textsafe import clean
from tui import output
from probes.timestamps import rfc3339

FORMATS = ("text", "nagios", "json", "prom")


def render(run: CheckRun, fmt: str, *, color: bool = False, width: int = 100) -> str:
    if fmt == "nagios":
        return render_nagios(run)
    if fmt == "json":
        return render_json(run)
    if fmt == "prom":
        return render_prom(run)
    if color:
        return render_table(run, width=width)
    return render_plain(run)


# -- text ----------------------------------------------------------------------------------------

def _value_text(r: CheckResult) -> str:
    if r.value is None or (isinstance(r.value, float) and math.isnan(r.value)):
        return ""
    from probes.units import format_value  # the one place display precision is defined

    return format_value(r.value, r.unit)


def render_plain(run: CheckRun) -> str:
    """No escape codes: for cron mail, pipes and NO_COLOR."""
    lines = [f"LLMWATCH {run.status.name} - {clean(run.summary(), max_len=400)}"]
    for r in run.results:
        value = _value_text(r)
        tail = f" [{value}]" if value else ""
        silenced = " (silenced)" if r.silenced else ""
        lines.append(f"{r.status.name:8} {r.kind:9} {clean(r.name, max_len=80)}: {clean(r.summary, max_len=300)}"
                     f"{tail}{silenced}")
    lines.append(f"({len(run.results)} checks in {run.duration_s:.2f}s)")
    return "\n".join(lines)


_STYLE = {Status.OK: "green", Status.WARNING: "yellow", Status.CRITICAL: "bold red", Status.UNKNOWN: "magenta"}


def render_table(run: CheckRun, *, width: int = 100) -> str:
    """A rich table for a human at a terminal; rich is imported only here."""
    from io import StringIO

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buf = StringIO()
    console = Console(file=buf, force_terminal=True, width=width, color_system="standard")
    head = Text(f"LLMWATCH {run.status.name}", style=_STYLE[run.status])
    head.append(" - " + output.plain(run.summary(), max_len=400), style="default")
    console.print(head)
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for col in ("status", "kind", "check", "value", "summary"):
        table.add_column(col, overflow="fold")
    for r in run.results:
        status = Text(r.status.name + (" (silenced)" if r.silenced else ""), style=_STYLE[r.status])
        table.add_row(status, output.text(r.kind, max_len=20), output.text(r.name, max_len=80),
                      Text(_value_text(r)), output.text(r.summary, max_len=300))
    console.print(table)
    console.print(Text(f"{len(run.results)} checks in {run.duration_s:.2f}s", style="dim"))
    return buf.getvalue().rstrip("\n")


# -- nagios --------------------------------------------------------------------------------------

def _perf_label(label: str) -> str:
    label = label.replace("'", "''").replace("=", "_")
    return f"'{label}'"


def _num(v: float | None) -> str:
    if v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))):
        return ""
    return f"{v:.6g}"


def perf_item(p: Perf) -> str:
    """'label'=value[UOM];[warn];[crit];[min];[max] with trailing empty fields trimmed."""
    fields = [f"{_num(p.value)}{p.uom}", p.warn, p.crit, _num(p.min), _num(p.max)]
    while len(fields) > 1 and fields[-1] == "":
        fields.pop()
    return f"{_perf_label(p.label)}={';'.join(fields)}"


# Long output order, as check_multi prints it: what needs a person first.
WORST_FIRST = {Status.CRITICAL: 0, Status.WARNING: 1, Status.UNKNOWN: 2, Status.OK: 3}


def worst_first(results):
    """CRITICAL, then WARNING, UNKNOWN, OK; the run's own order within each (stable)."""
    return sorted(results, key=lambda r: WORST_FIRST.get(r.status, 2))


def render_nagios(run: CheckRun) -> str:
    perf = [perf_item(p) for r in run.results for p in r.perfdata if _num(p.value)]
    summary = clean(run.summary(), max_len=400).replace("|", "/")
    first = f"LLMWATCH {run.status.name} - {summary}"
    if perf:
        first += " | " + " ".join(perf)
    lines = [first]
    for r in worst_first(run.results):
        silenced = " (silenced)" if r.silenced else ""
        lines.append(f"[{r.status.name}] {clean(r.name, max_len=80)} ({r.kind}): "
                     f"{clean(r.summary, max_len=300).replace('|', '/')}{silenced}")
    return "\n".join(lines)


# -- json ----------------------------------------------------------------------------------------

def _json_value(v: float | None):
    if v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))):
        return None
    return v


def run_to_dict(run: CheckRun) -> dict:
    return {
        "status": run.status.name,
        "exit_code": run.exit_code,
        "summary": run.summary(),
        "duration_s": round(run.duration_s, 4),
        "started_at": rfc3339(run.started_at),
        "started_at_epoch": round(run.started_at, 3),
        "checks": [
            {
                "name": r.name,
                "kind": r.kind,
                "status": r.status.name,
                "summary": r.summary,
                "value": _json_value(r.value),
                "unit": r.unit,
                "silenced": r.silenced,
                "duration_s": round(r.duration_s, 4),
            }
            for r in run.results
        ],
    }


def render_json(run: CheckRun) -> str:
    return output.dumps(run_to_dict(run))


# -- prometheus textfile -------------------------------------------------------------------------

def _label_value(v: str) -> str:
    """A label value per the text exposition format (backslash, double quote and line feed
    escaped), with control characters removed first: the file is read by node_exporter, and by
    whoever runs `cat` on it."""
    text = clean(v, 1000, newlines="space")
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render_prom(run: CheckRun) -> str:
    """node_exporter textfile collector format (write it atomically with tui.output.write_file)."""
    out = [
        "# HELP llmwatch_check_status Check status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
        "# TYPE llmwatch_check_status gauge",
    ]
    values, durations = [], []
    for r in run.results:
        labels = f'check="{_label_value(r.name)}",kind="{_label_value(r.kind)}"'
        out.append(f"llmwatch_check_status{{{labels}}} {int(r.status)}")
        if _json_value(r.value) is not None:
            values.append(f'llmwatch_check_value{{{labels},unit="{_label_value(r.unit)}"}} {r.value:.10g}')
        durations.append(f"llmwatch_check_duration_seconds{{{labels}}} {r.duration_s:.6f}")
    out += ["# HELP llmwatch_check_value The measured value of a check, in its unit.",
            "# TYPE llmwatch_check_value gauge", *values,
            "# HELP llmwatch_check_duration_seconds How long the check took.",
            "# TYPE llmwatch_check_duration_seconds gauge", *durations,
            "# HELP llmwatch_run_status Overall status of the last llmwatch check run.",
            "# TYPE llmwatch_run_status gauge", f"llmwatch_run_status {run.exit_code}",
            "# HELP llmwatch_run_duration_seconds Wall time of the last llmwatch check run.",
            "# TYPE llmwatch_run_duration_seconds gauge", f"llmwatch_run_duration_seconds {run.duration_s:.6f}",
            "# HELP llmwatch_run_timestamp_seconds When the last llmwatch check run started.",
            "# TYPE llmwatch_run_timestamp_seconds gauge", f"llmwatch_run_timestamp_seconds {run.started_at:.3f}"]
    return "\n".join(out) + "\n"
