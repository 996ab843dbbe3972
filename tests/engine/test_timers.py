"""Timers fire by themselves: the scheduler thread of serve/demo picks them up within a second."""

from __future__ import annotations

import time

from engine.users import Actor
from tests.conftest import DATA
from web.scheduler import TimerScheduler

CS = Actor("customer_service", frozenset({"customer_service"}))
SUP = Actor("supervisor", frozenset({"supervisor"}))


def test_scheduler_thread_fires_due_timer(core, clock):
    engine, sessions = core
    with sessions() as s:
        engine.deploy(s, {"claim.bpmn": (DATA / "warranty_claim.bpmn").read_bytes()}, Actor("o", frozenset({"admin"})))
        inst = engine.start(s, "warranty_claim", CS, variables={"customer": "Acme", "amount": 10})
        s.commit()
        assert engine.next_timer_due(s) == clock.now().replace(microsecond=clock.now().microsecond) + \
            __import__("datetime").timedelta(seconds=2)
    scheduler = TimerScheduler(engine, sessions, poll_seconds=0.05)
    scheduler.start()
    try:
        clock.advance(seconds=1)
        time.sleep(0.3)
        with sessions() as s:
            assert engine.list_tasks(s, SUP) == []  # not due yet
        clock.advance(seconds=1.01)
        deadline = time.monotonic() + 1.0
        found = []
        while time.monotonic() < deadline and not found:
            with sessions() as s:
                found = engine.list_tasks(s, SUP, instance_id=inst.id)
            time.sleep(0.02)
        assert [t.element_id for t in found] == ["Activity_chase"]
    finally:
        scheduler.stop()
