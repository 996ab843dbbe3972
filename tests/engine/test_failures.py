"""A failing handler parks the case in ``error`` with nothing half-written; ``retry`` runs the step again."""

from __future__ import annotations

import pytest

import handlers
from engine.errors import Conflict, NotPermitted
from engine.users import Actor
from engine.wiring import build
from handlers.records import Part
from tests.conftest import DATA, seed
from web import views

WAREHOUSE = Actor("warehouse", frozenset({"warehouse"}))
ADMIN = Actor("admin", frozenset({"admin"}))


@pytest.fixture
def flaky(database_url, clock):
    registry = handlers.default_registry()
    state = {"fail": True}

    def book(ctx):
        part = ctx.session.get(Part, "P-100")
        part.on_hand -= 1  # written before failing: must not survive
        ctx.session.flush()
        if state["fail"]:
            raise RuntimeError("stock ledger offline")
        return {"booked": True}

    registry.register("test.flaky", book)
    engine, sessions, db = build(registry, database_url, clock=clock)
    seed(sessions, clock.now())
    with sessions() as s:
        engine.deploy(s, {"flaky.bpmn": (DATA / "flaky.bpmn").read_bytes()}, ADMIN)
        s.commit()
    yield engine, sessions, state
    db.dispose()


def _start_and_prepare(engine, sessions):
    with sessions() as s:
        iid = engine.start(s, "flaky", WAREHOUSE).id
        s.commit()
    _prepare(engine, sessions, iid)
    return iid


def _prepare(engine, sessions, iid) -> None:
    """Complete the case's one open task (``prepare``) as the warehouse."""
    with sessions() as s:
        (task,) = engine.list_tasks(s, WAREHOUSE, instance_id=iid)
        engine.complete_task(s, task.id, WAREHOUSE, {})
        s.commit()


def test_handler_failure_parks_the_case_and_retry_resumes(flaky):
    engine, sessions, state = flaky
    iid = _start_and_prepare(engine, sessions)
    with sessions() as s:
        inst = engine.get_instance(s, iid)
        view = views.instance_view(engine, s, inst)
        assert view["state"] == "error"
        assert view["error"] == {"element_id": "book", "message": "RuntimeError: stock ledger offline"}
        assert s.get(Part, "P-100").on_hand == 10  # the handler's write was rolled back
        assert [h["element_id"] for h in view["history"]] == ["prepare"]  # the user's work is kept
        assert view["tasks"] == []
    # a retry while still broken stays in error, still nothing written
    with sessions() as s:
        engine.retry(s, iid, ADMIN)
        s.commit()
    with sessions() as s:
        assert engine.get_instance(s, iid).state == "error"
        assert s.get(Part, "P-100").on_hand == 10
    state["fail"] = False
    with sessions() as s:
        with pytest.raises(NotPermitted):
            engine.retry(s, iid, Actor("technician", frozenset({"technician"})))
        inst = engine.retry(s, iid, ADMIN)
        s.commit()
    with sessions() as s:
        view = views.instance_view(engine, s, engine.get_instance(s, iid))
        assert view["state"] == "running" and view["error"] is None
        assert s.get(Part, "P-100").on_hand == 9
        assert [t["element_id"] for t in view["tasks"]] == ["check"]
        # the sandboxed script ran and its results are plain variables
        assert view["variables"]["score"] == 12 and view["variables"]["label"] == "ok"
        with pytest.raises(Conflict):
            engine.retry(s, iid, ADMIN)


def test_cancel_closes_open_tasks(flaky):
    engine, sessions, _state = flaky
    with sessions() as s:
        inst = engine.start(s, "flaky", WAREHOUSE)
        s.commit()
    with sessions() as s:
        with pytest.raises(NotPermitted):
            engine.cancel(s, inst.id, WAREHOUSE)
        engine.cancel(s, inst.id, ADMIN)
        s.commit()
    with sessions() as s:
        view = views.instance_view(engine, s, engine.get_instance(s, inst.id))
        assert view["state"] == "cancelled" and view["tasks"] == []
        assert engine.list_tasks(s, WAREHOUSE) == []


