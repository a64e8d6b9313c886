"""llmwatch probes: everything that talks to the outside world and every number we compute.

This package never imports textual, rich or tui (tests/test_import_hygiene.py enforces it).
"""

__version__ = "0.1.0"
