"""Named exit codes and check states: the Nagios plugin API, in one place.

0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Usage and configuration errors are UNKNOWN.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Iterable


class Status(IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3

    @property
    def label(self) -> str:
        return self.name


# Severity order for "overall" status: CRITICAL > WARNING > UNKNOWN > OK (Nagios convention:
# a definite problem outranks "could not check").
_RANK = {Status.OK: 0, Status.UNKNOWN: 1, Status.WARNING: 2, Status.CRITICAL: 3}

EXIT_OK = Status.OK.value
EXIT_WARNING = Status.WARNING.value
EXIT_CRITICAL = Status.CRITICAL.value
EXIT_UNKNOWN = Status.UNKNOWN.value
EXIT_USAGE = EXIT_UNKNOWN  # usage and config errors


def worst(statuses: Iterable[Status]) -> Status:
    """Overall status: CRITICAL if any, else WARNING, else UNKNOWN, else OK."""
    result = Status.OK
    for s in statuses:
        if _RANK[s] > _RANK[result]:
            result = s
    return result
