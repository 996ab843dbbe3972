"""A failing commit or statement answers what the README promises (503 database unavailable, 409
changed meanwhile) with an error id, never SQL text, and stores nothing; a programming error in a
step parks the case in ``error`` with its message and leaves the traceback in the log."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

import handlers
from engine.models import Instance
from engine.users import Actor
from engine.wiring import build
from tests.conftest import DATA, seed
from web import views

REPAIR = {"customer_name": "张三", "customer_phone": "13800138000", "product_model": "KX-200",
          "serial_no": "SN-1", "channel": "phone", "fault_description": "不制冷"}
SQL = "INSERT INTO instances (definition_id) VALUES (1)"


def _failing_commit(monkeypatch, exc):
    def commit(self):
        raise exc

    monkeypatch.setattr(Session, "commit", commit)


@pytest.mark.parametrize(("failure", "status", "message"), [
    (OperationalError(SQL, {}, Exception("server closed the connection")), 503,
     "database unavailable; nothing was changed, try again shortly"),
    (IntegrityError(SQL, {}, Exception("duplicate key value violates unique constraint")), 409,
     "conflicting change; reload and try again"),
    (IntegrityError(SQL, {}, Exception("UNIQUE constraint failed: instances.business_key")), 409,
     "conflicting change; reload and try again"),
    # a missing value is a bug of ours, not a conflict the user could resolve by reloading (issue 16)
    (IntegrityError(SQL, {}, Exception("NOT NULL constraint failed: notifications.kind")), 500,
     "internal error; nothing was changed (error id {error_id})"),
])
def test_a_failed_commit_is_answered_with_an_error_id_and_nothing_is_stored(deployed, app, monkeypatch, caplog,
                                                                            failure, status, message):
    _failing_commit(monkeypatch, failure)
    with caplog.at_level(logging.INFO, logger="web.errors"):
        r = deployed.post("customer_service", "/api/process-definitions/repair/start", {"variables": REPAIR})
    assert r.status_code == status
    assert r.json == {"error": message.format(error_id=r.json["error_id"]), "error_id": r.json["error_id"]}
    assert len(r.json["error_id"]) == 12 and "INSERT" not in r.get_data(as_text=True)
    logged = [rec.getMessage() for rec in caplog.records if r.json["error_id"] in rec.getMessage()]
    assert len(logged) == 1 and "INSERT INTO instances" in logged[0]
    monkeypatch.undo()
    with app.extensions["aftersales"]["sessions"]() as s:
        assert s.query(Instance).count() == 0


@pytest.fixture
def broken_handler(database_url, clock):
    registry = handlers.default_registry()

    def book(ctx):
        return {"booked": ctx.variables["no_such_variable"]}  # a programming error

    registry.register("test.flaky", book)
    engine, sessions, db = build(registry, database_url, clock=clock)
    seed(sessions, clock.now())
    admin = Actor("admin", frozenset({"admin"}))
    with sessions() as s:
        engine.deploy(s, {"flaky.bpmn": (DATA / "flaky.bpmn").read_bytes()}, admin)
        s.commit()
    yield engine, sessions
    db.dispose()


def test_a_programming_error_parks_the_case_and_logs_the_traceback(broken_handler, caplog):
    engine, sessions = broken_handler
    warehouse = Actor("warehouse", frozenset({"warehouse"}))
    with sessions() as s:
        inst = engine.start(s, "flaky", warehouse)
        s.commit()
    with sessions() as s, caplog.at_level(logging.ERROR, logger="engine.steps"):
        (task,) = engine.list_tasks(s, warehouse, instance_id=inst.id)
        engine.complete_task(s, task.id, warehouse, {})
        s.commit()
    with sessions() as s:
        view = views.instance_view(engine, s, engine.get_instance(s, inst.id))
    assert view["state"] == "error"
    assert view["error"] == {"element_id": "book", "message": "KeyError: 'no_such_variable'"}
    (record,) = [r for r in caplog.records if r.name == "engine.steps"]
    assert record.getMessage() == f"unexpected error in instance {inst.id} at book"
    assert record.exc_info is not None and record.exc_info[0] is KeyError
