"""A user-task step is five SQL statements: one joined read, the revision-checked instance update, the
task row that becomes the next task's, the notification batch, the history batch."""

from __future__ import annotations

from sqlalchemy import event

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
