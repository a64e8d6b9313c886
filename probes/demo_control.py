"""Break and heal the demo's services by hand, so `watch`, `check` and the dashboard react.

Why: the scripted incident (--incident) runs on its own clock; a new user wants to pull a plug
and see what happens. `llmwatch demo` serves this on a loopback port and prints it with curl
examples (stderr), e.g.

    curl -X POST http://127.0.0.1:PORT/break/api-gateway    # unhealthy, half the requests fail
    curl -X POST http://127.0.0.1:PORT/down/vllm            # the process stops answering
    curl -X POST http://127.0.0.1:PORT/heal/api-gateway     # back to normal (also after down)
    curl http://127.0.0.1:PORT/                             # services and routes

Every route of probes/synthetic/control.py (POST /control/<name> with any setting, /truth,
/events, /logs, /gauges) is served too. Never imports textual, rich or tui.
"""

from __future__ import annotations

import json
from typing import Any

from probes.synthetic.control import ControlServer
from probes.synthetic.service import Reply, Request

BREAK_ERROR_RATE = 0.5
ACTIONS = {
    "break": "unhealthy, and half of its requests fail",
    "down": "stops answering: its target and health check go down",
    "heal": "back to normal (after break or down)",
}


def break_service(stack: Any, name: str) -> None:
    service = stack.services[name]
    stack.control(name, unhealthy=True if service.components else (), error_rate=BREAK_ERROR_RATE)


def down_service(stack: Any, name: str) -> None:
    stack.control(name, down=True)


def heal_service(stack: Any, name: str) -> None:
    service = stack.services[name]
    service.traffic = type(service).default_traffic or service.traffic  # undo the incident's traffic swap
    stack.control(name, reset=True, down=False)


class DemoControl(ControlServer):
    """The synthetic stack's control API plus POST /break|down|heal/<name> and GET /."""

    def _route(self, req: Request, parts: list[str]) -> Reply:
        if req.method == "GET" and not parts:
            return _reply(self.describe())
        if req.method == "POST" and len(parts) == 2 and parts[0] in ACTIONS:
            action, name = parts
            if name not in self.stack.services:  # -> 404 naming the services
                raise KeyError(f"no service {name!r}; the demo runs: {', '.join(self.stack.services)}")
            {"break": break_service, "down": down_service, "heal": heal_service}[action](self.stack, name)
            return _reply({"service": name, "action": action, "meaning": ACTIONS[action]})
        return super()._route(req, parts)

    def describe(self) -> dict[str, Any]:
        return {"services": list(self.stack.services),
                "routes": {f"POST /{a}/<service>": what for a, what in ACTIONS.items()},
                "examples": examples(self.url, self.stack)}


def _reply(obj: dict[str, Any]) -> Reply:
    """JSON with a final newline, so a curl in a terminal leaves the prompt on its own line."""
    return Reply(200, (json.dumps(obj, indent=1) + "\n").encode(), "application/json")


def examples(url: str, stack: Any) -> list[str]:
    """curl lines a person can paste: break a service with a health check, take a scraped one
    down, heal both, list the routes."""
    names = list(stack.services)
    checked = [n for n in names if stack.health_url(n)] or names
    first = checked[0]
    scraped = [n for n in stack.targets() if n != first] or [first]
    second = scraped[0]
    return [f"curl -X POST {url}/break/{first}", f"curl -X POST {url}/down/{second}",
            f"curl -X POST {url}/heal/{first}", f"curl -X POST {url}/heal/{second}", f"curl {url}/"]
