"""The calendar as data the admins own: company days, imported official schedules, the log of
every change, the year view the API and the admin page show, and the coverage warning.

Due dates that depend on the calendar are counted again after each change by
``engine/due_dates.py`` (the engine calls both in one transaction).
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from . import access, calendar_import, notifications, official_calendar
from .errors import Conflict, InvalidRequest, NotFound, ScheduleInvalid
from .models import CalendarChange, CalendarDay, CalendarImport, ImportedDay, Notification
from .users import Actor
from .working_days import SHANGHAI, WorkingCalendar, WorkingHours

DAY_KINDS = ("closed", "working")
WARNING_HORIZON = timedelta(days=90)


def load(session: Session, settings: dict[str, Any] | None = None) -> WorkingCalendar:
    settings = settings or {}
    company = session.execute(select(CalendarDay.day, CalendarDay.kind, CalendarDay.reason)).all()
    imported = session.execute(select(ImportedDay.day, ImportedDay.kind, ImportedDay.name)).all()
    return WorkingCalendar(
        [d for d, kind, _ in company if kind == "closed"], working_days=[d for d, kind, _ in company if kind == "working"],
        company_reasons={d: reason for d, _, reason in company},
        imported={d: (kind == "working", name) for d, kind, name in imported},
        imported_years=session.scalars(select(CalendarImport.year)).all(),
        tz=settings.get("time_zone", SHANGHAI), hours=settings.get("working_hours") or WorkingHours(),
    )


_LAST_CHANGE = select(func.max(CalendarChange.id))
_PENDING = "aftersales_calendar"


class CalendarCache:
    """The working calendar kept in process memory, keyed by the newest ``calendar_changes`` id.

    Every change of company days or imported schedules writes a change row in its own transaction
    (``_log``), so one indexed read of that id tells whether the kept calendar is still the one in
    the database — one statement per step instead of three table reads. A calendar is kept only
    once the transaction that read it has committed (a rolled-back change may leave its id free for
    the next one)."""

    def __init__(self) -> None:
        self._entry: tuple[int | None, WorkingCalendar] | None = None
        self._mutex = threading.Lock()

    def get(self, key: int | None) -> WorkingCalendar | None:
        with self._mutex:
            entry = self._entry
        return entry[1] if entry is not None and entry[0] == key else None

    def put(self, key: int | None, calendar: WorkingCalendar) -> None:
        with self._mutex:
            if self._entry is None or self._entry[0] is None or (key is not None and key >= self._entry[0]):
                self._entry = (key, calendar)

    def clear(self) -> None:
        with self._mutex:
            self._entry = None


def cached(session: Session, cache: CalendarCache, settings: dict[str, Any] | None = None) -> WorkingCalendar:
    """The calendar as of this transaction: the kept one when no change came since, else read anew."""
    key = session.scalar(_LAST_CHANGE)
    calendar = cache.get(key)
    if calendar is None:
        calendar = load(session, settings)
        session.info.setdefault(_PENDING, []).append((cache, key, calendar))
    return calendar


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    for cache, key, calendar in session.info.pop(_PENDING, []):
        cache.put(key, calendar)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def company_days(session: Session, kind: str | None = None) -> list[CalendarDay]:
    q = select(CalendarDay).order_by(CalendarDay.day)
    return list(session.scalars(q.where(CalendarDay.kind == kind) if kind else q))


def changes(session: Session, limit: int = 50) -> list[CalendarChange]:
    return list(session.scalars(select(CalendarChange).order_by(CalendarChange.id.desc()).limit(limit)))


def imports(session: Session) -> list[CalendarImport]:
    return list(session.scalars(select(CalendarImport).order_by(CalendarImport.year)))


def parse_day(text: Any) -> date:
    try:
        day = date.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidRequest(f"'{text}' is not a date (YYYY-MM-DD)") from None
    if not 2000 <= day.year <= 2100:
        raise InvalidRequest(f"{day} is out of range (2000–2100)")
    return day


def _admin(actor: Actor) -> None:
    access.require(access.may(actor, "change_calendar"), "only admins change the company calendar")


def add_day(session: Session, actor: Actor, day_text: Any, kind: Any, reason: Any, now: datetime,
            calendar: WorkingCalendar) -> CalendarChange:
    """A company closed day or extra working day; a day the calendar already treats so is refused."""
    _admin(actor)
    day = parse_day(day_text)
    if kind not in DAY_KINDS:
        raise InvalidRequest(f"kind must be 'closed' or 'working', not '{kind}'")
    reason = "" if reason is None else str(reason).strip()
    if len(reason) > 200:
        raise InvalidRequest("the reason is longer than 200 characters")
    existing = session.get(CalendarDay, day)
    if existing is not None:
        raise Conflict(f"{day} is already a company {existing.kind} day")
    current = calendar.day(day)
    if current.working == (kind == "working"):
        what = "a working day" if current.working else f"a day off ({current.name or 'weekend'})"
        raise InvalidRequest(f"{day} is already {what}")
    session.add(CalendarDay(day=day, kind=kind, reason=reason, added_by=actor.username, added_at=now))
    return _log(session, actor, now, "add_day", day=day, detail={"kind": kind, "reason": reason})


def remove_day(session: Session, actor: Actor, day_text: str, now: datetime, kind: str | None = None) -> CalendarChange:
    _admin(actor)
    day = parse_day(day_text)
    row = session.get(CalendarDay, day)
    if row is None or (kind and row.kind != kind):
        raise NotFound(f"{day} is not a company {kind or 'calendar'} day")
    session.delete(row)
    return _log(session, actor, now, "remove_day", day=day, detail={"kind": row.kind, "reason": row.reason})


def import_schedule(session: Session, actor: Actor, filename: str, content: bytes, now: datetime,
                    year: int | None = None) -> CalendarChange:
    """Replace a year's official days by the uploaded schedule (nothing changes if it has a problem)."""
    _admin(actor)
    schedule = calendar_import.read(filename, content, year)
    taken = session.execute(select(ImportedDay.day, ImportedDay.year).where(
        ImportedDay.day.in_([d.day for d in schedule.days]), ImportedDay.year != schedule.year)).all()
    if taken:
        lines = {d.day: d.line for d in schedule.days}
        raise ScheduleInvalid(filename, [(lines[d], f"{d} belongs to the imported schedule of {y}") for d, y in taken])
    replaced = session.get(CalendarImport, schedule.year)
    if replaced is not None:
        session.execute(delete(ImportedDay).where(ImportedDay.year == schedule.year))
        replaced.filename, replaced.imported_by, replaced.imported_at = filename[:300], actor.username, now
    else:
        session.add(CalendarImport(year=schedule.year, filename=filename[:300], imported_by=actor.username,
                                   imported_at=now))
    session.flush()
    session.add_all(ImportedDay(day=d.day, year=schedule.year, kind=d.kind, name=d.name[:200]) for d in schedule.days)
    return _log(session, actor, now, "import", year=schedule.year, detail={
        "filename": filename[:300], "replaced": replaced is not None,
        "holidays": sum(d.kind == "holiday" for d in schedule.days),
        "working": sum(d.kind == "working" for d in schedule.days)})


