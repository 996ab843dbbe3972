"""Timer start events: cases the calendar starts by itself (e.g. every Friday's parts top-up).

A process whose start event carries a timer is parsed as a plain start (see
``diagram_prepare.strip_timer_starts``) and gets a ``ScheduledStart`` row instead; whichever worker
claims a due row (compare-and-set on ``next_due``) starts one case and moves the row on.
Supported as Camunda Modeler writes them: ``R/2026-11-27T17:00:00+08:00/P7D`` (every 7 days from
then), ``R/2026-12-01T09:00:00+08:00/P1M`` (the same day and time every calendar month), ``R5/PT1H``
(five times, hourly from deployment), a Camunda (Quartz) cron cycle such as ``0 0 9 ? * MON-FRI`` (09:00
Shanghai time on weekdays), a date-time (once), a duration (once, that long after deployment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import isodate
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import expressions
from .db import as_utc
from .expressions import ISO_DATETIME, ISO_DURATION
from .models import ScheduledStart


@dataclass(frozen=True)
class Schedule:
    start: datetime | None
    period: timedelta | isodate.Duration | None  # a Duration when it counts calendar months or years
    repeats: int | None  # None: for ever
    cron: str | None = None  # a Camunda (Quartz) cron converted for croniter, counted in Shanghai time

    def next_after(self, moment: datetime, anchor: datetime) -> tuple[datetime | None, int | None]:
        """The first occurrence strictly after ``moment`` and how many remain after it."""
        if self.cron is not None:
            from .working_days import SHANGHAI

            (following,) = expressions.cron_times(self.cron, moment.astimezone(SHANGHAI), 1)
            return following.astimezone(UTC), None
        first = self.start or (anchor + self.period if self.period else anchor)
        if self.period is None:
            return (first.astimezone(UTC), 0) if first > moment else (None, 0)
        n = 0
        if first <= moment:
            if isinstance(self.period, timedelta):
                n = int((moment - first) / self.period) + 1
            else:  # months are not all as long: count them (a monthly schedule passes few in a lifetime)
                while first + self.period * n <= moment:
                    n += 1
        if self.repeats is not None and n >= self.repeats:
            return None, 0
        remaining = None if self.repeats is None else self.repeats - n - 1
        return (first + self.period * n).astimezone(UTC), remaining


def _duration(text: str) -> timedelta | isodate.Duration:
    value = isodate.parse_duration(text)
    if isinstance(value, timedelta):
        return value
    if value.tdelta or not (value.months or value.years):
        return value.totimedelta(start=datetime(2026, 1, 1))
    return value  # whole months or years: counted on the calendar


def _moment(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        from .working_days import SHANGHAI

        value = value.replace(tzinfo=SHANGHAI)
    return value


def parse(kind: str, text: str) -> Schedule:
    """``kind`` is timeCycle, timeDate or timeDuration; raises ValueError naming what is wrong."""
    text = text.strip().strip("'\"")
    if kind == "timeDate":
        if not ISO_DATETIME.match(text):
            raise ValueError(f"timer start '{text}' is not an ISO 8601 date-time")
        return Schedule(_moment(text), None, 1)
    if kind == "timeDuration":
        if not ISO_DURATION.match(text):
            raise ValueError(f"timer start '{text}' is not an ISO 8601 duration")
        return Schedule(None, _duration(text), 1)
    if expressions.looks_like_cron(text):
        return Schedule(None, None, None, expressions.quartz_to_cron(text))
    parts = text.split("/")
    if not parts[0].startswith("R") or len(parts) not in (2, 3):
        raise ValueError(f"timer cycle '{text}' is neither ISO 8601 R[n]/[start/]period nor a Camunda cron")
    repeats = int(parts[0][1:]) if parts[0][1:] else None
    if len(parts) == 2:
        return Schedule(None, _duration(parts[1]), repeats)
    if ISO_DURATION.match(parts[1]):  # R/period/end is not worth the ambiguity
        raise ValueError(f"timer cycle '{text}': give R[n]/start/period")
    return Schedule(_moment(parts[1]), _duration(parts[2]), repeats)


def register(session: Session, key: str, element_id: str, kind: str, expression: str, now: datetime) -> ScheduledStart:
    """(Re)plan the timer start of the newest version of ``key``."""
    schedule = parse(kind, expression)
    due, remaining = schedule.next_after(now - timedelta(microseconds=1), now)
    row = session.get(ScheduledStart, key)
    if row is None:
        row = ScheduledStart(key=key)
        session.add(row)
    row.element_id, row.kind, row.expression, row.anchor = element_id, kind, expression, now
    row.next_due, row.remaining = due, remaining
    session.flush()
    return row


def unregister(session: Session, key: str) -> None:
    row = session.get(ScheduledStart, key)
    if row is not None:
        session.delete(row)
        session.flush()


def due(session: Session, now: datetime) -> list[ScheduledStart]:
    return list(session.scalars(select(ScheduledStart).where(ScheduledStart.next_due < now)))


def claim(session: Session, row: ScheduledStart, now: datetime) -> bool:
    """Move ``row`` to its next occurrence; False when another worker already did."""
    schedule = parse(row.kind, row.expression)
    due_at = as_utc(row.next_due)
    assert due_at is not None
    following, remaining = schedule.next_after(max(due_at, now), as_utc(row.anchor) or now)
    if row.remaining is not None and row.remaining <= 0:
        following = None
    result = session.execute(
        update(ScheduledStart).where(ScheduledStart.key == row.key, ScheduledStart.next_due == row.next_due)
        .values(next_due=following, remaining=remaining).execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]
