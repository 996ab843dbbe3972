"""The background round costs what is due, not the backlog (issue 17): an idle round reads through
indexes in one read-only statement and takes no write lock; delivered outbox rows and notified
overdue tasks are not read again; a case in error does not keep its timer in every round."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import notifications
from engine.models import Instance, Notification, Timer, User
from engine.users import Actor
from tests.conftest import DATA
from web import jobs
from web.scheduler import TimerScheduler

CS = Actor("customer_service", frozenset({"customer_service"}))
OWNER = Actor("o", frozenset({"admin"}))


class Recorder:
    def __init__(self):
        self.sent: list[str] = []

    def send(self, address, subject, body):
        self.sent.append(subject)


def _sqlite_path(sessions) -> str | None:
    url = sessions.kw["bind"].url
    return url.database if url.get_backend_name() == "sqlite" else None


def test_an_idle_round_runs_while_another_writer_holds_the_database(core, clock):
    """On SQLite a request that writes holds the write lock; a round with nothing due only reads, so
    it neither waits for that writer nor makes a writer wait for it."""
    engine, sessions = core
    path = _sqlite_path(sessions)
    if path is None:
        pytest.skip("SQLite's write lock")
    worker = TimerScheduler(engine, sessions, sender=Recorder())
    worker.check_calendar()  # the hourly calendar check writes (and may queue a notice); the rounds after it do not
    worker.run_notifications()
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        assert not jobs.due_work(engine, worker.read_sessions)
        assert [worker.run_due() for _ in range(5)] == [0] * 5
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_an_overdue_task_is_notified_once_by_the_running_round(core, clock):
    engine, sessions = core
    with sessions() as s:
        for u in s.scalars(select(User)):
            u.email = f"{u.username}@example.com"
        engine.deploy(s, {"lanes.bpmn": (DATA / "lanes.bpmn").read_bytes()}, OWNER)
        engine.start(s, "lanes", CS, variables={"picker": "bob"})
        s.commit()
    sender = Recorder()
    worker = TimerScheduler(engine, sessions, sender=sender)
    clock.advance(hours=2)
    for _ in range(10):
        worker.run_due()
        clock.advance(minutes=30)
    assert [s for s in sender.sent if "overdue" in s] == ["任务已超时 Task overdue: Call back"]
    assert not jobs.due_work(engine, worker.read_sessions)


def test_delivered_rows_are_not_due_work_and_the_claim_skips_them(core, clock):
    engine, sessions = core
    with sessions() as s:
        for i in range(30):
            notifications.queue(s, kind="customer", recipient=f"email:c{i}@example.com", subject=f"old {i}", body="",
                                now=clock.now())
        s.commit()
    sender = Recorder()
    assert jobs.deliver_due_notifications(engine, sessions, sender) == (30, 0)
    clock.advance(hours=1)
    assert not jobs.due_work(engine, sessions).outbox
    with sessions() as s:
        notifications.queue(s, kind="customer", recipient="email:new@example.com", subject="new", body="",
                            now=clock.now())
        s.commit()
    assert jobs.due_work(engine, sessions).outbox
    assert jobs.deliver_due_notifications(engine, sessions, sender) == (1, 0)
    assert sender.sent[-1] == "new" and len(sender.sent) == 31


def test_the_round_reads_due_rows_through_partial_indexes(core, clock):
    """The plans, on SQLite: the outbox claim and the overdue look-up read their partial indexes,
    which hold only undelivered rows and unnotified tasks."""
    engine, sessions = core
    if _sqlite_path(sessions) is None:
        pytest.skip("SQLite's planner output")
    now = clock.now()
    with sessions() as s:
        claim = notifications.undelivered_due(now).order_by(Notification.next_attempt_at, Notification.id).limit(50)
        overdue = notifications.overdue_unnotified(now).limit(100)
        plans = {}
        for name, query in (("claim", claim), ("overdue", overdue)):
            sql = str(query.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
            plans[name] = " ".join(row[-1] for row in s.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "ix_notifications_undelivered" in plans["claim"]
    assert "ix_open_tasks_overdue_due" in plans["overdue"]


def test_a_case_in_error_does_not_keep_its_due_timer_in_every_round(core, clock):
    engine, sessions = core
    fire_at = (clock.now() + timedelta(hours=1)).isoformat()
    with sessions() as s:
        engine.deploy(s, {"due_timer.bpmn": (DATA / "due_timer.bpmn").read_bytes()}, OWNER)
        running = engine.start(s, "due_timer", CS, variables={"fire_at": fire_at}).id
        broken = engine.start(s, "due_timer", CS, variables={"fire_at": fire_at}).id
        s.commit()
    with sessions() as s:
        s.get(Instance, broken).state = "error"
        s.commit()
    clock.advance(hours=2)
    with sessions() as s:
        assert engine.due_timers(s) == [running]
    worker = TimerScheduler(engine, sessions)
    assert worker.run_due() == 1
    assert not jobs.due_work(engine, sessions).timers  # the broken case's timer is still there, not due work
    with sessions() as s:
        assert s.scalars(select(Timer.instance_id)).all() == [broken]
