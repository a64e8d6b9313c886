"""`llmwatch alerts`: firing and pending alerts with Alertmanager's view; silence and expire like amtool.

Never imports textual: it runs from cron and scripts. Every label, annotation and silence field is
untrusted: each is cleaned (probes.textsafe) to fit its line, JSON goes through tui.output.dumps,
and the writer in tui/output.py filters the whole output once more.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from datetime import datetime, timezone

import click

from tui.options import config_options, load, positive_duration

_META = "llmwatch.alerts"

JSON_HELP = """\b
JSON (--format json), one object:
  status, exit_code, summary       overall result (see exit codes)
  generated_at                     RFC 3339 UTC
  sources.prometheus|alertmanager  {url, used, ok, error}
  errors     {source: one-line message}; sources: prometheus, alertmanager,
             rules, silences (the last two when only that call failed)
  alerts[]   {name, state (firing|pending), severity, labels, annotations,
              active_since (RFC 3339 or null), value (number or null),
              am_state (active|suppressed|unprocessed|"not in Alertmanager"|null),
              silenced_by[], inhibited_by[], source (prometheus|alertmanager)}
  rule_problems[]  {rule, group, file, type, error}   rules Prometheus cannot evaluate
  silences[] (only with --silences)  {id, state, matchers[], starts_at, ends_at,
              created_by, comment}
