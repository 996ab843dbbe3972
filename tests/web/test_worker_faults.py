"""Faults of the worker tier, bounded to fit CI: a Celery worker killed with kill -9 in the middle
of the work loses nothing and duplicates nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func

from engine.clock import SystemClock
from engine.models import AsyncJob, HistoryEntry, Notification, OpenTask, User
from engine.users import Actor
from tests.conftest import DATA, seed
from tests.production import Processes, broker_or_skip, wait_for

CS = Actor("customer_service", frozenset({"customer_service"}))
ADMIN = Actor("o", frozenset({"admin"}))


@pytest.fixture
def live(database_url):
    import handlers
    from engine.wiring import build

    engine, sessions, db = build(handlers.default_registry(), database_url)
    seed(sessions, SystemClock().now())
    with sessions() as s:
        for u in s.query(User):
            u.email = f"{u.username}@example.test"
        engine.deploy(s, {"claim.bpmn": (DATA / "warranty_claim.bpmn").read_bytes(),
                          "async_notice.bpmn": (DATA / "async_notice.bpmn").read_bytes()}, ADMIN)
        s.commit()
    yield engine, sessions
    db.dispose()


def _start_many(engine, sessions, key: str, n: int, variables: dict) -> list[int]:
    ids = []
    with sessions() as s:
        for _ in range(n):
            ids.append(engine.start(s, key, CS, variables=dict(variables)).id)
        s.commit()
    return ids


def _count(sessions, model, *where) -> int:
    with sessions() as s:
        return s.query(func.count()).select_from(model).filter(*where).scalar()


def test_a_worker_killed_mid_work_loses_nothing_and_duplicates_nothing(live, tmp_path, database_url):
    engine, sessions = live
    procs = Processes(tmp_path, database_url, broker_or_skip())
    procs.env["AFTERSALES_JOB_LEASE_SECONDS"] = "3"  # a dead worker's leases end soon
    ids = _start_many(engine, sessions, "async_notice", 60, {"customer_phone": "13800138000"})
    try:
        first = procs.worker("--beat", "--concurrency", "2")
        wait_for(lambda: _count(sessions, HistoryEntry, HistoryEntry.element_id == "tell") >= 5, 60,
                 "the first worker under way", procs)
        procs.kill(first)  # kill -9 the worker's whole process group in the middle of the batch
        done_when_killed = _count(sessions, HistoryEntry, HistoryEntry.element_id == "tell")
        procs.worker("--beat", "--concurrency", "2")
        wait_for(lambda: _count(sessions, OpenTask, OpenTask.element_id == "call") == 60
                 and _count(sessions, Notification, Notification.sent_at.is_(None)) == 0, 120,
                 "every case moved on and every notice sent", procs)
    finally:
        procs.stop_all()
    assert done_when_killed < 60  # the kill happened in the middle
    with sessions() as s:
        tells = dict(s.query(HistoryEntry.instance_id, func.count()).filter(HistoryEntry.element_id == "tell")
                     .group_by(HistoryEntry.instance_id))
        sms = s.query(func.count()).select_from(Notification).filter(Notification.recipient == "phone:13800138000")
        assert tells == {i: 1 for i in ids}  # each handler's effect exactly once
        assert sms.scalar() == 60
        assert s.query(AsyncJob).count() == 0
