"""The BPMN people draw in Camunda Modeler 5, deployed and run through the engine. Every case is
reloaded from the database between steps (the in-memory copies are dropped), as after a restart."""

from __future__ import annotations

import pytest

import handlers
from engine.errors import BpmnError
from engine.users import Actor
from engine.wiring import build
from tests.conftest import DATA, seed

ADMIN = Actor("admin", frozenset({"admin", "process_owner"}))
CS = Actor("customer_service", frozenset({"customer_service"}))
WAREHOUSE = Actor("warehouse", frozenset({"warehouse"}))


@pytest.fixture
def bpmn(database_url, clock):
    """``(engine, sessions, calls)`` with test handlers registered, under topics and Java delegate names."""
    registry = handlers.default_registry()
    calls: list[tuple[str, dict]] = []

    def check_serial(ctx):
        calls.append(("check_serial", dict(ctx.variables)))
        if not str(ctx.variables.get("serial", "")).startswith("SN"):
            raise BpmnError("SERIAL_UNKNOWN", "no such serial", {"checked": True})
        return {"model": "KF-35"}

    def remember(name):
        def handler(ctx):
            calls.append((name, dict(ctx.variables)))
            return {f"{name.split('.')[-1]}_ran": True}
        return handler

    registry.register("test.check_serial", check_serial)
    for name in ("com.acme.aftersales.NotifyCustomer", "auditLogger", "mailer.send(execution)", "test.record"):
        registry.register(name, remember(name))
    engine, sessions, db = build(registry, database_url, clock=clock)
    seed(sessions, clock.now())
    yield engine, sessions, calls
    db.dispose()


def deploy(engine, sessions, *names: str):
    with sessions() as s:
        result = engine.deploy(s, {n: (DATA / n).read_bytes() for n in names}, ADMIN)
        s.commit()
    return result


def start(engine, sessions, key: str, variables: dict | None = None) -> int:
    with sessions() as s:
        iid = engine.start(s, key, ADMIN, variables=variables).id
        s.commit()
    engine.live.clear()
    return iid


def open_tasks(engine, sessions, iid) -> list[str]:
    with sessions() as s:
        return sorted(t.element_id for t in engine.open_tasks(s, iid))


def complete(engine, sessions, iid, element: str, values: dict | None = None, actor: Actor = CS) -> None:
    with sessions() as s:
        task = next(t for t in engine.open_tasks(s, iid) if t.element_id == element)
        engine.complete_task(s, task.id, actor, values or {})
        s.commit()
    engine.live.clear()


def instance(engine, sessions, iid):
    with sessions() as s:
        inst = engine.get_instance(s, iid)
        return inst.state, inst.error_element, inst.error_message, engine.variables(s, inst)


# --- 1. error boundary events, raised by a handler ------------------------------------------


def test_a_handler_raising_a_bpmn_error_takes_the_error_boundary_path(bpmn):
    engine, sessions, _calls = bpmn
    deploy(engine, sessions, "error_boundary.bpmn")
    iid = start(engine, sessions, "error_boundary", {"serial": "X-1"})
    assert open_tasks(engine, sessions, iid) == ["ask_customer"]
    state, _e, _m, variables = instance(engine, sessions, iid)
    assert state == "running"
    assert (variables["errorCode"], variables["errorMessage"], variables["checked"]) == \
        ("SERIAL_UNKNOWN", "no such serial", True)
    assert "model" not in variables
    complete(engine, sessions, iid, "ask_customer")
    assert instance(engine, sessions, iid)[0] == "completed"


def test_without_the_error_the_service_task_completes_normally(bpmn):
    engine, sessions, _calls = bpmn
    deploy(engine, sessions, "error_boundary.bpmn")
    iid = start(engine, sessions, "error_boundary", {"serial": "SN123"})
    assert open_tasks(engine, sessions, iid) == ["ship"]
    assert instance(engine, sessions, iid)[3]["model"] == "KF-35"
