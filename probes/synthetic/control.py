"""One HTTP control port for a whole stack, so a stack run as a subprocess can be driven.

Routes (JSON in, JSON out):
  GET  /services                      the port file {name: {url, job, metrics, health}}
  GET  /targets                       {job: "127.0.0.1:PORT"} for services with /metrics
  POST /control/<name>                body = Stack.control settings, e.g. {"error_rate": 0.5}
  GET  /truth/<name>?window=60[&end=T] truth.summary over (end-window, end]
  GET  /events/<name>?start=&end=     events as JSON objects
  GET  /logs/<name>?since=T           log lines {t, service, level, line}
  GET  /gauges/<name>                 configured gauge values now
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from probes.synthetic.serve import LoopbackServer
from probes.synthetic.service import Reply, Request, json_reply
from probes.synthetic.stack import Stack


def _num(q: dict[str, str], key: str) -> float | None:
    return float(q[key]) if q.get(key) not in (None, "") else None


class ControlServer:
    """Wraps a Stack with the HTTP routes above; errors answer 400/404 with {"error": ...}."""

    def __init__(self, stack: Stack, port: int = 0):
        self.stack = stack
        self.server = LoopbackServer(self.handle, port, server_header="synthetic-control")

    def start(self) -> str:
        self.server.start()
        return self.url

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def stop(self) -> None:
        self.server.stop()

    def handle(self, req: Request) -> Reply:
        parts = [p for p in req.path.split("/") if p]
        try:
            return self._route(req, parts)
        except KeyError as exc:
            return json_reply({"error": str(exc.args[0] if exc.args else exc)}, 404)
        except (ValueError, TypeError) as exc:
            return json_reply({"error": str(exc)}, 400)

    def _route(self, req: Request, parts: list[str]) -> Reply:
        st, q = self.stack, dict(req.query)
        if req.method == "GET" and parts == ["services"]:
            return json_reply(st.describe())
        if req.method == "GET" and parts == ["targets"]:
            return json_reply(st.targets())
        if len(parts) == 2:
            kind, name = parts
            if req.method == "POST" and kind == "control":
                body: Any = json.loads(req.body or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("body must be a JSON object of settings")
                settings = st.control(name, **body)
                return json_reply({"service": name, "settings": _settings_json(settings)})
            if req.method == "GET" and kind == "truth":
                return json_reply(st.truth(name, _num(q, "window") or 60.0, _num(q, "end")))
            if req.method == "GET" and kind == "events":
                evs = st.events(name, _num(q, "start"), _num(q, "end"))
                return json_reply([dataclasses.asdict(e) for e in evs])
            if req.method == "GET" and kind == "logs":
                return json_reply([dataclasses.asdict(x) for x in st.logs(name, _num(q, "since"))])
            if req.method == "GET" and kind == "gauges":
                return json_reply(st.gauges(name))
        return json_reply({"error": f"no route {req.method} {req.path}"}, 404)


def _settings_json(s: Any) -> dict[str, Any]:
    d = dataclasses.asdict(s)
    d["unhealthy"] = sorted(d["unhealthy"])
    d["gauges"] = dict(d["gauges"])
    return d
