"""Asynchronous service tasks (camunda:asyncBefore): the step commits in front of the handler, a
worker runs it later; failures are retried per failedJobRetryTimeCycle, then the case is in error;
a job run twice at once has its effect once."""

from __future__ import annotations

import threading

import pytest

import handlers
from engine import async_tasks, deployments, versions
from engine.errors import BpmnError
from engine.models import AsyncJob
from engine.users import Actor
from engine.wiring import build
from handlers.records import Part
from tests.conftest import DATA, seed
from web import jobs, views
from web.scheduler import TimerScheduler

WAREHOUSE = Actor("warehouse", frozenset({"warehouse"}))
ADMIN = Actor("admin", frozenset({"admin"}))


@pytest.fixture
def erp(database_url, clock):
    registry = handlers.default_registry()
    state = {"fail": False, "calls": 0, "gate": None, "bpmn_error": None}

    def book(ctx):
        state["calls"] += 1
        if state["gate"] is not None:
            state["gate"].wait(5)
        ctx.session.get(Part, "P-100").on_hand -= 1
        ctx.session.flush()
        if state["fail"]:
            raise ConnectionError("ERP unreachable")
        if state["bpmn_error"]:
            raise BpmnError(state["bpmn_error"], "part blocked")
        return {"booked": True}

    registry.register("test.flaky", book)
    engine, sessions, db = build(registry, database_url, clock=clock)
    seed(sessions, clock.now())
    with sessions() as s:
        engine.deploy(s, {"async_book.bpmn": (DATA / "async_book.bpmn").read_bytes()}, ADMIN)
        s.commit()
    yield engine, sessions, state
    db.dispose()


def _prepared(engine, sessions) -> int:
    with sessions() as s:
        inst = engine.start(s, "async_book", WAREHOUSE)
        s.commit()
    with sessions() as s:
        (task,) = engine.list_tasks(s, WAREHOUSE, instance_id=inst.id)
        engine.complete_task(s, task.id, WAREHOUSE, {})
        s.commit()
    return inst.id


def _view(engine, sessions, iid):
    with sessions() as s:
        view = views.instance_view(engine, s, engine.get_instance(s, iid))
        view["stock"] = s.get(Part, "P-100").on_hand
        view["jobs"] = [(j.element_id, j.attempts, j.last_error) for j in s.query(AsyncJob)]
        return view


def test_the_step_commits_first_and_a_worker_runs_the_handler(erp):
    engine, sessions, state = erp
    iid = _prepared(engine, sessions)
    view = _view(engine, sessions, iid)
    assert (view["state"], view["tasks"], view["stock"], state["calls"]) == ("running", [], 10, 0)
    assert view["jobs"] == [("book", 0, None)]
    assert TimerScheduler(engine, sessions).run_once() == 1
    view = _view(engine, sessions, iid)
    assert [t["element_id"] for t in view["tasks"]] == ["check"]
    assert [h["element_id"] for h in view["history"]] == ["prepare", "book"]
    assert (view["stock"], view["jobs"], view["variables"]["booked"]) == (9, [], True)


def test_failures_are_retried_per_the_cycle_then_an_incident_that_retry_resumes(erp, clock):
    engine, sessions, state = erp
    worker = TimerScheduler(engine, sessions)
    iid = _prepared(engine, sessions)
    state["fail"] = True
    assert worker.run_once() == 0  # first try failed: again in 30 s (R2/PT30S)
    view = _view(engine, sessions, iid)
    assert (view["state"], view["stock"]) == ("running", 10)
    assert view["jobs"] == [("book", 1, "ConnectionError: ERP unreachable")]
    clock.advance(seconds=29)
    assert worker.run_once() == 0 and state["calls"] == 1  # not due yet
    clock.advance(seconds=2)
    assert worker.run_once() == 1  # second and last try: an incident
    view = _view(engine, sessions, iid)
    assert view["state"] == "error" and view["jobs"] == [] and view["stock"] == 10
    assert view["error"] == {"element_id": "book", "message": "ConnectionError: ERP unreachable (after 2 tries)"}
    state["fail"] = False
    with sessions() as s:
        engine.retry(s, iid, ADMIN)
        s.commit()
    assert _view(engine, sessions, iid)["jobs"] == [("book", 0, None)]
    assert worker.run_once() == 1
    view = _view(engine, sessions, iid)
    assert (view["state"], [t["element_id"] for t in view["tasks"]], view["stock"]) == ("running", ["check"], 9)
    assert [h["element_id"] for h in view["history"]] == ["prepare", "book"]


def test_one_job_delivered_twice_at_once_runs_once(erp):
    engine, sessions, state = erp
    iid = _prepared(engine, sessions)
    with sessions() as s:
        (job_id,) = [j.id for j in s.query(AsyncJob)]
    state["gate"] = threading.Event()
    outcomes = []
    runs = [threading.Thread(target=lambda: outcomes.append(jobs.run_async_job(engine, sessions, job_id)))
            for _ in range(2)]
    for t in runs:
        t.start()
    state["gate"].set()
    for t in runs:
        t.join(30)
    assert sorted(outcomes) == ["done", "taken"]
    view = _view(engine, sessions, iid)
    assert (view["stock"], state["calls"], [h["element_id"] for h in view["history"]]) == (9, 1, ["prepare", "book"])


def test_a_bad_retry_cycle_is_refused_at_deployment(erp):
    engine, sessions, _state = erp
    xml = (DATA / "async_book.bpmn").read_text().replace("R2/PT30S", "every 30 seconds")
    from engine.errors import DiagramInvalid

    with sessions() as s, pytest.raises(DiagramInvalid, match="failedJobRetryTimeCycle 'every 30 seconds' is not"):
        engine.deploy(s, {"async_book.bpmn": xml.encode()}, ADMIN)


