"""Admins keep the company calendar; due dates written as ``${working_days(n)}`` follow it."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import DATA

DUE = (DATA / "lanes.bpmn").read_bytes().replace(b'camunda:dueDate="PT1H"', b'camunda:dueDate="${working_days(1)}"')


def test_closed_days_shift_working_day_due_dates(api, clock):
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # Monday 10:00 in Shanghai
    assert api.post("customer_service", "/api/calendar/closed-days", {"day": "2026-11-24"}).status_code == 403
    r = api.post("admin", "/api/calendar/closed-days", {"day": "2026-11-24", "reason": "盘点 stocktaking"})
    assert r.status_code == 201
    assert api.post("admin", "/api/calendar/closed-days", {"day": "2026-11-24"}).status_code == 409
    assert api.post("admin", "/api/calendar/closed-days", {"day": "tomorrow"}).status_code == 400
    assert [d["day"] for d in api.get("customer_service", "/api/calendar/closed-days").json] == ["2026-11-24"]

    assert api.deploy("owner", {"lanes.bpmn": DUE}).status_code == 201
    inst = api.post("customer_service", "/api/process-definitions/lanes/start", {"variables": {"picker": "x"}}).json
    assert inst["tasks"][0]["due_at"] == "2026-11-25T02:00:00+00:00"  # Wednesday 10:00: Tuesday is closed

    assert api.client.delete("/api/calendar/closed-days/2026-11-24", headers=api._headers("admin"), json={}).status_code == 204
    inst = api.post("customer_service", "/api/process-definitions/lanes/start", {"variables": {"picker": "x"}}).json
    assert inst["tasks"][0]["due_at"] == "2026-11-24T02:00:00+00:00"