def _log(session: Session, actor: Actor, now: datetime, action: str, *, day: date | None = None,
         year: int | None = None, detail: dict | None = None) -> CalendarChange:
    change = CalendarChange(at=now, by=actor.username, action=action, day=day,
                            year=year if year is not None else (day.year if day else None), detail=detail)
    session.add(change)
    session.flush()
    return change


# --- reading -------------------------------------------------------------------------------


def year_view(calendar: WorkingCalendar, year: int) -> dict:
    """Every day of ``year`` that differs from Monday–Friday, with its kind, source and name."""
    days = []
    day = date(year, 1, 1)
    while day.year == year:
        d = calendar.day(day)
        if d.working != (day.weekday() < 5):
            days.append({"day": day.isoformat(), "kind": "working" if d.working else "holiday",
                         "source": d.source, "name": d.name})
        day += timedelta(days=1)
    return {"year": year, "coverage": calendar.coverage(year), "days": days,
            "library": official_calendar.SOURCE, "time_zone": str(calendar.tz), "working_hours": str(calendar.hours)}


def coverage_status(calendar: WorkingCalendar, today: date) -> dict:
    """``official_until`` — the last day of published (or imported) data from ``today`` on — and a
    warning when any day of the next 90 days lies in a year without it."""
    year = today.year
    while calendar.covers(year) and year <= 2100:
        year += 1
    official_until = date(year - 1, 12, 31)
    horizon = today + WARNING_HORIZON
    short = [y for y in range(today.year, horizon.year + 1) if not calendar.covers(y)]
    warning = None
    if short:
        warning = "; ".join(
            f"{y}: holiday data is {calendar.coverage(y)} ({official_calendar.SOURCE}) — import the State Council's "
            f"schedule for {y} on the calendar page" for y in short)
    return {"official_until": official_until.isoformat(), "warning": warning,
            "years": {str(y): calendar.coverage(y) for y in range(today.year, horizon.year + 1)}}


def warn_admins(session: Session, calendar: WorkingCalendar, now: datetime) -> int:
    """One notice to the admins per year that lacks published data within the horizon (never daily)."""
    status = coverage_status(calendar, now.astimezone(calendar.tz).date())
    queued = 0
    for year, kind in status["years"].items():
        if kind in ("official", "imported"):
            continue
        key = f"calendar-coverage:{year}"
        if session.scalars(select(Notification.id).where(Notification.dedupe_key == key)).first() is not None:
            continue
        notifications.queue(
            session, kind="calendar", recipient="group:admin", now=now, dedupe_key=key,
            subject=f"{year} 年节假日安排缺失 Holiday schedule for {year} missing",
            body=(f"{year} 年只有推算的节假日数据（{kind}），调休上班日未知：请在日历页面导入国务院公布的 {year} 年安排。\n"
                  f"The holiday data for {year} is {kind}; import the official schedule on the calendar page."))
        queued += 1
    return queued
