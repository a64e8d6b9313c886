"""Snapshot tests of the dashboard with fixed data and a fixed clock (pytest-textual-snapshot).

Run `pytest tests/test_dashboard_snapshots.py --snapshot-update` after an intended change and
review the SVGs in tests/__snapshots__/ before committing them.
"""

from __future__ import annotations

import os
import time

import pytest

from probes.config import load_config
from probes.dashboard_model import Source
from tests import dashboard_data as data

pytestmark = pytest.mark.tui


@pytest.fixture(autouse=True)
def utc():
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


def fixed_app(ascii_: bool = False, theme: str = "dark"):
    from tui.app import LlmwatchApp
    from tui.appctx import AppContext

    cfg = load_config(None, env={}, overrides={("dashboard", "theme"): theme})
    ctx = AppContext(cfg, prometheus=None, ascii=ascii_, clock=lambda: data.NOW,
                     banner="Prometheus 2.42.0 http://prometheus:9090 (fixed data)")
    return LlmwatchApp(ctx)


async def inject(pilot) -> None:
    dash = pilot.app.get_screen("dashboard")
    ok = Source("instant", True, "", data.NOW)
    dash.meta = data.meta()
    dash._on_result("range", data.ranges(), ok)
    dash._on_result("instant", data.instant(), ok)
    dash.panels["health"].update_data(())
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_dashboard_snapshot(snap_compare, size):
    assert snap_compare(fixed_app(), terminal_size=size, run_before=inject)


def test_dashboard_ascii_light_snapshot(snap_compare):
    assert snap_compare(fixed_app(ascii_=True, theme="light"), terminal_size=(120, 40), run_before=inject)


async def test_hostile_alert_text_is_shown_as_text():
    app = fixed_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await inject(pilot)
        from tests.test_dashboard_pilot import screen_text
        text = screen_text(app)
        assert "[bold]x[/bold]" in text  # markup shown literally, never interpreted
        assert "\x1b" not in text
