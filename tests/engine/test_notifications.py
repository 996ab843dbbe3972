"""Notifications go through the outbox: nothing is lost while the sender is down."""

from __future__ import annotations

from engine import notifications
from engine.models import Notification, User
from engine.users import Actor
from tests.conftest import DATA
from web.scheduler import TimerScheduler

CS = Actor("customer_service", frozenset({"customer_service"}))


class Recorder:
    def __init__(self, fail: bool = False):
        self.fail = fail
        self.sent: list[tuple[str, str]] = []

    def send(self, address, subject, body):
        if self.fail:
            raise ConnectionRefusedError("smtp down")
        self.sent.append((address, subject))


def test_assignment_and_overdue_notices_survive_a_sender_outage(core, clock):
    engine, sessions = core
    with sessions() as s:
        for u in s.query(User):
            u.email = f"{u.username}@example.com"
        engine.deploy(s, {"claim.bpmn": (DATA / "warranty_claim.bpmn").read_bytes()}, Actor("o", frozenset({"admin"})))
        engine.start(s, "warranty_claim", CS, variables={"customer": "Acme", "amount": 10})
        s.commit()
    down = Recorder(fail=True)
    worker = TimerScheduler(engine, sessions, sender=down)
    assert worker.run_notifications() == (0, 1)
    with sessions() as s:
        (row,) = s.query(Notification).all()
        assert row.sent_at is None and row.attempts == 1 and "smtp down" in row.last_error
        assert row.recipient == "group:customer_service"
    clock.advance(minutes=2)
    up = Recorder()
    worker.sender = up
    assert worker.run_notifications() == (1, 0)
    assert up.sent == [("customer_service@example.com", up.sent[0][1])] and "Review claim" in up.sent[0][1]
    assert worker.run_notifications() == (0, 0)  # sent once


def test_overdue_tasks_are_announced_once(core, clock):
    engine, sessions = core
    with sessions() as s:
        engine.deploy(s, {"lanes.bpmn": (DATA / "lanes.bpmn").read_bytes()}, Actor("o", frozenset({"admin"})))
        engine.start(s, "lanes", CS, variables={"picker": "bob"})
        s.commit()
    clock.advance(hours=2)
    with sessions() as s:
        assert notifications.queue_overdue(s, clock.now()) == 1
        assert notifications.queue_overdue(s, clock.now()) == 0
        s.commit()
        overdue = s.query(Notification).filter_by(kind="task_overdue").one()
        assert overdue.recipient == "group:customer_service" and "Call back" in overdue.subject
