"""Live workflows kept between steps: a copy another process made stale, or a step that rolled back,
is never used."""

from __future__ import annotations

import pytest

import handlers
from engine.errors import Conflict
from engine.users import Actor
from engine.wiring import build

CS = Actor("cs", frozenset({"customer_service"}))
TS = Actor("ts", frozenset({"tech_support"}))


def _open(engine, sessions, iid, actor):
    with sessions() as s:
        return [(t.id, t.element_id) for t in engine.list_tasks(s, actor, instance_id=iid)]


def _complete(engine, sessions, task_id, actor, values):
    with sessions() as s:
        engine.complete_task(s, task_id, actor, values)
        s.commit()


def test_two_processes_take_turns_on_one_case(core, database_url, clock):
    engine_a, sessions_a = core
    engine_b, sessions_b, db_b = build(handlers.default_registry(), database_url, clock=clock)
    try:
        with sessions_a() as s:
            iid = engine_a.start(s, "repair", CS, variables={
                "customer_name": "王五", "customer_phone": "13900000000", "product_model": "KX-200",
                "serial_no": "SN-1", "channel": "phone", "fault_description": "不制冷"}).id
            s.commit()
        assert len(engine_a.live) == 1  # kept after the commit
        (task,) = _open(engine_a, sessions_a, iid, CS)
        _complete(engine_b, sessions_b, task[0], CS, {"identity_confirmed": True, "in_scope": True,
                                                      "in_warranty": True})
        # A's copy is at the old revision: A reads the case B moved on, not its own copy
        (diagnose,) = _open(engine_a, sessions_a, iid, TS)
        assert diagnose[1] == "diagnose"
        with sessions_a() as s:
            assert engine_a.variables(s, engine_a.get_instance(s, iid))["in_scope"] is True
        with sessions_a() as s:
            with pytest.raises(Conflict):  # the task A's stale copy had open is gone
                engine_a.complete_task(s, task[0], CS, {"identity_confirmed": True, "in_scope": True,
                                                        "in_warranty": True})
            s.rollback()
    finally:
        db_b.dispose()


def test_a_step_that_rolls_back_leaves_no_copy(core):
    engine, sessions = core
    with sessions() as s:
        iid = engine.start(s, "repair", CS, variables={
            "customer_name": "王五", "customer_phone": "13900000000", "product_model": "KX-200",
            "serial_no": "SN-1", "channel": "phone", "fault_description": "不制冷"}).id
        s.commit()
    (task,) = _open(engine, sessions, iid, CS)
    with sessions() as s:
        engine.complete_task(s, task[0], CS, {"identity_confirmed": True, "in_scope": False, "in_warranty": False,
                                              "scope_reason": "人为损坏"})
        s.rollback()
    assert len(engine.live) == 0
    assert _open(engine, sessions, iid, CS) == [task]  # the case is where it was
    _complete(engine, sessions, task[0], CS, {"identity_confirmed": True, "in_scope": True, "in_warranty": True})
    assert [e for _t, e in _open(engine, sessions, iid, TS)] == ["diagnose"]
