"""Test control shared by the Python apps: a JSON file the test writes, read on every health call.

Why a file and not an HTTP control route: every route of these apps is counted by the real
instrumentation (the instrumentator and prom-client count every handler), so a control route
would add traffic the generator did not send. The apps read LLMWATCH_APP_STATE (a path).
"""

from __future__ import annotations

import json
import os


def state() -> dict:
    """The test's wishes for this app, e.g. {"healthy": false, "down": ["redis"]}; {} when unset."""
    path = os.environ.get("LLMWATCH_APP_STATE", "")
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


def healthy() -> bool:
    return bool(state().get("healthy", True))
