"""The company calendar: closed days on top of China's official holidays (admins change it)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from engine import access, company_calendar
from engine.errors import InvalidRequest
from engine.instances import iso

from ..auth import current_actor, login_required
from ..context import db, engine
from .body import json_body

bp = Blueprint("calendar", __name__)


@bp.get("/calendar/closed-days")
@login_required
def list_closed_days():
    return jsonify([{"day": d.day.isoformat(), "reason": d.reason, "added_by": d.added_by,
                     "added_at": iso(d.added_at)} for d in company_calendar.closed_days(db())])


@bp.post("/calendar/closed-days")
@login_required
def add_closed_day():
    access.require(access.may(current_actor(), "change_calendar"), "only admins change the company calendar")
    body = json_body()
    if not isinstance(body.get("day"), str):
        raise InvalidRequest("give the day as {\"day\": \"YYYY-MM-DD\", \"reason\": \"...\"}")
    row = company_calendar.add_closed_day(db(), current_actor(), body["day"], str(body.get("reason", "")),
                                          engine().clock.now())
    return jsonify({"day": row.day.isoformat(), "reason": row.reason}), 201


@bp.delete("/calendar/closed-days/<day>")
@login_required
def remove_closed_day(day: str):
    company_calendar.remove_closed_day(db(), current_actor(), day)
    return "", 204
