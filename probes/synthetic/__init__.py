"""The synthetic LLM stack: fake services on loopback that follow the seed documents to the letter.

Used by the tests (true values from known traffic) and by `llmwatch demo`. Never imports textual,
rich or tui. Entry points: Stack (Python), `python -m probes.synthetic` (CLI + control server).
"""

from probes.synthetic.model import Event, LogLine, LogNormal, Route, TrafficConfig
from probes.synthetic.services import EXTRAS, REQUIRED_NAMES, SERVICES
from probes.synthetic.stack import Stack

__all__ = ["Stack", "Event", "LogLine", "LogNormal", "Route", "TrafficConfig", "SERVICES", "REQUIRED_NAMES",
           "EXTRAS"]
