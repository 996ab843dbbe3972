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
        inst = engine.start(s, "flaky", WAREHOUSE)
        s.commit()
    with sessions() as s:
        (task,) = engine.list_tasks(s, WAREHOUSE, instance_id=inst.id)
        inst = engine.complete_task(s, task.id, WAREHOUSE, {})
        s.commit()
    return inst.id


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
