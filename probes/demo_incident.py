"""The demo's scripted incident (--incident): one loop of INCIDENT_PERIOD_S, repeated until stop.

    +5 s   cloud fallback, 10 s: Ollama unhealthy, the gateway's local routes fail more and 75 %
           of traffic goes to the cloud model -> cost and cloud share jump, health turns red
    +15 s  error spike, 20 s: the gateway answers 50 % errors (2x latency); with the seed rule
           GatewayHighErrorRate (rate > 0.5/s for 15 s, evaluated every 5 s) pending by about
           +25 s and firing by about +45 s after the incident starts
    +35 s  GPU memory pressure, 30 s: both H100s nearly full, hot and busy; vLLM KV cache 97 %
    +65 s  recovery: every setting back to normal; the next loop starts at +120 s

A mixin of probes.demo.Demo (it needs the demo's stack, names, stop event and event log); kept
apart so each file reads in one sitting.
"""

from __future__ import annotations

import time
from typing import Callable

from probes.synthetic.model import LogNormal, Route, TrafficConfig

INCIDENT_PERIOD_S = 120.0
GPU_PRESSURE = {
    # used + free + reserved = 81559 MiB exactly (reserved pinned: vary=True would wobble it)
    "gpu0.fb_used": 80_600, "gpu0.fb_free": 400, "gpu0.fb_reserved": 559, "gpu0.util": 100, "gpu0.mem_copy_util": 94, "gpu0.temp": 84,
    "gpu0.mem_temp": 91, "gpu0.power": 694.0,
    "gpu1.fb_used": 79_000, "gpu1.fb_free": 2_000, "gpu1.fb_reserved": 559, "gpu1.util": 97, "gpu1.mem_copy_util": 88, "gpu1.temp": 81,
    "gpu1.mem_temp": 86, "gpu1.power": 655.0,
}
VLLM_PRESSURE = {"kv_cache_usage_perc": 0.97, "num_requests_running": 48, "num_requests_waiting": 37}


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class IncidentTimeline:
    """The timeline's steps and its thread body; Demo provides stack, names, loop, _stop, events."""

    def _error_target(self) -> str | None:
        order = ("api-gateway", "tinycode", "dev-pynode", "ai-forge", "code-llm-api", "litellm", "vllm")
        return next((n for n in order if n in self.names), None)

    def _has(self, name: str) -> bool:
        return self.stack is not None and name in self.stack.services

    def _say(self, text: str) -> None:
        self.events.append((time.time(), text))
        self._status = text
        if self.on_event is not None:
            try:
                self.on_event(text)
            except Exception:  # noqa: BLE001 - printing must not kill the timeline
                pass

    def _cloud_fallback(self, on: bool) -> None:
        st = self.stack
        assert st is not None
        if self._has("ollama"):
            st.control("ollama", unhealthy=on)
        if self._has("api-gateway"):
            gw = st.services["api-gateway"]
            st.control("api-gateway", unhealthy={"ollama"} if on else ())
            if on:
                self._saved_traffic = self._saved_traffic or gw.traffic
                gw.traffic = _cloud_heavy(self._saved_traffic)  # read once per request: atomic swap
            elif self._saved_traffic is not None:
                gw.traffic = self._saved_traffic

    def _error_spike(self, on: bool) -> None:
        target = self._error_target()
        if target and self.stack is not None:
            self.stack.control(target, error_rate=0.5 if on else None, latency_scale=2.0 if on else 1.0)

    def _gpu_pressure(self, on: bool) -> None:
        st = self.stack
        assert st is not None
        for name, pressure in (("dcgm", GPU_PRESSURE), ("vllm", VLLM_PRESSURE)):
            if self._has(name):
                defaults = type(st.services[name]).default_gauges
                st.control(name, gauges=pressure if on else {k: defaults[k] for k in pressure})

    def timeline(self) -> list[tuple[float, str, Callable[[], None]]]:
        """(seconds after the loop starts, what happens, action), in order."""
        target = self._error_target() or "-"
        alert = self.incident_alert
        return [
            (0.0, "incident: baseline, cloud fallback in 5s", lambda: None),
            (5.0, "incident 1/3: local backend failing, cloud fallback surge (10s): cost and cloud share rise",
             lambda: self._cloud_fallback(True)),
            (15.0, f"incident 2/3: error spike on {target} (20s)" + (f": {alert} goes pending, then fires" if alert
                                                                     else ""),
             lambda: (self._cloud_fallback(False), self._error_spike(True))),
            (35.0, "incident 3/3: GPU memory pressure (30s): both GPUs nearly full, vLLM KV cache 97%",
             lambda: (self._error_spike(False), self._gpu_pressure(True))),
            (65.0, f"incident: recovered; next loop in {INCIDENT_PERIOD_S - 65:.0f}s" if self.loop
             else "incident: recovered (timeline ended)",
             lambda: self._gpu_pressure(False)),
        ]

    def _run_incident(self) -> None:
        t0 = time.monotonic()
        while True:
            for at, text, action in self.timeline():
                if self._stop.wait(max(0.0, t0 + at - time.monotonic())):
                    return
                try:
                    action()
                except Exception as exc:  # noqa: BLE001 - a bad step is reported, the demo goes on
                    text = f"{text} (step failed: {first_line(exc)})"
                self._say(text)
            if not self.loop:
                return
            t0 += INCIDENT_PERIOD_S
            if self._stop.wait(max(0.0, t0 - time.monotonic())):
                return


def _cloud_heavy(base: TrafficConfig) -> TrafficConfig:
    """The same routes with 75 % of traffic on cloud ones and local routes failing 10 % of calls."""
    cloud = [r for r in base.routes if r.backend == "cloud"]
    local = [r for r in base.routes if r.backend != "cloud"]
    if not cloud or not local:
        return base
    routes = [Route(r.labels, 0.25 / len(local), r.latency, max(r.error_rate, 0.10), r.tokens_in, r.tokens_out,
                    r.price_in_per_mtok, r.price_out_per_mtok, r.model, r.backend) for r in local]
    routes += [Route(r.labels, 0.75 / len(cloud), LogNormal(r.latency.median * 1.3, r.latency.sigma), r.error_rate,
                     r.tokens_in, r.tokens_out, r.price_in_per_mtok, r.price_out_per_mtok, r.model, r.backend)
               for r in cloud]
    return TrafficConfig(base.rate, tuple(routes))
