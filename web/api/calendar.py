"""The working calendar: the year as it is counted, company days, imported schedules (admins change it).

Every change counts the rule-based due dates of open tasks and pending timers again, in the same
transaction, and says how many moved.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from engine import access, company_calendar
from engine.errors import InvalidRequest
from engine.instances import iso

from ..auth import current_actor, login_required
from ..context import db, engine
from .body import json_body

bp = Blueprint("calendar", __name__)


def _year(text: str | None) -> int | None:
    if text in (None, ""):
        return None
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise InvalidRequest(f"year must be a year between 2000 and 2100, not '{text}'")
    return int(text)


def _day_json(d) -> dict:
    return {"day": d.day.isoformat(), "kind": d.kind, "reason": d.reason, "added_by": d.added_by,
            "added_at": iso(d.added_at)}


@bp.get("/calendar")
@login_required
def year():
    cal = engine().calendar(db())
    today = engine().clock.now().astimezone(cal.tz).date()
    view = company_calendar.year_view(cal, _year(request.args.get("year")) or today.year)
    return jsonify({**view, "status": company_calendar.coverage_status(cal, today)})


@bp.post("/calendar/days")
@login_required
def add_day():
    body = json_body()
    return jsonify(engine().add_calendar_day(db(), current_actor(), body.get("day"), body.get("kind"),
                                             body.get("reason", ""))), 201


@bp.delete("/calendar/days/<day>")
@login_required
def remove_day(day: str):
    return jsonify(engine().remove_calendar_day(db(), current_actor(), day))


@bp.post("/calendar/import")
@login_required
def import_schedule():
    access.require(access.may(current_actor(), "change_calendar"), "only admins change the company calendar")
    upload = request.files.get("file")
    if upload is None:
        raise InvalidRequest("send the schedule as the multipart field 'file' (.ics or a table of dates)")
    return jsonify(engine().import_calendar(db(), current_actor(), upload.filename or "schedule", upload.read(),
                                            _year(request.form.get("year")))), 201


@bp.get("/calendar/changes")
@login_required
def changes():
    return jsonify([{"id": c.id, "at": iso(c.at), "by": c.by, "action": c.action,
                     "day": c.day.isoformat() if c.day else None, "year": c.year, "detail": c.detail}
                    for c in company_calendar.changes(db(), limit=200)])


# The first API, kept working: company closed days only.

@bp.get("/calendar/closed-days")
@login_required
def list_closed_days():
    return jsonify([_day_json(d) for d in company_calendar.company_days(db(), "closed")])


@bp.post("/calendar/closed-days")
@login_required
def add_closed_day():
    access.require(access.may(current_actor(), "change_calendar"), "only admins change the company calendar")
    body = json_body()
    if not isinstance(body.get("day"), str):
        raise InvalidRequest("give the day as {\"day\": \"YYYY-MM-DD\", \"reason\": \"...\"}")
    engine().add_calendar_day(db(), current_actor(), body["day"], "closed", body.get("reason", ""))
    return jsonify({"day": body["day"], "reason": str(body.get("reason", ""))}), 201


@bp.delete("/calendar/closed-days/<day>")
@login_required
def remove_closed_day(day: str):
    engine().remove_calendar_day(db(), current_actor(), day, kind="closed")
    return "", 204
