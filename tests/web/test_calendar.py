"""Admins own the working calendar; due dates and working-time timers follow every change.

Dates are set on the injected clock, never read from the system: the suite passes on any day.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.models import HistoryEntry, Notification, Timer
from tests.conftest import DATA, start_case
from tests.web.test_complaint import COMPLAINT
from tests.web.test_repair_flow import REQUEST

DUE = (DATA / "lanes.bpmn").read_bytes().replace(b'camunda:dueDate="PT1H"', b'camunda:dueDate="${working_days(1)}"')
ICS = (DATA / "calendar" / "schedule_2027_test.ics").read_bytes()
MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 23 Nov 2026, 10:00 in Shanghai


def upload(api, user, content: bytes, name="2027.ics", year=None):
    data = {"file": (io.BytesIO(content), name)} | ({"year": str(year)} if year else {})
    return api.client.post("/api/calendar/import", headers={**api._headers(user), "X-Requested-With": "test"}, data=data,
                           content_type="multipart/form-data")


def delete(api, user, path):
    return api.client.delete(path, headers=api._headers(user), json={})


def test_closed_days_shift_working_day_due_dates(api, clock):
    clock.set(MONDAY_10)
    assert api.post("customer_service", "/api/calendar/closed-days", {"day": "2026-11-24"}).status_code == 403
    r = api.post("admin", "/api/calendar/closed-days", {"day": "2026-11-24", "reason": "盘点 stocktaking"})
    assert r.status_code == 201
    assert api.post("admin", "/api/calendar/closed-days", {"day": "2026-11-24"}).status_code == 409
    assert api.post("admin", "/api/calendar/closed-days", {"day": "tomorrow"}).status_code == 400
    assert [d["day"] for d in api.get("customer_service", "/api/calendar/closed-days").json] == ["2026-11-24"]

    assert api.deploy("owner", {"lanes.bpmn": DUE}).status_code == 201
    inst = api.post("customer_service", "/api/process-definitions/lanes/start", {"variables": {"picker": "x"}}).json
    assert inst["tasks"][0]["due_at"] == "2026-11-25T02:00:00+00:00"  # Wednesday 10:00: Tuesday is closed

    assert delete(api, "admin", "/api/calendar/closed-days/2026-11-24").status_code == 204
    inst = api.post("customer_service", "/api/process-definitions/lanes/start", {"variables": {"picker": "x"}}).json
    assert inst["tasks"][0]["due_at"] == "2026-11-24T02:00:00+00:00"


def test_a_closed_day_added_later_moves_the_open_task_and_the_history_says_so(api, app, clock):
    clock.set(MONDAY_10)
    assert api.deploy("owner", {"lanes.bpmn": DUE}).status_code == 201
    inst = api.post("customer_service", "/api/process-definitions/lanes/start", {"variables": {"picker": "x"}}).json
    task = inst["tasks"][0]
    assert task["due_at"] == "2026-11-24T02:00:00+00:00"

    clock.set(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))  # the admin closes Tuesday four hours later
    r = api.post("admin", "/api/calendar/days", {"day": "2026-11-24", "kind": "closed", "reason": "盘点"})
    assert r.status_code == 201 and r.json["detail"]["moved"] == {"tasks": 1, "timers": 0}
    # counted again from when the task opened (Mon 10:00), not from the change: Wed 10:00
    assert api.get("customer_service", f"/api/tasks/{task['id']}").json["due_at"] == "2026-11-25T02:00:00+00:00"
    moves = [h for h in api.get("admin", f"/api/process-instances/{inst['id']}/history").json["entries"]
             if h["kind"] == "due_moved"]
    assert [(m["completed_by"], m["data"]["due_from"], m["data"]["due_to"]) for m in moves] == [
        ("admin", "2026-11-24T02:00:00+00:00", "2026-11-25T02:00:00+00:00")]

    assert delete(api, "admin", "/api/calendar/days/2026-11-24").json["detail"]["moved"]["tasks"] == 1
    assert api.get("customer_service", f"/api/tasks/{task['id']}").json["due_at"] == "2026-11-24T02:00:00+00:00"
    log = api.get("admin", "/api/calendar/changes").json
    assert [(c["action"], c["by"], c["day"]) for c in log] == [("remove_day", "admin", "2026-11-24"),
                                                              ("add_day", "admin", "2026-11-24")]


def test_a_working_saturday_counts_for_new_deadlines(api, clock):
    clock.set(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))  # Friday 10:00
    assert api.deploy("owner", {"lanes.bpmn": DUE}).status_code == 201
    r = api.post("admin", "/api/calendar/days", {"day": "2026-11-28", "kind": "working", "reason": "年末冲量"})
    assert r.status_code == 201
    inst = api.post("customer_service", "/api/process-definitions/lanes/start", {"variables": {"picker": "x"}}).json
    assert inst["tasks"][0]["due_at"] == "2026-11-28T02:00:00+00:00"  # Saturday 10:00, not Monday
    days = api.get("customer_service", "/api/calendar?year=2026").json["days"]
    assert {"day": "2026-11-28", "kind": "working", "source": "company", "name": "年末冲量"} in days


def test_a_pending_working_time_timer_moves_with_the_calendar(running, clock):
    clock.set(MONDAY_10)
    iid = start_case(running, "complaint", COMPLAINT)["id"]  # forward: 1 working day, escalation timer alike

    def timer_due():
        with running.sessions() as s:
            return [t.due_at.replace(tzinfo=UTC) for t in s.scalars(select(Timer).where(Timer.instance_id == iid))]

    assert timer_due() == [datetime(2026, 11, 24, 2, 0, tzinfo=UTC)]
    r = running.post("admin", "/api/calendar/days", {"day": "2026-11-24", "kind": "closed"})
    assert r.json["detail"]["moved"] == {"tasks": 1, "timers": 1}
    assert timer_due() == [datetime(2026, 11, 25, 2, 0, tzinfo=UTC)]
    clock.set(datetime(2026, 11, 24, 2, 1, tzinfo=UTC))  # the old deadline has passed: nothing fires
    assert running.scheduler.run_once() == 0
    clock.set(datetime(2026, 11, 25, 2, 1, tzinfo=UTC))
    assert running.scheduler.run_once() == 1
    tasks = running.get("supervisor", f"/api/process-instances/{iid}").json["tasks"]
    assert sorted(t["element_id"] for t in tasks) == ["deadline_escalation", "forward"]


def test_spring_festival_2027_and_an_imported_schedule_overriding_the_library(deployed, clock):
    clock.set(datetime(2027, 2, 4, 10, 0, tzinfo=UTC))  # Thursday 4 Feb 2027, 18:00 in Shanghai
    inst = start_case(deployed, "repair", REQUEST)
    (scope,) = inst["tasks"]
    # Plain Monday–Friday said Tue 9 Feb 09:00, inside the holiday; the estimated calendar says Mon 15 Feb.
    assert scope["element_id"] == "check_scope" and scope["due_at"] == "2027-02-15T01:00:00+00:00"
    view = deployed.get("customer_service", "/api/calendar?year=2027").json
    assert view["coverage"] == "estimated"
    assert {"day": "2027-02-09", "kind": "holiday", "source": "estimated", "name": "春节（补假）"} in view["days"]

    assert upload(deployed, "customer_service", ICS).status_code == 403
    r = upload(deployed, "admin", ICS)
    assert r.status_code == 201, r.json
    assert r.json["year"] == 2027 and r.json["detail"]["holidays"] == 11 and r.json["detail"]["working"] == 2
    # the import's working Sunday 14 Feb starts the count: Mon 15, Tue 16 Feb 09:00
    assert deployed.get("customer_service", f"/api/tasks/{scope['id']}").json["due_at"] == "2027-02-16T01:00:00+00:00"
    view = deployed.get("customer_service", "/api/calendar?year=2027").json
    assert view["coverage"] == "imported"
    by_day = {d["day"]: d for d in view["days"]}
    assert by_day["2027-02-14"] == {"day": "2027-02-14", "kind": "working", "source": "imported", "name": "春节 班"}
    assert "2027-10-01" not in by_day  # the library's estimate no longer counts for an imported year

    again = upload(deployed, "admin", (DATA / "calendar" / "schedule_2027_test.csv").read_bytes(), "2027.csv")
    assert again.status_code == 201 and again.json["detail"]["replaced"] is True


def test_a_bad_schedule_or_day_is_refused_naming_what_is_wrong_and_changes_nothing(api, clock):
    clock.set(MONDAY_10)
    before = api.get("admin", "/api/calendar?year=2027").json
    r = upload(api, "admin", b"2027-02-05,holiday\n2027-02-05,working\n2027-02-31,holiday\n", "bad.csv")
    assert r.status_code == 400
    assert r.json["errors"] == [
        {"file": "bad.csv", "line": 2, "message": "2027-02-05 is listed twice (first on line 1)"},
        {"file": "bad.csv", "line": 3, "message": "'2027-02-31' is not a date (YYYY-MM-DD)"}]
    assert upload(api, "admin", b"BEGIN:VCALENDAR\nBEGIN:VEVENT\n", "broken.ics").status_code == 400
    assert api.post("admin", "/api/calendar/import").status_code == 400
    assert api.get("admin", "/api/calendar?year=2027").json == before
    assert api.get("admin", "/api/calendar/changes").json == []

    for body, status, error in [
        ({"day": "2026-11-24", "kind": "holiday"}, 400, "kind must be 'closed' or 'working', not 'holiday'"),
        ({"day": "2026-11-24", "kind": "working"}, 400, "2026-11-24 is already a working day"),
        ({"day": "2026-10-01", "kind": "closed"}, 400, "2026-10-01 is already a day off (国庆节)"),
        ({"day": "1999-01-04", "kind": "closed"}, 400, "1999-01-04 is out of range (2000–2100)"),
        ({"day": 20261124, "kind": "closed"}, 400, "'20261124' is not a date (YYYY-MM-DD)"),
    ]:
        r = api.post("admin", "/api/calendar/days", body)
        assert (r.status_code, r.json["error"]) == (status, error)
    assert api.post("admin", "/api/calendar/days", {"day": "2026-11-24", "kind": "closed"}).status_code == 201
    r = api.post("admin", "/api/calendar/days", {"day": "2026-11-24", "kind": "closed"})
    assert (r.status_code, r.json["error"]) == (409, "2026-11-24 is already a company closed day")
    assert delete(api, "admin", "/api/calendar/days/2026-11-25").status_code == 404
    assert api.get("admin", "/api/calendar?year=20x7").status_code == 400


@pytest.mark.parametrize(("now", "until", "warned"), [
    (datetime(2026, 6, 1, 2, tzinfo=UTC), "2026-12-31", False),  # the next 90 days stay in 2026
    (datetime(2026, 11, 15, 2, tzinfo=UTC), "2026-12-31", True),  # they reach 2027, only estimated
    (datetime(2027, 3, 1, 2, tzinfo=UTC), "2026-12-31", True),
])
def test_health_warns_when_the_next_90_days_reach_a_year_without_official_data(api, clock, now, until, warned):
    clock.set(now)
    calendar = api.client.get("/health").json["calendar"]
    assert calendar["official_until"] == until
    assert (calendar["warning"] is not None) == warned
    if warned:
        assert calendar["warning"].startswith("2027: holiday data is estimated")


def test_an_imported_year_ends_the_warning_and_admins_are_told_once(running, clock):
    from web.scheduler import TimerScheduler

    clock.set(datetime(2026, 11, 15, 2, tzinfo=UTC))
    scheduler = TimerScheduler(running.scheduler.engine, running.sessions)
    assert scheduler.check_calendar(every_seconds=0) == 1
    assert scheduler.check_calendar(every_seconds=0) == 0  # a later round: no second notice
    with running.sessions() as s:
        notes = s.scalars(select(Notification).where(Notification.kind == "calendar")).all()
        assert [(n.recipient, n.subject) for n in notes] == [
            ("group:admin", "2027 年节假日安排缺失 Holiday schedule for 2027 missing")]
    assert upload(running, "admin", ICS).status_code == 201
    assert running.client.get("/health").json["calendar"] == {"official_until": "2027-12-31", "warning": None}


def test_due_moves_are_in_the_history_table_with_who(api, app, clock):
    clock.set(MONDAY_10)
    api.deploy("owner", {"lanes.bpmn": DUE})
    api.post("customer_service", "/api/process-definitions/lanes/start", {"variables": {"picker": "x"}})
    api.post("admin", "/api/calendar/days", {"day": "2026-11-24", "kind": "closed"})
    with app.extensions["aftersales"]["sessions"]() as s:
        (entry,) = s.scalars(select(HistoryEntry).where(HistoryEntry.kind == "due_moved")).all()
        assert entry.completed_by == "admin" and entry.data["reason"] == "calendar: 2026-11-24 closed"
