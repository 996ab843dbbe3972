"""The working calendar kept in process memory: a step never counts a deadline on a calendar that
another process, or a rolled-back change, made stale."""

from __future__ import annotations

from datetime import UTC, datetime

import handlers
from engine.users import Actor
from engine.wiring import build
from tests.conftest import DATA

ADMIN = Actor("admin", frozenset({"admin"}))
CS = Actor("customer_service", frozenset({"customer_service"}))
DUE = (DATA / "lanes.bpmn").read_bytes().replace(b'camunda:dueDate="PT1H"', b'camunda:dueDate="${working_days(1)}"')
MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 23 Nov 2026, 10:00 in Shanghai
TUESDAY_10 = "2026-11-24T02:00:00+00:00"
WEDNESDAY_10 = "2026-11-25T02:00:00+00:00"


def due_of_a_new_case(engine, sessions) -> str:
    with sessions() as s:
        inst = engine.start(s, "lanes", CS, variables={"picker": "x"})
        s.commit()
        (task,) = engine.open_tasks(s, inst.id)
        return task.due_at.replace(tzinfo=UTC).isoformat() if task.due_at.tzinfo is None else task.due_at.isoformat()


def test_a_change_made_by_another_process_counts_at_the_next_step(core, database_url, clock):
    engine, sessions = core
    clock.set(MONDAY_10)
    with sessions() as s:
        engine.deploy(s, {"lanes.bpmn": DUE}, ADMIN)
        s.commit()
    assert due_of_a_new_case(engine, sessions) == TUESDAY_10  # this process now keeps the calendar

    other, other_sessions, other_db = build(handlers.default_registry(), database_url, clock=clock, create=False)
    try:
        with other_sessions() as s:
            other.add_calendar_day(s, ADMIN, "2026-11-24", "closed", "盘点")
            s.commit()
    finally:
        other_db.dispose()

    assert due_of_a_new_case(engine, sessions) == WEDNESDAY_10


def test_a_rolled_back_change_is_never_kept(core, clock):
    engine, sessions = core
    clock.set(MONDAY_10)
    with sessions() as s:
        engine.deploy(s, {"lanes.bpmn": DUE}, ADMIN)
        s.commit()
    with sessions() as s:
        engine.add_calendar_day(s, ADMIN, "2026-11-24", "closed", "盘点")
        inst = engine.start(s, "lanes", CS, variables={"picker": "x"})  # counted on the uncommitted calendar
        assert engine.open_tasks(s, inst.id)[0].due_at is not None
        s.rollback()
    assert due_of_a_new_case(engine, sessions) == TUESDAY_10

    # The next change may get the rolled-back change's id (SQLite reuses it): a day closed next month
    # leaves the deadline on Tuesday; a calendar kept from the rolled-back change would not.
    with sessions() as s:
        engine.add_calendar_day(s, ADMIN, "2026-12-01", "closed", "培训")
        s.commit()
    assert due_of_a_new_case(engine, sessions) == TUESDAY_10
