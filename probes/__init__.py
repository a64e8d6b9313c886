"""llmwatch probes: everything that talks to the outside world and every number we compute.

This package never imports textual, rich or tui (tests/test_import_hygiene.py enforces it).
"""

import sys as _sys

__version__ = "0.1.0"
# Where a bug report goes; printed by the last-resort error handler (tui/cli.py main()).
REPORT_AT = "the llmwatch issue tracker, with `llmwatch --version`"

# httpx imports its own command-line tool (rich, pygments, click) at import time whenever rich is
# installed, which it always is beside llmwatch. We never use httpx's CLI; blocking that import
# saves ~40 ms of every `llmwatch check` cold start and keeps rich out of probes.
if "httpx" not in _sys.modules:
    _sys.modules.setdefault("httpx._main", None)  # type: ignore[assignment]
