"""Times as Camunda writes them: ``2026-12-07T16:05:00.000+0000``."""

from __future__ import annotations

from datetime import datetime

from engine.db import as_utc


def camunda_time(value: datetime | None) -> str | None:
    value = as_utc(value)
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}" + value.strftime("%z")
