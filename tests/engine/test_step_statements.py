"""A user-task step is five SQL statements: one joined read, the revision-checked instance update, the
task row that becomes the next task's, the notification batch, the history batch."""

from __future__ import annotations

import pytest
from sqlalchemy import event, update

from engine.errors import Conflict
from engine.models import Instance
from engine.users import Actor
from tests.web.test_api_basics import FIVE

CS = Actor("cs", frozenset({"customer_service"}))
ADMIN = Actor("admin", frozenset({"admin"}))


def test_a_user_task_step_is_five_statements(core):
    engine, sessions = core
    with sessions() as s:
        engine.deploy(s, {"five.bpmn": FIVE}, ADMIN)
        iid = engine.start(s, "five_steps", CS).id
        s.commit()
    seen: list[str] = []
    for _ in range(3):
        with sessions() as s:
            (task,) = engine.list_tasks(s, CS, instance_id=iid)
            task_id = task.id
            s.commit()
        with sessions() as s:
            bind = s.connection().engine
            statements: list[str] = []

            def count(_conn, _cursor, statement, *_args, into=statements):
                if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SELECT 1")):
                    into.append(statement.split("(")[0][:40])

            event.listen(bind, "before_cursor_execute", count)
            try:
                engine.complete_task(s, task_id, CS, {})
                s.commit()
            finally:
                event.remove(bind, "before_cursor_execute", count)
            seen.append(" | ".join(s.split()[0] for s in statements))
            assert len(statements) == 5, statements
    assert set(seen) == {"SELECT | UPDATE | UPDATE | INSERT | INSERT"}


def _five_steps_case(engine, sessions) -> tuple[int, str]:
    with sessions() as s:
        engine.deploy(s, {"five.bpmn": FIVE}, ADMIN)
        iid = engine.start(s, "five_steps", CS).id
        s.commit()
    with sessions() as s:
        (task,) = engine.list_tasks(s, CS, instance_id=iid)
        return iid, task.id


def test_a_step_on_a_case_another_step_moved_on_stores_nothing(core):
    """The instance update is checked against the revision the step read: a writer that moved the case on
    in between (another process; here the row's revision bumped under the step) makes it a Conflict."""
    engine, sessions = core
    iid, task_id = _five_steps_case(engine, sessions)
    with sessions() as s:
        read = engine.get_instance(s, iid)  # the step will run on this revision
        s.execute(update(Instance).where(Instance.id == iid).values(revision=read.revision + 1)
                  .execution_options(synchronize_session=False))
        with pytest.raises(Conflict):
            engine.complete_task(s, task_id, CS, {})
        s.rollback()
    with sessions() as s:
        (still,) = engine.list_tasks(s, CS, instance_id=iid)
        assert still.id == task_id  # the task is still open, no history of it
        assert [h.element_id for h in engine.history(s, iid) if h.kind == "UserTask"] == []
    with sessions() as s:  # and the case goes on from where it was
        engine.complete_task(s, task_id, CS, {})
        s.commit()
        assert [t.element_id for t in engine.list_tasks(s, CS, instance_id=iid)] == ["t2"]


def test_a_claim_after_a_step_in_one_transaction_shows_in_the_case(core):
    """The open tasks a step wrote answer the click without a read; a claim in the same transaction
    afterwards changes them, and the case then shows the claim."""
    engine, sessions = core
    iid, task_id = _five_steps_case(engine, sessions)
    with sessions() as s:
        inst = engine.complete_task(s, task_id, CS, {})
        (fresh,) = engine.open_tasks(s, iid, inst.revision)
        assert (fresh.element_id, fresh.assignee) == ("t2", None)
        engine.claim(s, fresh.id, CS)
        (claimed,) = engine.open_tasks(s, iid, inst.revision)
        assert (claimed.element_id, claimed.assignee) == ("t2", "cs")
        s.commit()
