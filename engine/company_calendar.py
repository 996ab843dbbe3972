"""Company closed days, kept in the database, and the working calendar built from them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import access
from .errors import Conflict, InvalidRequest, NotFound
from .models import ClosedDay
from .users import Actor
from .working_days import WorkingCalendar


def load(session: Session) -> WorkingCalendar:
    return WorkingCalendar(session.scalars(select(ClosedDay.day)))


def closed_days(session: Session) -> list[ClosedDay]:
    return list(session.scalars(select(ClosedDay).order_by(ClosedDay.day)))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidRequest(f"'{text}' is not a date (YYYY-MM-DD)") from None


def add_closed_day(session: Session, actor: Actor, day: str, reason: str, now: datetime) -> ClosedDay:
    access.require(access.may(actor, "change_calendar"), "only admins change the company calendar")
    when = _day(day)
    if session.get(ClosedDay, when) is not None:
        raise Conflict(f"{when} is already a closed day")
    row = ClosedDay(day=when, reason=reason or "", added_by=actor.username, added_at=now)
    session.add(row)
    session.flush()
    return row


def remove_closed_day(session: Session, actor: Actor, day: str) -> None:
    access.require(access.may(actor, "change_calendar"), "only admins change the company calendar")
    row = session.get(ClosedDay, _day(day))
    if row is None:
        raise NotFound(f"{day} is not a closed day")
    session.delete(row)
    session.flush()
