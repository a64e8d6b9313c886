"""The binding contract: every key a screen binds, shows in its footer or lists in `?` works.

Generic on purpose: for every screen of the app (reached the way a person reaches it), the test
walks the screen's live bindings (focused widget, screen, app), so a binding added tomorrow is
checked without editing this file:
  1. its action resolves to an `action_*` method that exists (the `a` -> app.open_alerts bug);
  2. every key in the footer (or the logs screen's key line) and in the `?` help is one of them;
  3. pressing each llmwatch binding changes what is on screen, and does what EFFECTS says the
     help promises. A new llmwatch binding without an entry in EFFECTS fails the test.
Data: fixed dashboard data (tests/dashboard_data.py), recorded Prometheus/Alertmanager answers
(tests/fixtures) behind the alerts screen, and the Loki replay server behind the logs screen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import pytest

from probes.alertmanager import _parse_alerts, _parse_silences
from probes.config import Endpoint
from probes.loki import LokiClient
from probes.promtypes import ApiResult, parse_alerts, parse_rules
from tests.harness.paths import FIXTURES
from tests.test_dashboard_pilot import screen_text
from tests.test_dashboard_snapshots import fixed_app, inject
from tests.test_logs_screen import END
from tui.app import help_rows, own_bindings

pytestmark = pytest.mark.tui
SIZE = (120, 40)


class RecordedPrometheus:
    """alerts() and rules() answer the recorded Prometheus payloads (only the alerts screen asks)."""

    def __init__(self) -> None:
        self.calls = 0

    async def alerts(self):
        self.calls += 1
        return ApiResult(True, parse_alerts(_doc("prometheus/alerts.json")["data"]))

    async def rules(self):
        return ApiResult(True, parse_rules(_doc("prometheus/rules.json")["data"]))


class RecordedAlertmanager:
    async def alerts(self, **_: Any):
        return ApiResult(True, _parse_alerts(_doc("alertmanager/alerts_after_silence.json")))

    async def silences(self):
        return ApiResult(True, _parse_silences(_doc("alertmanager/silences.json")))


def _doc(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


# ---- reaching each screen ------------------------------------------------------------------------

async def _settle(pilot, name: str | None = None) -> None:
    for _ in range(40):
        await pilot.pause(0.05)
        waiter = getattr(pilot.app.screen, "wait_loaded", None)
        if name is None or type(pilot.app.screen).__name__ == name:
            break
    if waiter is not None:
        await waiter(10)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.05)


async def to_dashboard(pilot) -> None:
    await inject(pilot)
    pilot.app.ctx.prometheus = RecordedPrometheus()  # after the dashboard's pollers chose "none"
    pilot.app.screen.query_one("#panel-traffic").focus()
    await pilot.pause()


# screen -> (the screen it is reached from, the keys a person presses there)
ROUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "ZoomScreen": ("DashboardScreen", ("enter",)), "AlertsScreen": ("DashboardScreen", ("a",)),
    "LogsScreen": ("DashboardScreen", ("l",)), "HelpScreen": ("DashboardScreen", ("question_mark",)),
    "ExpandedLine": ("LogsScreen", ("enter",)), "SilenceForm": ("AlertsScreen", ("n",)),
    "ConfirmScreen": ("AlertsScreen", ("s", "x")),
}


def _route(name: str) -> Callable[[Any], Awaitable[None]]:
    async def go(pilot) -> None:
        parent, keys = ROUTES[name]
        await SCREENS[parent](pilot)
        await pilot.press(*keys)
        await _settle(pilot, name)
    return go


SCREENS: dict[str, Callable[[Any], Awaitable[None]]] = {"DashboardScreen": to_dashboard,
                                                         **{name: _route(name) for name in ROUTES}}


def contract_app(loki_url: str):
    app = fixed_app()
    app.ctx.loki = LokiClient(Endpoint(loki_url, timeout=3))
    app.ctx.alertmanager = RecordedAlertmanager()
    app.ctx.clock = lambda: END  # the recorded Loki hour, so the logs screen has lines
    return app


# ---- what each binding must do ----------------------------------------------------------------

@dataclass
class Before:
    screen: str
    depth: int
    focused: str | None
    text: str
    state: dict


def _focus_id(app) -> str | None:
    node = app.focused
    return f"{type(node).__name__}#{node.id}" if node is not None else None


def _state(app) -> dict:
    """The bits of state some keys change without a visible difference in one frame."""
    s = app.screen
    out: dict[str, Any] = {"cursor": {}, "prom_calls": getattr(app.ctx.prometheus, "calls", 0),
                           "toasts": [str(n.message) for n in app._notifications]}
    for p in s.query(".panel"):
        out["cursor"][p.id] = p.cursor
    if app.is_screen_installed("dashboard"):
        dash = app.get_screen("dashboard")
        out["range"], out["paused"] = dash.range_s, dash.paused
    lines = s.query("LogLines")
    if lines:
        out["log_cursor"] = getattr(lines.first(), "cursor", None)
    follow = getattr(s, "following", None)
    out["following"] = follow
    out["levels"] = sorted(getattr(s, "levels", ()))
    return out


def now_screen(app) -> str:
    return type(app.screen).__name__


def went_to(name: str):
    return lambda app, b: now_screen(app) == name


def went_back(app, b: Before) -> bool:
    return len(app.screen_stack) < b.depth or app.return_code is not None


def quit_app(app, b: Before) -> bool:
    return app.return_code is not None or not app.is_running


def focus_moved(app, b: Before) -> bool:
    return _focus_id(app) != b.focused


def picked(app, b: Before) -> bool:
    return _state(app)["cursor"] != b.state["cursor"] or focus_moved(app, b)


def header_says(words: str, absent: bool = False):
    def check(app, b: Before) -> bool:
        head = "\n".join(screen_text(app).splitlines()[:2])
        return (words not in head) if absent else (words in head and words not in "\n".join(b.text.splitlines()[:2]))
    return check


def input_open(app, b: Before) -> bool:
    focused = app.focused
    return type(focused).__name__ == "Input" and focused.display


def state_changed(key: str):
    return lambda app, b: _state(app)[key] != b.state[key]


def toast(words: str):
    return lambda app, b: any(words in str(n.message) for n in app._notifications)


# (screen, action) -> what the `?` help promises, checked after the key is pressed.
EFFECTS: dict[tuple[str, str], Callable[[Any, Before], bool]] = {
    ("*", "app.help"): went_to("HelpScreen"),
    ("*", "help"): went_to("HelpScreen"),
    ("*", "quit"): quit_app,
    ("*", "app.quit"): quit_app,
    ("*", "command_palette"): went_to("CommandPalette"),
    ("DashboardScreen", "range(1)"): lambda app, b: app.get_screen("dashboard").range_s > b.state["range"],
    ("DashboardScreen", "range(-1)"): lambda app, b: app.get_screen("dashboard").range_s < b.state["range"],
    ("DashboardScreen", "refresh_now"): toast("refreshing"),
    ("DashboardScreen", "pause"): lambda app, b: app.get_screen("dashboard").paused != b.state["paused"] and (
        ("PAUSED" in screen_text(app)) == app.get_screen("dashboard").paused),
    ("DashboardScreen", "zoom"): went_to("ZoomScreen"),
    ("DashboardScreen", "filter"): input_open,
    ("DashboardScreen", "logs"): went_to("LogsScreen"),
    ("DashboardScreen", "app.open_alerts"): went_to("AlertsScreen"),
    ("DashboardScreen", "app.focus_next"): focus_moved,
    ("DashboardScreen", "app.focus_previous"): focus_moved,
    ("DashboardScreen", "clear_filter"): header_says("filter /", absent=True),
    ("DashboardScreen", "cursor(-1)"): picked,
    ("DashboardScreen", "cursor(1)"): picked,
    ("DashboardScreen", "move_focus(1)"): focus_moved,
    ("DashboardScreen", "move_focus(-1)"): focus_moved,
    ("ZoomScreen", "app.pop_screen"): went_to("DashboardScreen"),
    ("ZoomScreen", "logs"): went_to("LogsScreen"),
    ("ZoomScreen", "cursor(-1)"): picked,
    ("ZoomScreen", "cursor(1)"): picked,
    ("AlertsScreen", "refresh"): state_changed("prom_calls"),
    ("AlertsScreen", "new_silence"): went_to("SilenceForm"),
    ("AlertsScreen", "expire_silence"): went_to("ConfirmScreen"),
    ("AlertsScreen", "toggle_silences"): focus_moved,
    ("AlertsScreen", "open_logs"): went_to("LogsScreen"),
    ("AlertsScreen", "back"): went_to("DashboardScreen"),
    ("LogsScreen", "back"): went_to("DashboardScreen"),
    ("LogsScreen", "edit('query')"): input_open,
    ("LogsScreen", "edit('text')"): input_open,
    ("LogsScreen", "edit('regex')"): input_open,
    ("LogsScreen", "toggle_level('error')"): state_changed("levels"),
    ("LogsScreen", "toggle_level('warn')"): state_changed("levels"),
    ("LogsScreen", "toggle_level('info')"): state_changed("levels"),
    ("LogsScreen", "toggle_level('debug')"): state_changed("levels"),
    ("LogsScreen", "follow"): state_changed("following"),
    ("LogsScreen", "reload"): lambda app, b: True,  # checked by the Loki request count below
    ("LogsScreen", "move(-1)"): state_changed("log_cursor"),
    ("LogsScreen", "move(1)"): state_changed("log_cursor"),
    ("LogsScreen", "page(-1)"): state_changed("log_cursor"),
    ("LogsScreen", "page(1)"): state_changed("log_cursor"),
    ("LogsScreen", "jump(0)"): state_changed("log_cursor"),
    ("LogsScreen", "jump(-1)"): state_changed("log_cursor"),
    ("LogsScreen", "select"): went_to("ExpandedLine"),
    ("HelpScreen", "app.pop_screen"): went_to("DashboardScreen"),
    ("ExpandedLine", "dismiss"): went_to("LogsScreen"),
    ("SilenceForm", "cancel"): went_to("AlertsScreen"),
    ("ConfirmScreen", "dismiss(False)"): went_to("AlertsScreen"),
}
# Keys whose effect needs a state first: (screen, action) -> what a person does before.
PREPARE: dict[tuple[str, str], Callable[[Any], Awaitable[None]]] = {}


async def _set_filter(pilot) -> None:
    await pilot.press("slash", *"local", "enter")  # as a person sets one: the box closes, the filter stays
    await pilot.pause()


async def _to_middle_line(pilot) -> None:
    await pilot.press("down", "down", "down")
    await pilot.pause()


async def _to_last_line(pilot) -> None:
    await pilot.press("end")
    await pilot.pause()


async def _pick_a_series(pilot) -> None:
    await pilot.press("down")
    await pilot.pause()


PREPARE[("DashboardScreen", "clear_filter")] = _set_filter
PREPARE[("DashboardScreen", "cursor(-1)")] = _pick_a_series
PREPARE[("ZoomScreen", "cursor(-1)")] = _pick_a_series
PREPARE[("LogsScreen", "move(-1)")] = _to_middle_line
PREPARE[("LogsScreen", "page(-1)")] = _to_last_line
PREPARE[("LogsScreen", "jump(0)")] = _to_middle_line


def effect_for(screen: str, action: str):
    return EFFECTS.get((screen, action)) or EFFECTS.get(("*", action))


def _ours(active) -> bool:
    b = active.binding
    return (b.action, b.description) in {(o.action, o.description) for o in own_bindings(active.node)}


def _resolves(app, active) -> tuple[bool, str]:
    node, name, _ = app._parse_action(active.binding.action, active.node)
    return callable(getattr(node, f"action_{name}", None)), f"{type(node).__name__}.action_{name}"


# ---- the tests ----------------------------------------------------------------------------------

def _contract_problems(app, screen: str) -> list[str]:
    """Every live binding resolves; every footer / key-line / help key is a live binding."""
    active = list(app.screen.active_bindings.items())
    problems = []
    for key, binding in active:
        ok, where = _resolves(app, binding)
        if not ok:
            problems.append(f"{screen}: key {key!r} -> {binding.binding.action!r}: no {where}")
    keys = {k for k, _ in active}
    for fk in app.screen.query("FooterKey"):
        if fk.key not in keys:
            problems.append(f"{screen}: footer shows {fk.key!r} which is not bound")
    for keys_shown, desc in help_rows(app):
        if not keys_shown:
            problems.append(f"{screen}: help row {desc!r} without a key")
    if screen == "LogsScreen":
        problems += _logs_key_line(active)
    return problems


def _logs_key_line(active: list[tuple[str, Any]]) -> list[str]:
    from tui.screens.logs import KEY_HINTS
    names = {"esc": ["escape"], "⏎": ["enter"], "↑↓": ["up", "down"], "/": ["slash"], "~": ["tilde"],
             "?": ["question_mark"], "1-4": ["1", "2", "3", "4"]}
    bound = {k for k, _ in active}
    return [f"LogsScreen: key line shows {shown!r} but {k!r} is not bound"
            for shown, _ in KEY_HINTS for k in names.get(shown, [shown]) if k not in bound]


async def _back_to_dashboard(app) -> None:
    while len(app.screen_stack) > 2:  # [the default screen, the dashboard, ...]
        await app.pop_screen()


async def _press_and_check(pilot, loki, screen: str, key: str, active) -> str | None:
    """Reach `screen`, press `key`; None when it did what the help says, else why not."""
    app = pilot.app
    action = active.binding.action
    if now_screen(app) != screen or type(app.focused).__name__ == "Input":  # else carry on where we are
        await _back_to_dashboard(app)
        await SCREENS[screen](pilot)
    prepare = PREPARE.get((screen, action))
    if prepare is not None:
        await prepare(pilot)
    before = Before(now_screen(app), len(app.screen_stack), _focus_id(app), screen_text(app), _state(app))
    loki_before = len(loki.requests)
    await pilot.press(key)
    await pilot.pause(0.05)
    if app.is_running:
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
    done = effect_for(screen, action)(app, before)
    asked_loki = len(loki.requests) > loki_before
    if action == "reload":
        done = asked_loki
    changed = (not app.is_running or now_screen(app) != before.screen or asked_loki
               or _state(app) != before.state or _focus_id(app) != before.focused or screen_text(app) != before.text)
    if done and changed:
        return None
    return (f"{screen}: {key!r} ({action}, {active.binding.description!r}) did not do what the help says "
            f"(effect={done}, changed={changed})")


@pytest.mark.parametrize("screen", list(SCREENS))
async def test_every_binding_resolves_and_does_what_help_says(loki, screen):
    failures: list[str] = []
    pending: list | None = None
    while pending is None or pending:  # one app for as many keys as it survives (q and ctrl+c end it)
        app = contract_app(loki.url)
        async with app.run_test(size=SIZE) as pilot:
            if pending is None:
                await SCREENS[screen](pilot)
                assert now_screen(app) == screen, f"could not reach {screen}: on {now_screen(app)}"
                problems = _contract_problems(app, screen)
                assert not problems, "\n".join(problems)
                pending = [(k, a) for k, a in app.screen.active_bindings.items() if _ours(a)]
                assert pending, f"{screen} has no llmwatch bindings?"
                missing = [f"({screen!r}, {a.binding.action!r})" for _, a in pending
                           if effect_for(screen, a.binding.action) is None]
                assert not missing, "bindings without an expected effect (add them to EFFECTS): " + ", ".join(missing)
            while pending and app.is_running:
                key, active = pending.pop(0)
                failure = await _press_and_check(pilot, loki, screen, key, active)
                if failure:
                    failures.append(failure)
    assert not failures, "\n".join(failures)


async def test_help_lists_every_described_binding_of_the_screen(loki):
    app = contract_app(loki.url)
    async with app.run_test(size=SIZE) as pilot:
        await to_dashboard(pilot)
        rows = help_rows(app)
        await pilot.press("question_mark")
        await _settle(pilot, "HelpScreen")
        text = screen_text(app)
        for keys, desc in rows:
            assert desc in text and keys.split("/")[0] in text, (keys, desc)
        for must in ("a", "alerts screen", "?", "q", "quit", "+", "longer", ":"):
            assert must in text


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (160, 48)])
async def test_footer_keeps_help_visible_at_every_width(size):
    app = fixed_app()
    async with app.run_test(size=size) as pilot:
        await inject(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert footer.lstrip().startswith("? help"), footer
        assert "a alerts" in footer, footer
        assert "ranger" not in footer and "+- range" in footer