def test_a_handler_registered_as_computing_only_may_not_add_rows():
    from engine.models import Notification
    from engine.service_tasks import HandlerRegistry

    registry = HandlerRegistry()
    registry.register("pure", lambda ctx: {"x": 1}, writes=False)
    registry.register("sneaky", lambda ctx: ctx.session.add(Notification()), writes=False)
    registry.register("writer", lambda ctx: None)
    assert (registry.writes("pure"), registry.writes("sneaky"), registry.writes("writer")) == (False, False, True)


TWO_HANDLERS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs_two" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="two_handlers" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prepare" />
    <bpmn:userTask id="prepare" name="Prepare" camunda:candidateGroups="warehouse" />
    <bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="first" />
    <bpmn:serviceTask id="first" name="First" camunda:type="external" camunda:topic="test.first" />
    <bpmn:sequenceFlow id="f3" sourceRef="first" targetRef="book" />
    <bpmn:serviceTask id="book" name="Book stock" camunda:type="external" camunda:topic="test.flaky" />
    <bpmn:sequenceFlow id="f4" sourceRef="book" targetRef="check" />
    <bpmn:userTask id="check" name="Check" camunda:candidateGroups="warehouse" />
    <bpmn:sequenceFlow id="f5" sourceRef="check" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture
def two_handlers(database_url, clock, request):
    """``first`` then ``book`` in one step; ``book`` fails while ``state["fail"]``. ``first`` writes
    (takes a P-200 from stock) or, with the ``outside`` parameter, is registered ``writes=False`` and
    only counts its calls, as a handler acting outside the database (an HTTP call) would."""
    outside = getattr(request, "param", False)
    registry = handlers.default_registry()
    state = {"fail": True, "first_calls": 0}

    def first(ctx):
        state["first_calls"] += 1
        if not outside:
            ctx.session.get(Part, "P-200").on_hand -= 1
        return {"first_done": True}

    def book(ctx):
        ctx.session.get(Part, "P-100").on_hand -= 1
        ctx.session.flush()
        if state["fail"]:
            raise RuntimeError("stock ledger offline")
        return {"booked": True}

    registry.register("test.first", first, writes=not outside)
    registry.register("test.flaky", book)
    engine, sessions, db = build(registry, database_url, clock=clock)
    seed(sessions, clock.now())
    with sessions() as s:
        engine.deploy(s, {"two.bpmn": TWO_HANDLERS}, ADMIN)
        iid = engine.start(s, "two_handlers", WAREHOUSE).id
        s.commit()
    yield engine, sessions, state, iid
    db.dispose()


def _stock(sessions) -> tuple[int, int]:
    with sessions() as s:
        return s.get(Part, "P-100").on_hand, s.get(Part, "P-200").on_hand


def test_a_later_handler_failing_keeps_what_the_earlier_one_wrote_once(two_handlers):
    """Handlers write without savepoints until one fails; the step then goes again with them and ends
    as it always did: the earlier handler's write kept (once), the failed one's undone, the case in error."""
    engine, sessions, state, iid = two_handlers
    before = _stock(sessions)
    _prepare(engine, sessions, iid)
    with sessions() as s:
        inst = engine.get_instance(s, iid)
        assert (inst.state, inst.error_element, inst.error_message) == ("error", "book", "RuntimeError: stock ledger offline")
        assert [h.element_id for h in engine.history(s, iid)] == ["prepare", "first"]
    assert _stock(sessions) == (before[0], before[1] - 1)
    state["fail"] = False
    with sessions() as s:
        engine.retry(s, iid, ADMIN)
        s.commit()
    assert _stock(sessions) == (before[0] - 1, before[1] - 1)  # retry runs book only
    with sessions() as s:
        assert [t.element_id for t in engine.list_tasks(s, WAREHOUSE, instance_id=iid)] == ["check"]


@pytest.mark.parametrize("two_handlers", [True], indirect=True)
def test_a_handler_that_may_act_outside_the_database_is_never_called_twice(two_handlers):
    engine, sessions, state, iid = two_handlers
    before = _stock(sessions)
    _prepare(engine, sessions, iid)
    assert state["first_calls"] == 1
    with sessions() as s:
        assert engine.get_instance(s, iid).error_element == "book"
    assert _stock(sessions) == before


