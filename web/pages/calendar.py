"""The calendar page for admins: a year in months (holidays, working weekends, company days,
imported schedules marked), company days added and removed, a year's schedule imported, the log
of changes, and the working-time settings. Every change goes through the engine, which counts
rule-based due dates again."""

from __future__ import annotations

import calendar as month_calendar
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from engine import company_calendar
from engine.errors import AftersalesError, NotPermitted, ScheduleInvalid

from ..context import db, engine
from .labels import translate_error
from .login import actor

bp = Blueprint("calendar_page", __name__, url_prefix="/admin/calendar")

SOURCES = {"official": _l("State Council schedule"), "estimated": _l("estimated by rule"),
           "imported": _l("imported"), "company": _l("company"), "weekday": _l("no data: Monday–Friday"),
           "unknown": _l("no data: Monday–Friday")}
MONTHS = [_l("January"), _l("February"), _l("March"), _l("April"), _l("May"), _l("June"), _l("July"),
          _l("August"), _l("September"), _l("October"), _l("November"), _l("December")]
WEEKDAYS = [_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun")]


@bp.before_request
@login_required
def _only_owners():
    if not actor().groups & {"admin", "process_owner"}:
        raise NotPermitted(_("Only admins and process owners manage flows."))


def _months(cal, year: int, today: date) -> list[dict]:
    months = []
    for month in range(1, 13):
        weeks = []
        for week in month_calendar.Calendar().monthdatescalendar(year, month):
            cells = []
            for day in week:
                d = cal.day(day)
                normal = day.weekday() < 5
                cells.append({"day": day, "in_month": day.month == month, "working": d.working, "source": d.source,
                              "name": d.name, "differs": d.working != normal, "today": day == today})
            weeks.append(cells)
        months.append({"month": month, "weeks": weeks})
    return months


@bp.get("/")
def show():
    cal = engine().calendar(db())
    today = engine().clock.now().astimezone(cal.tz).date()
    year_text = request.args.get("year", "")
    year = int(year_text) if year_text.isdigit() and 2000 <= int(year_text) <= 2100 else today.year
    return render_template("admin/calendar.html", year=year, months=_months(cal, year, today), weekdays=WEEKDAYS, month_names=MONTHS,
                           view=company_calendar.year_view(cal, year), sources=SOURCES,
                           status=company_calendar.coverage_status(cal, today),
                           company=company_calendar.company_days(db()), imports=company_calendar.imports(db()),
                           changes=company_calendar.changes(db()), problems=None)


def _back(year: int | None = None):
    return redirect(url_for("calendar_page.show", year=year or request.form.get("year") or None))


def _moved(result: dict) -> None:
    moved = result["detail"]["moved"]
    flash(_("Calendar changed; %(tasks)s task deadlines and %(timers)s timers were counted again.",
            tasks=moved["tasks"], timers=moved["timers"]))


@bp.post("/days")
def add_day():
    try:
        result = engine().add_calendar_day(db(), actor(), request.form.get("day"), request.form.get("kind"),
                                           request.form.get("reason", ""))
    except AftersalesError as exc:
        db().rollback()
        flash(_("Not changed: %(reason)s", reason=translate_error(str(exc))), "error")
        return _back()
    _moved(result)
    return _back(int(result["day"][:4]))


@bp.post("/days/<day>/delete")
def remove_day(day: str):
    try:
        result = engine().remove_calendar_day(db(), actor(), day)
    except AftersalesError as exc:
        db().rollback()
        flash(_("Not changed: %(reason)s", reason=translate_error(str(exc))), "error")
        return _back()
    _moved(result)
    return _back(int(day[:4]))


@bp.post("/import")
def import_schedule():
    upload = request.files.get("file")
    year = request.form.get("year", "")
    if upload is None or not upload.filename:
        flash(_("Choose a file to import."), "error")
        return _back()
    try:
        result = engine().import_calendar(db(), actor(), upload.filename, upload.read(),
                                          int(year) if year.isdigit() else None)
    except ScheduleInvalid as exc:
        db().rollback()
        problems = [(line, translate_error(message)) for line, message in exc.problems]
        return _page_with_problems(exc.filename, problems)
    except AftersalesError as exc:
        db().rollback()
        flash(_("Not changed: %(reason)s", reason=translate_error(str(exc))), "error")
        return _back()
    _moved(result)
    return _back(result["year"])


def _page_with_problems(filename: str, problems: list):
    cal = engine().calendar(db())
    today = engine().clock.now().astimezone(cal.tz).date()
    return render_template("admin/calendar.html", year=today.year, months=_months(cal, today.year, today),
                           weekdays=WEEKDAYS, month_names=MONTHS, view=company_calendar.year_view(cal, today.year), sources=SOURCES,
                           status=company_calendar.coverage_status(cal, today),
                           company=company_calendar.company_days(db()), imports=company_calendar.imports(db()),
                           changes=company_calendar.changes(db()), problems=problems, filename=filename), 400


def warning_years() -> list[tuple[str, str]]:
    """Years of the next 90 days without published holiday data, for the admin pages' banner."""
    cal = engine().calendar(db())
    status = company_calendar.coverage_status(cal, engine().clock.now().astimezone(cal.tz).date())
    return [(year, str(SOURCES[kind])) for year, kind in status["years"].items() if kind not in ("official", "imported")]
