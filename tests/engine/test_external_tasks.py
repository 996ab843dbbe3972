"""Service tasks whose topic has no Python handler wait for an external worker (engine/external_tasks.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import external_runs, external_tasks
from engine.models import AsyncJob, ExternalTask
from engine.users import Actor
from tests.conftest import DATA

ADMIN = Actor("admin", frozenset({"admin"}))
WORKER = Actor("worker", frozenset({"external_worker"}))
CREDIT = (DATA / "external_credit.bpmn").read_bytes()
SCORE = external_tasks.TopicRequest("credit.score", 60_000)


@pytest.fixture
def credit(core, request):
    """``(engine, session)`` with the credit check deployed — as tests/data has it, or the variant a test
    parametrises ``credit`` with — and a session open for the test."""
    engine, sessions = core
    with sessions() as s:
        engine.deploy(s, {"external_credit.bpmn": getattr(request, "param", CREDIT)}, ADMIN)
        s.commit()
        yield engine, s


@pytest.fixture
def started(credit):
    """``(engine, session, instance)``: a credit check started and committed."""
    engine, s = credit
    instance = engine.start(s, "credit_check", ADMIN)
    s.commit()
    return engine, s, instance


def test_the_step_that_reaches_the_task_writes_its_row_and_the_step_past_it_removes_it(started):
    engine, s, instance = started
    (row,) = s.scalars(select(ExternalTask))
    assert (row.instance_id, row.element_id, row.topic, row.worker_id, row.retries) == \
        (instance.id, "Activity_score", "credit.score", None, None)
    (locked,) = external_tasks.fetch_and_lock(s, "w1", 3, [SCORE], engine.clock.now())
    s.commit()
    assert external_tasks.fetch_and_lock(s, "w2", 3, [SCORE], engine.clock.now()) == []
    external_runs.complete(engine, s, locked[0].id, "w1", {"score": 3}, WORKER)
    s.commit()
    assert s.scalars(select(ExternalTask)).all() == []
    assert [t.element_id for t in engine.open_tasks(s, instance.id)] == ["Activity_review"]


def test_a_cancelled_case_leaves_no_task_for_workers(started):
    engine, s, instance = started
    engine.cancel(s, instance.id, ADMIN)
    s.commit()
    assert s.scalars(select(ExternalTask)).all() == []


@pytest.mark.parametrize("credit", [CREDIT.replace(b'camunda:topic="credit.score"',
                                                   b'camunda:topic="credit.score" camunda:asyncBefore="true"')],
                         ids=["asyncBefore"], indirect=True)
def test_async_before_on_an_external_topic_is_offered_to_workers_once_and_queues_no_job(started):
    _engine, s, _instance = started
    assert len(s.scalars(select(ExternalTask)).all()) == 1
    assert s.scalars(select(AsyncJob)).all() == []


FAILING_END = CREDIT.replace(
    b'camunda:topic="credit.score">',
    b'camunda:topic="credit.score"><bpmn:extensionElements><camunda:executionListener event="end">'
    b'<camunda:script scriptFormat="javascript">var least = 5;\nif (score &lt; least) { throw new Error("score " + score + '
    b'" is below " + least); }</camunda:script></camunda:executionListener></bpmn:extensionElements>')


@pytest.mark.parametrize("credit", [FAILING_END], ids=["failing end listener"], indirect=True)
def test_a_worker_completing_a_task_whose_end_listener_fails_puts_the_case_in_error_there(started):
    """What runs as an external task completes (here a JavaScript end listener) may fail: the case stops in
    ``error`` at that task, as when a person completes one — never an unexpected error to the worker."""
    engine, s, instance = started
    (locked,) = external_tasks.fetch_and_lock(s, "w1", 3, [SCORE], engine.clock.now())
    s.commit()
    external_runs.complete(engine, s, locked[0].id, "w1", {"score": 3}, WORKER)
    s.commit()
    found = engine.get_instance(s, instance.id)
    assert (found.state, found.error_element, found.error_message) == \
        ("error", "Activity_score", "Activity_score: JavaScript line 2: Error: score 3 is below 5")
