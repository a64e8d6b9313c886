"""The one fixtures root: recorded server responses and the seed documents live in the repository.

A fresh clone must run its suite on its own, so nothing here (or in any test) points outside the
repository. tests/fixtures/README.md says how each recorded response was made.
"""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEEDS = FIXTURES / "seeds"