PARENT_AND_CHILD = {
    "parent.bpmn": b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs_parent" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="parent" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="prepare" />
    <bpmn:userTask id="prepare" name="Prepare" camunda:candidateGroups="warehouse" />
    <bpmn:sequenceFlow id="f2" sourceRef="prepare" targetRef="spawn" />
    <bpmn:serviceTask id="spawn" name="Start the child" camunda:type="external" camunda:topic="test.spawn" />
    <bpmn:sequenceFlow id="f3" sourceRef="spawn" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>""",
    "child.bpmn": b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs_child" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="child" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call_out" />
    <bpmn:serviceTask id="call_out" name="Call out" camunda:type="external" camunda:topic="test.call_out" />
    <bpmn:sequenceFlow id="f2" sourceRef="call_out" targetRef="book" />
    <bpmn:serviceTask id="book" name="Book stock" camunda:type="external" camunda:topic="test.flaky" />
    <bpmn:sequenceFlow id="f3" sourceRef="book" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>""",
}


def test_a_call_out_in_a_case_a_handler_starts_is_made_once_when_that_case_fails(database_url, clock):
    """A writing handler starts a case whose first handler calls out (registered ``writes=False``) and
    whose next one fails: the parent stops in error, and the call out was made once, not again by a redo."""
    from engine.models import Instance

    registry = handlers.default_registry()
    calls = []
    registry.register("test.spawn", lambda ctx: {"child": ctx.start_process("child", {})})
    registry.register("test.call_out", lambda ctx: calls.append(ctx.instance_id) or {"called": True}, writes=False)
    registry.register("test.flaky", lambda ctx: (_ for _ in ()).throw(RuntimeError("stock ledger offline")))
    engine, sessions, db = build(registry, database_url, clock=clock)
    try:
        seed(sessions, clock.now())
        with sessions() as s:
            engine.deploy(s, PARENT_AND_CHILD, ADMIN)
            iid = engine.start(s, "parent", WAREHOUSE).id
            s.commit()
        _prepare(engine, sessions, iid)
        assert len(calls) == 1
        with sessions() as s:
            parent = engine.get_instance(s, iid)
            assert (parent.state, parent.error_element) == ("error", "spawn")
            assert "'child' started in error at book" in parent.error_message
            assert s.query(Instance).filter_by(key="child").count() == 0  # its start was undone with the handler
    finally:
        db.dispose()


@pytest.mark.parametrize("two_handlers", [True], indirect=True)
def test_a_handler_registered_as_computing_only_that_writes_fails_the_whole_step(two_handlers):
    """Rows written by a handler registered ``writes=False`` could not be undone alone: the step fails and
    nothing of it is stored (the task stays open), rather than the case stopping with those rows kept."""
    from engine import notifications
    from engine.db import UnguardedWrite
    from engine.models import Notification

    engine, sessions, _state, iid = two_handlers
    engine.handlers._handlers["test.first"] = lambda ctx: notifications.queue(
        ctx.session, kind="staff", recipient="group:supervisor", subject="x", body="", now=ctx.now) or {}
    with sessions() as s:
        (task,) = engine.list_tasks(s, WAREHOUSE, instance_id=iid)
        kept = s.query(Notification).count()
        with pytest.raises(UnguardedWrite, match="test.first"):
            engine.complete_task(s, task.id, WAREHOUSE, {})
        s.rollback()
    with sessions() as s:
        assert [t.element_id for t in engine.list_tasks(s, WAREHOUSE, instance_id=iid)] == ["prepare"]
        assert engine.get_instance(s, iid).state == "running"
        assert s.query(Notification).count() == kept


def test_what_the_caller_did_before_a_step_survives_a_failing_handler(two_handlers):
    """A step whose handler fails is run again from a rollback only when that loses nothing of the caller:
    a row the caller added and not yet flushed in the same transaction is still committed."""
    engine, sessions, _state, iid = two_handlers
    with sessions() as s:
        (task,) = engine.list_tasks(s, WAREHOUSE, instance_id=iid)
        s.add(Part(part_no="P-NEW", name="Gasket", on_hand=3, quota=3, unit_price=5))
        engine.complete_task(s, task.id, WAREHOUSE, {})
        s.commit()
    with sessions() as s:
        assert s.get(Part, "P-NEW").on_hand == 3
        assert engine.get_instance(s, iid).error_element == "book"
