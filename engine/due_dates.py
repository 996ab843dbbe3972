"""Due dates that follow the calendar.

A due date or timer written ``${working_days(2)}`` is stored with its rule — the function, its
arguments and the moment it counted from — next to the result. When an admin changes the calendar
(a closed day, a working Saturday, an imported year), :func:`engine.calendar_follow.follow_calendar` counts every open
task's due date and every pending working-time timer again from the same start on the calendar as
it now stands, and records each move in the case history.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .working_days import RULES, WorkingCalendar

Call = tuple[str, list, str]  # (function, arguments, ISO result)


def rule_for(result: Any, calls: list[Call], base: datetime) -> dict | None:
    """The rule behind ``result`` when it is exactly what one calendar function returned."""
    for name, args, value in reversed(calls):
        if value == result:
            return {"fn": name, "args": args, "from": base.isoformat()}
    return None


def recount(rule: dict, calendar: WorkingCalendar) -> datetime:
    return RULES[rule["fn"]](calendar, datetime.fromisoformat(rule["from"]), *rule["args"])


def dumps(rule: dict | None) -> str | None:
    return json.dumps(rule, sort_keys=True) if rule else None