"""

EXIT_HELP = """\b
Exit codes: 0 nothing firing; 2 a critical-severity alert is firing; 1 another alert is firing;
3 Prometheus or Alertmanager could not be read, or a bad argument. Alerts Alertmanager
suppresses (silenced or inhibited) do not count. A firing alert outranks an unreadable
source (Nagios order: CRITICAL > WARNING > UNKNOWN), and --state only filters what is printed.
"""


_duration = positive_duration  # the shared "10s"-style option parser


def _remember(name: str):
    def callback(ctx, param, value):
        if value not in (None, False):
            ctx.meta.setdefault(_META, {})[name] = value
        return value
    return callback


def shared_options(f):
    """--timeout and --readonly, accepted before or after the subcommand (nearest wins)."""
    f = click.option("--readonly", is_flag=True, default=False, expose_value=False, callback=_remember("readonly"),
                     help="Refuse to create or expire silences (also [dashboard] readonly = true).")(f)
    f = click.option("--timeout", default=None, metavar="DURATION", expose_value=False,
                     callback=lambda c, p, v: _remember("timeout")(c, p, _duration(c, p, v)),
                     help="Deadline for the whole command  [default: 10s].")(f)
    return config_options(f)


def _settings(ctx: click.Context):
    cfg = load(ctx)
    given = ctx.meta.get(_META, {})
    timeout = float(given.get("timeout", 10.0))
    readonly = bool(given.get("readonly")) or cfg.dashboard.readonly
    return cfg, timeout, readonly


def _states(ctx, param, value):
    out = []
    for v in value:
        for part in v.split(","):
            part = part.strip().lower()
            if part not in ("firing", "pending"):
                raise click.BadParameter(f"{part!r}: use firing or pending")
            out.append(part)
    return tuple(out)


async def _fetch(cfg, timeout: float, use_prom: bool, use_am: bool):
    from probes.alertmanager import AlertmanagerClient
    from probes.alerts import load_alerts
    from probes.prometheus import PrometheusClient

    prom = PrometheusClient(replace(cfg.prometheus, timeout=timeout)) if use_prom else None
    am = AlertmanagerClient(replace(cfg.alertmanager, timeout=timeout)) if use_am else None
    try:
        return await load_alerts(prom, am, timeout)
    finally:
        for c in (prom, am):
            if c is not None:
                await _close(c)


async def _close(client) -> None:
    try:
        await asyncio.wait_for(client.aclose(), 1.0)
    except Exception:  # closing must never mask the answer
        pass


@click.group("alerts", invoke_without_command=True, epilog=EXIT_HELP + "\n" + JSON_HELP)
@shared_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: a summary line, then one line per alert; json: see below.")
@click.option("--state", "states", multiple=True, callback=_states, metavar="firing|pending",
              help="Show only alerts in this state (repeatable, or comma-separated).")
@click.option("--silences", "show_silences", is_flag=True, help="Also list active and pending silences.")
@click.pass_context
def alerts_cmd(ctx, fmt, states, show_silences):
    """List firing and pending alerts: Prometheus' evaluation and Alertmanager's routing in one view.

    Each line: state, severity, name, age, summary, labels, Alertmanager state and silence ids.
    Prometheus is asked when configured (or when nothing is); Alertmanager when configured
    or when --silences asks for it (default http://127.0.0.1:9093).

    \b
    Subcommands (amtool style):
      llmwatch alerts silence alertname=Foo instance=a --duration 2h --comment "deploying fix"
      llmwatch alerts expire SILENCE_ID...
    """
    if ctx.invoked_subcommand is not None:
        return
    cfg, timeout, _ = _settings(ctx)
    use_am = cfg.configured("alertmanager") or show_silences
    use_prom = cfg.configured("prometheus") or not use_am
    view = asyncio.run(_fetch(cfg, timeout, use_prom, use_am))
    from probes.alerts import view_status

    status = view_status(view)
    now = time.time()
    if fmt == "json":
        text = render_json(view, cfg, states, show_silences, now)
    else:
        text = render_text(view, cfg, states, show_silences, now)
    click.echo(text)
    ctx.exit(int(status))


# -- rendering -----------------------------------------------------------------------------------

def _iso(dt: datetime | None) -> str | None:
    from probes.timestamps import rfc3339
    return rfc3339(dt, 6) if dt else None


def _label_text(labels, skip=("alertname", "severity")) -> str:
    from probes.textsafe import one_line

    inner = ", ".join(f"{one_line(k, 60)}={json.dumps(one_line(v, 120), ensure_ascii=False)}"
                      for k, v in sorted(labels.items()) if k not in skip)
    return "{" + inner + "}"


def summary_line(view) -> str:
    from probes.alerts import view_status

    firing, pending = view.firing, [r for r in view.rows if r.state == "pending"]
    crit = sum(1 for r in view.unsuppressed_firing if r.severity.lower() == "critical")
    quiet = len(firing) - len(view.unsuppressed_firing)
    parts = [f"{len(firing)} firing" + (f" ({crit} critical)" if crit else "")]
    if quiet:
        parts.append(f"{quiet} suppressed")
    parts.append(f"{len(pending)} pending")
    if view.rule_problems:
        parts.append(f"{len(view.rule_problems)} rules failing")
    bad = [s for s in ("prometheus", "alertmanager") if s in view.errors]
    if bad:
        parts.append(" and ".join(n.capitalize() for n in bad) + " unreachable")
    return f"ALERTS {view_status(view).name} - " + ", ".join(parts)


def render_text(view, cfg, states, show_silences, now: float) -> str:
    from probes.alerts import AM_NOT_IN, age_text
    from probes.textsafe import one_line

    lines = [summary_line(view)]
    for source, message in view.errors.items():
        lines.append(f"error    {source}: {one_line(message, 400)}")
    if not view.alertmanager:
        lines.append("note     Alertmanager not configured (--alertmanager-url or [alertmanager] url): "
                     "no silences shown")
    rows = [r for r in view.rows if not states or r.state in states]
    width = max([len(one_line(r.name, 60)) for r in rows] + [4])
    for r in rows:
        am = one_line(r.am_state, 20) or "Alertmanager unknown"
        if r.am_state == AM_NOT_IN:
            am = "not in Alertmanager"
        extra = ""
        if r.silenced_by:
            extra += " silenced by " + ",".join(one_line(i, 60) for i in r.silenced_by)
        if r.inhibited_by:
            extra += " inhibited by " + ",".join(one_line(i, 60) for i in r.inhibited_by)
        lines.append(f"{one_line(r.state, 8).upper():8} {one_line(r.severity, 10) or '-':9} {one_line(r.name, 60):{width}} "
                     f"{age_text(r.active_since, now):>6}  {one_line(r.summary, 160) or '-'}  "
                     f"{_label_text(r.labels)}  am={am}{extra}")
    for p in view.rule_problems:
        lines.append(f"RULE-ERR {one_line(p.group, 60)}/{one_line(p.rule, 60)}: {one_line(p.error, 300)}")
    if show_silences:
        for s in view.silences:
            lines.append(silence_line(s, now))
    return "\n".join(lines)


def silence_line(s, now: float) -> str:
    from probes.alerts import span_text
    from probes.textsafe import one_line

    left = span_text(s.ends_at.timestamp() - now) if s.ends_at else "?"
    matchers = ", ".join(one_line(str(m), 120) for m in s.matchers)
    return (f"SILENCE  {one_line(s.id, 60)} {one_line(s.state, 12)} ends in {left} by {one_line(s.created_by, 40)}: "
            f"{one_line(s.comment, 160)}  {{{matchers}}}")


def render_json(view, cfg, states, show_silences, now: float) -> str:
    from probes.alerts import AM_UNKNOWN, view_status
    from probes.textsafe import clean
    from tui.output import dumps

    status = view_status(view)

    def src(name: str, used: bool, url: str) -> dict:
        return {"url": url, "used": used, "ok": used and name not in view.errors, "error": view.errors.get(name)}

    doc = {
        "status": status.name, "exit_code": int(status), "summary": summary_line(view),
        "generated_at": _iso(datetime.fromtimestamp(now, tz=timezone.utc)),
        "sources": {"prometheus": src("prometheus", view.prometheus, cfg.prometheus.display),
                    "alertmanager": src("alertmanager", view.alertmanager, cfg.alertmanager.display)},
        "errors": {k: clean(v, 400) for k, v in view.errors.items()},
        "alerts": [{
            "name": clean(r.name, 200), "state": r.state, "severity": clean(r.severity, 60),
            "labels": {clean(k, 200): clean(v, 1000) for k, v in r.labels.items()},
            "annotations": {clean(k, 200): clean(v, 4000, newlines="keep") for k, v in r.annotations.items()},
            "active_since": _iso(r.active_since), "value": _num(r.value),
            "am_state": None if r.am_state == AM_UNKNOWN else clean(r.am_state, 60),
            "silenced_by": [clean(i, 200) for i in r.silenced_by],
            "inhibited_by": [clean(i, 200) for i in r.inhibited_by], "source": r.source,
        } for r in view.rows if not states or r.state in states],
        "rule_problems": [{"rule": clean(p.rule, 200), "group": clean(p.group, 200), "file": clean(p.file, 400),
                           "type": p.type, "error": clean(p.error, 1000)} for p in view.rule_problems],
    }
    if show_silences:
        doc["silences"] = [{
            "id": clean(s.id, 200), "state": clean(s.state, 60), "matchers": [clean(str(m), 400) for m in s.matchers],
            "starts_at": _iso(s.starts_at), "ends_at": _iso(s.ends_at), "created_by": clean(s.created_by, 200),
            "comment": clean(s.comment, 1000)} for s in view.silences]
    return dumps(doc)


def _num(v):
    import math

    return None if v is None or math.isnan(v) or math.isinf(v) else v


# -- writes --------------------------------------------------------------------------------------

def _refuse_if_readonly(readonly: bool, what: str) -> None:
    if readonly:
        raise click.ClickException(f"read-only session: not {what} (--readonly or [dashboard] readonly = true)")


@alerts_cmd.command("silence")
@shared_options
@click.argument("matchers", nargs=-1, required=True)
@click.option("--duration", "-d", default="2h", show_default=True, metavar="DURATION",
              help="How long the silence lasts (30m, 2h, 1d).")
@click.option("--comment", "-c", default=None, help="Why (required, as amtool requires).")
@click.option("--author", "-a", default=None, help="Who  [default: $USER].")
@click.pass_context
def silence_cmd(ctx, matchers, duration, comment, author):
    """Create a silence in Alertmanager and print its ID (amtool `silence add`).

    MATCHER is name=value, name!=value, name=~regex or name!~regex; a first bare word is the
    alert name (`llmwatch alerts silence GatewayHighErrorRate instance=gw-1 -c "deploy"`).
    Exits 0 and prints only the ID on success; 3 with a one-line message otherwise.
    """
    from probes.alertmanager import MatcherError, parse_matchers
    from probes.alerts import validate_silence

    cfg, timeout, readonly = _settings(ctx)
    _refuse_if_readonly(readonly, "creating a silence")
    try:
        parsed = parse_matchers(matchers)
        spec = validate_silence(parsed, duration, comment or "", author, time.time())
    except (MatcherError, ValueError) as exc:  # MatcherError is a ValueError; both are usage errors
        raise click.ClickException(f"{exc} (see llmwatch alerts silence --help)") from None
    res = asyncio.run(_create(cfg, timeout, spec))
    if not res.ok:
        raise click.ClickException(res.error.message if res.error else "Alertmanager refused the silence")
    from probes.textsafe import one_line

    click.echo(one_line(res.value, 200))


async def _create(cfg, timeout: float, spec):
    from probes.alertmanager import AlertmanagerClient

    am = AlertmanagerClient(replace(cfg.alertmanager, timeout=timeout))
    try:
        return await am.create_silence(list(spec.matchers), spec.starts_at, spec.ends_at, spec.author, spec.comment)
    finally:
        await _close(am)


@alerts_cmd.command("expire")
@shared_options
@click.argument("ids", nargs=-1, required=True, metavar="SILENCE_ID...")
@click.pass_context
def expire_cmd(ctx, ids):
    """Expire silences now (amtool `silence expire`). Prints `expired ID` for each; exit 3 if any failed."""
    from probes.textsafe import one_line

    cfg, timeout, readonly = _settings(ctx)
    _refuse_if_readonly(readonly, "expiring silences")
    results = asyncio.run(_expire(cfg, timeout, ids))
    failed = 0
    for sid, res in results:
        if res.ok:
            click.echo(f"expired {sid}")
        else:
            failed += 1
            why = res.error.message if res.error else "failed"
            click.echo(f"llmwatch: {sid}: {one_line(why, 400)}", err=True)
    ctx.exit(3 if failed else 0)


async def _expire(cfg, timeout: float, ids):
    from probes.alertmanager import AlertmanagerClient

    am = AlertmanagerClient(replace(cfg.alertmanager, timeout=timeout))
    try:
        return [(sid, await am.expire_silence(sid.strip())) for sid in ids]
    finally:
        await _close(am)