@pytest.mark.parametrize(("cycle", "policy"), [(None, (3, 10)), ("R5/PT1M", (5, 60)), ("R1/PT0S", (1, 0))])
def test_retry_policy(cycle, policy):
    assert async_tasks.retry_policy(cycle) == policy


def test_a_bpmn_error_nothing_catches_stops_the_case_at_once_and_is_not_retried(erp):
    """As at a task run in the step: a business error is no outage to try again (engine/bpmn_errors.py)."""
    engine, sessions, state = erp
    state["bpmn_error"] = "PART_BLOCKED"
    iid = _prepared(engine, sessions)
    assert TimerScheduler(engine, sessions).run_once() == 1
    view = _view(engine, sessions, iid)
    assert (view["state"], view["error"]["element_id"], view["error"]["message"]) == \
        ("error", "book", "BPMN error 'PART_BLOCKED' (part blocked) at 'book': no error event catches it")
    assert (view["stock"], view["jobs"], state["calls"]) == (10, [], 1)  # its write rolled back, no job left
    assert [(h["element_id"], h["kind"]) for h in view["history"]][-1] == ("book", "BpmnError")


def test_a_case_cancelled_in_front_of_its_asynchronous_task_leaves_no_job(erp):
    engine, sessions, state = erp
    iid = _prepared(engine, sessions)
    with sessions() as s:
        engine.cancel(s, iid, ADMIN)
        s.commit()
    view = _view(engine, sessions, iid)
    assert (view["state"], view["jobs"]) == ("cancelled", [])
    assert TimerScheduler(engine, sessions).run_once() == 0
    assert (state["calls"], _view(engine, sessions, iid)["stock"]) == (0, 10)


def _deploy_v2_synchronous_and_v3_renamed(engine, sessions) -> None:
    v1 = (DATA / "async_book.bpmn").read_bytes()
    synchronous = v1.replace(b' camunda:asyncBefore="true"', b"")
    renamed = v1.replace(b'id="book"', b'id="book_erp"').replace(b'targetRef="book"', b'targetRef="book_erp"') \
        .replace(b'sourceRef="book"', b'sourceRef="book_erp"')
    with sessions() as s:
        engine.deploy(s, {"async_book.bpmn": synchronous}, ADMIN)
        engine.deploy(s, {"async_book.bpmn": renamed}, ADMIN)
        s.commit()


def test_a_case_waiting_for_its_job_moves_only_onto_a_task_the_worker_still_runs(erp):
    engine, sessions, state = erp
    iid = _prepared(engine, sessions)
    _deploy_v2_synchronous_and_v3_renamed(engine, sessions)
    with sessions() as s:
        check = engine.check_migration(s, engine.get_instance(s, iid), deployments.get_definition(s, "async_book", 2),
                                       apply=True, actor=ADMIN)
        assert (check.can_move, check.code, check.problems) == \
            (False, "blocked", [{"code": "worker_changed", "element": "book", "target": "book"}])
        assert check.reason == "'book' waits for the job worker, which does not run 'book' in v2; " \
                               "move the case once that work is done"
        s.rollback()
    assert (_view(engine, sessions, iid)["version"], _view(engine, sessions, iid)["jobs"]) == (1, [("book", 0, None)])

    with sessions() as s:
        check = engine.check_migration(s, engine.get_instance(s, iid), deployments.get_definition(s, "async_book", 3),
                                       {"book": "book_erp"}, apply=True, actor=ADMIN)
        assert (check.can_move, check.code) == (True, "moved")
        s.commit()
    assert _view(engine, sessions, iid)["jobs"] == [("book_erp", 0, None)]
    assert TimerScheduler(engine, sessions).run_once() == 1
    view = _view(engine, sessions, iid)
    assert (view["version"], [t["element_id"] for t in view["tasks"]], view["stock"], state["calls"]) == \
        (3, ["check"], 9, 1)


def test_a_case_stopped_at_its_job_and_moved_with_a_rename_is_retried_at_the_renamed_step(erp, clock):
    engine, sessions, state = erp
    worker = TimerScheduler(engine, sessions)
    iid = _prepared(engine, sessions)
    state["fail"] = True
    assert worker.run_once() == 0
    clock.advance(seconds=31)
    assert worker.run_once() == 1  # the last try: an incident at 'book'
    _deploy_v2_synchronous_and_v3_renamed(engine, sessions)
    with sessions() as s:
        check = versions.check_migration(engine, s, engine.get_instance(s, iid),
                                         deployments.get_definition(s, "async_book", 3), {"book": "book_erp"},
                                         apply=True, actor=ADMIN, move_in_error=True)
        assert (check.can_move, check.code) == (True, "moved")
        s.commit()
    view = _view(engine, sessions, iid)
    assert (view["version"], view["state"], view["error"]["element_id"]) == (3, "error", "book_erp")
    with sessions() as s:  # the error names a step of the diagram the case is now on: its form can be corrected
        assert engine.correction_form(s, engine.get_instance(s, iid))[0] == "Book stock (ERP)"
    state["fail"] = False
    with sessions() as s:
        engine.retry(s, iid, ADMIN)
        s.commit()
    assert _view(engine, sessions, iid)["jobs"] == [("book_erp", 0, None)]
    assert worker.run_once() == 1
    view = _view(engine, sessions, iid)
    assert (view["state"], [t["element_id"] for t in view["tasks"]], view["stock"]) == ("running", ["check"], 9)
