"""Two people completing the same task at the same moment: exactly one succeeds, the other gets
a conflict, and nothing is lost — on SQLite and on PostgreSQL. Two timer workers never fire one
timer twice."""

from __future__ import annotations

import threading

from sqlalchemy.orm.exc import StaleDataError

from engine.errors import Conflict
from engine.models import HistoryEntry
from engine.users import Actor
from tests.conftest import DATA
from web import views
from web.scheduler import TimerScheduler

CS = Actor("customer_service", frozenset({"customer_service"}))
CS2 = Actor("cs2", frozenset({"customer_service"}))
OWNER = Actor("owner", frozenset({"process_owner"}))


def _claim_case(engine, sessions):
    with sessions() as s:
        engine.deploy(s, {"claim.bpmn": (DATA / "warranty_claim.bpmn").read_bytes()}, OWNER)
        s.commit()
    with sessions() as s:
        inst = engine.start(s, "warranty_claim", CS, variables={"customer": "Acme", "amount": 10})
        s.commit()
        (task,) = engine.list_tasks(s, CS, instance_id=inst.id)
        return inst.id, task.id


def _race(workers):
    barrier = threading.Barrier(len(workers))
    results = [None] * len(workers)

    def run(i, fn):
        barrier.wait()
        try:
            results[i] = fn()
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_same_task_completed_twice_at_once(core):
    engine, sessions = core
    iid, task_id = _claim_case(engine, sessions)

    def complete(actor, approved):
        def go():
            with sessions() as s:
                try:
                    engine.complete_task(s, task_id, actor, {"category": "defect", "approved": approved})
                    s.commit()
                    return "ok"
                except StaleDataError as exc:
                    raise Conflict(str(exc)) from exc

        return go

    results = _race([complete(CS, True), complete(CS2, False)])
    assert sorted(type(r).__name__ if isinstance(r, Exception) else r for r in results) == ["Conflict", "ok"]
    winner = CS.username if results[0] == "ok" else CS2.username
    with sessions() as s:
        view = views.instance_view(engine, s, engine.get_instance(s, iid))
        reviews = [h for h in view["history"] if h["element_id"] == "Activity_review"]
        assert [h["completed_by"] for h in reviews] == [winner]
        expected = "Activity_pay" if winner == CS.username else "Activity_fix"
        assert [t["element_id"] for t in view["tasks"]] == [expected]


def test_two_claims_at_once_one_wins(core):
    engine, sessions = core
    _iid, task_id = _claim_case(engine, sessions)

    def claim(actor):
        def go():
            with sessions() as s:
                engine.claim(s, task_id, actor)
                s.commit()
                return actor.username

        return go

    results = _race([claim(CS), claim(CS2)])
    winners = [r for r in results if isinstance(r, str)]
    assert len(winners) == 1 and isinstance([r for r in results if r not in winners][0], Conflict)
    with sessions() as s:
        assert engine.get_task(s, task_id, CS).assignee == winners[0]


def test_two_timer_workers_fire_once(core, clock):
    engine, sessions = core
    iid, _task = _claim_case(engine, sessions)
    clock.advance(seconds=3)
    a, b = TimerScheduler(engine, sessions), TimerScheduler(engine, sessions)
    fired = _race([a.run_once, b.run_once])
    assert sum(fired) == 1
    with sessions() as s:
        boundary = s.query(HistoryEntry).filter_by(instance_id=iid, element_id="Event_remind").count()
        assert boundary == 1
        assert [t.element_id for t in engine.list_tasks(s, Actor("s", frozenset({"supervisor"})))] == ["Activity_chase"]
