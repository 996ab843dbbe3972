"""Retry cycles of asynchronous work: ``camunda:failedJobRetryTimeCycle``.

``R3/PT10S`` means three tries in all, ten seconds apart (the default). Read at deploy time to
check the attribute, and when a job row is written.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import isodate

DEFAULT_TRIES, DEFAULT_INTERVAL = 3, 10
_CYCLE = re.compile(r"^R(\d+)/(P\S+)$")


def retry_policy(cycle: str | None) -> tuple[int, int]:
    """``R5/PT1M`` -> (5 tries, 60 s apart); None -> the default (3 tries, 10 s)."""
    if not cycle:
        return DEFAULT_TRIES, DEFAULT_INTERVAL
    match = _CYCLE.match(cycle.strip())
    if not match:
        raise ValueError(f"failedJobRetryTimeCycle '{cycle}' is not R<tries>/<ISO duration>, e.g. R3/PT10S")
    duration = isodate.parse_duration(match.group(2))
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else duration.totimedelta(
        start=datetime(2000, 1, 1)).total_seconds()
    return max(1, int(match.group(1))), max(0, int(seconds))
