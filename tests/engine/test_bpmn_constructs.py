"""The BPMN people draw in Camunda Modeler 5, deployed and run through the engine. Every case is
reloaded from the database between steps (the in-memory copies are dropped), as after a restart."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

import handlers
from engine.db import as_utc
from engine.errors import BpmnError, DiagramInvalid
from engine.models import Notification, ScheduledStart
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


# --- 4./5. inputOutput mappings; Java delegates and listeners bridged to Python handlers ------------


def test_java_delegates_and_listeners_run_the_handlers_registered_under_their_names(bpmn):
    engine, sessions, calls = bpmn
    result = deploy(engine, sessions, "java_delegates.bpmn")
    bridged = sorted((w.element_id, w.code, w.name) for w in result.warnings if w.code == "java_bridged")
    assert bridged == [("log", "java_bridged", "auditLogger"),
                       ("notify", "java_bridged", "com.acme.aftersales.NotifyCustomer"),
                       ("review", "java_bridged", "auditLogger"),
                       ("review", "java_bridged", "mailer.send(execution)")]
    iid = start(engine, sessions, "java_delegates", {"customer": "Wang Fang", "amount": 40})
    assert [name for name, _v in calls] == ["com.acme.aftersales.NotifyCustomer", "auditLogger", "mailer.send(execution)"]
    # the input parameters, as the handler saw them
    seen = calls[0][1]
    assert (seen["recipient"], seen["channel"], seen["copies"], seen["limits"]) == \
        ("Wang Fang", "sms", ["archive", "Wang Fang"], {"amount": 80})
    variables = instance(engine, sessions, iid)[3]
    assert variables["notified"] is True  # the output parameter
    assert not {"recipient", "channel", "copies", "limits"} & set(variables)  # inputs are local to the task
    assert open_tasks(engine, sessions, iid) == ["review"]
    complete(engine, sessions, iid, "review")
    assert [name for name, _v in calls][3:] == ["auditLogger"]  # the end listener of the user task
    assert instance(engine, sessions, iid)[0] == "completed"


def test_java_code_with_no_handler_under_its_name_is_refused_with_element_and_line(bpmn):
    engine, sessions, _calls = bpmn
    xml = (DATA / "java_delegates.bpmn").read_bytes()
    xml = xml.replace(b"com.acme.aftersales.NotifyCustomer", b"com.acme.Unknown").replace(
        b'delegateExpression="${auditLogger}" event="end"', b'class="com.acme.AuditListener" event="end"')
    with sessions() as s, pytest.raises(DiagramInvalid) as caught:
        engine.deploy(s, {"java_delegates.bpmn": xml}, ADMIN)
    found = sorted((p.element_id, p.line, p.code, p.params["name"]) for p in caught.value.problems)
    assert found == [("notify", 8, "java_code", "com.acme.Unknown"), ("review", 36, "java_code", "com.acme.AuditListener")]


# --- 6. a gateway branch without a condition is taken as true, as Camunda does -----------------


@pytest.mark.parametrize(("under_warranty", "task"), [(False, "quote"), (True, "repair")])
def test_a_branch_without_condition_is_taken_as_true_with_a_warning(bpmn, under_warranty, task):
    engine, sessions, _calls = bpmn
    result = deploy(engine, sessions, "unconditioned_branch.bpmn")
    assert [(w.element_id, w.code, w.name) for w in result.warnings] == [("warranty", "branch_true", "repair")]
    iid = start(engine, sessions, "unconditioned_branch", {"underWarranty": under_warranty})
    assert open_tasks(engine, sessions, iid) == [task]


# --- 2. inclusive gateways -------------------------------------------------------------------------


@pytest.mark.parametrize(("parts", "visit", "tasks"), [(True, True, ["parts", "visit"]), (True, False, ["parts"]),
                                                       (False, False, ["remote"])])
def test_an_inclusive_gateway_takes_every_true_branch_and_joins_them(bpmn, parts, visit, tasks):
    engine, sessions, _calls = bpmn
    deploy(engine, sessions, "inclusive.bpmn")
    iid = start(engine, sessions, "inclusive", {"needsParts": parts, "needsVisit": visit})
    assert open_tasks(engine, sessions, iid) == tasks
    for task in tasks:
        assert instance(engine, sessions, iid)[0] == "running"
        complete(engine, sessions, iid, task)
    assert instance(engine, sessions, iid)[0] == "completed"


# --- 3. multi-instance ------------------------------------------------------------------------------


def test_multi_instance_sequential_and_parallel_with_a_completion_condition(bpmn):
    engine, sessions, calls = bpmn
    deploy(engine, sessions, "multi_instance.bpmn")
    iid = start(engine, sessions, "multi_instance", {"parts": ["P-100", "P-200"],
                                                     "approvers": ["finance", "supervisor", "technician"]})
    assert [(name, seen["part"]) for name, seen in calls] == [("test.record", "P-100"), ("test.record", "P-200")]
    with sessions() as s:
        assert sorted(t.assignee for t in engine.open_tasks(s, iid)) == ["finance", "supervisor", "technician"]
    for user in ("supervisor", "finance"):
        with sessions() as s:
            task = next(t for t in engine.open_tasks(s, iid) if t.assignee == user)
            engine.complete_task(s, task.id, Actor(user, frozenset({user})), {})
            s.commit()
        engine.live.clear()
    # two of three approved: the completion condition ends the third instance and the case
    assert open_tasks(engine, sessions, iid) == []
    assert instance(engine, sessions, iid)[0] == "completed"


def test_a_parallel_multi_instance_over_a_variable_the_case_lacks_stops_the_case_saying_which(bpmn):
    """SpiffWorkflow fails with a bare ``TypeError`` ('NoneType' object is not iterable); the case stops at the
    multi-instance naming the collection, which a supervisor can then set and retry."""
    engine, sessions, _calls = bpmn
    deploy(engine, sessions, "multi_instance.bpmn")
    iid = start(engine, sessions, "multi_instance", {"parts": ["P-100"]})  # no approvers
    with sessions() as s:
        inst = engine.get_instance(s, iid)
        assert (inst.state, inst.error_element, inst.error_message) == (
            "error", "approve", "multi-instance 'approve': its collection 'approvers' is not set (it needs a list)")


# --- 8. data objects -------------------------------------------------------------------------------


def test_data_objects_are_documentation_as_in_camunda(bpmn):
    engine, sessions, _calls = bpmn
    deploy(engine, sessions, "data_object.bpmn")
    iid = start(engine, sessions, "data_object")
    complete(engine, sessions, iid, "assess", {})
    assert open_tasks(engine, sessions, iid) == ["fix"]
    complete(engine, sessions, iid, "fix", {})
    assert instance(engine, sessions, iid)[0] == "completed"


def test_a_data_store_is_documentation_as_in_camunda(bpmn):
    engine, sessions, _calls = bpmn
    result = deploy(engine, sessions, "data_store.bpmn")  # SpiffWorkflow alone: "Data Store … has no implementation"
    assert [d.key for d in result.definitions] == ["data_store"]
    iid = start(engine, sessions, "data_store")
    complete(engine, sessions, iid, "look_up", {})
    assert open_tasks(engine, sessions, iid) == ["book"]
    complete(engine, sessions, iid, "book", {})
    assert instance(engine, sessions, iid)[0] == "completed"


# --- 7. cron timer cycles (Camunda's Quartz cron, seconds first) ---------------------------------------


def test_a_cron_timer_start_starts_cases_on_its_schedule(bpmn, clock):
    engine, sessions, _calls = bpmn
    deploy(engine, sessions, "cron_timers.bpmn")  # the clock: Monday 2026-11-23 17:00 Shanghai time
    with sessions() as s:
        row = s.get(ScheduledStart, "cron_timers")
        assert as_utc(row.next_due) == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Tuesday 09:00 Shanghai
    clock.set(datetime(2026, 11, 24, 1, 0, 1, tzinfo=UTC))
    with sessions() as s:
        (row,) = engine.due_starts(s)
        started = engine.start_scheduled(s, row)
        s.commit()
        assert started is not None and started.key == "cron_timers"
    with sessions() as s:
        assert as_utc(s.get(ScheduledStart, "cron_timers").next_due) == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    clock.set(datetime(2026, 11, 28, 1, 0, 1, tzinfo=UTC))  # Saturday: Friday's was the last of the week
    with sessions() as s:
        assert as_utc(s.get(ScheduledStart, "cron_timers").next_due) < clock.now()
        (row,) = engine.due_starts(s)
        engine.start_scheduled(s, row)
        s.commit()
    with sessions() as s:
        assert as_utc(s.get(ScheduledStart, "cron_timers").next_due) == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def test_a_cron_cycle_on_a_boundary_timer_fires_at_each_occurrence(bpmn, clock):
    engine, sessions, calls = bpmn
    deploy(engine, sessions, "cron_timers.bpmn")
    clock.set(datetime(2026, 11, 24, 1, 10, tzinfo=UTC))  # 09:10 Shanghai
    iid = start(engine, sessions, "cron_timers")
    with sessions() as s:
        assert engine.next_timer_due(s) == datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    for minute in (31, 1):
        clock.set(clock.now().replace(hour=1 if minute == 31 else 2, minute=minute))
        with sessions() as s:
            assert engine.due_timers(s) == [iid]
            engine.fire_timers(s, iid)
            s.commit()
        engine.live.clear()
    assert [name for name, _v in calls] == ["test.record", "test.record"]
    with sessions() as s:
        assert engine.next_timer_due(s) == datetime(2026, 11, 24, 2, 30, tzinfo=UTC)
    assert open_tasks(engine, sessions, iid) == ["call_back"]


def test_a_cron_that_is_not_a_fixed_interval_is_refused_on_a_boundary_timer(bpmn):
    engine, sessions, _calls = bpmn
    xml = (DATA / "cron_timers.bpmn").read_bytes().replace(b"0 0/30 * * * ?", b"0 0 9 ? * MON-FRI")
    with sessions() as s, pytest.raises(DiagramInvalid) as caught:
        engine.deploy(s, {"cron_timers.bpmn": xml}, ADMIN)
    assert [(p.element_id, p.code) for p in caught.value.problems] == [("TimerEventDefinition_remind", "cron_timer")]


# --- 9. DMN decision requirements graphs (issue 16) ----------------------------------------------------


@pytest.mark.parametrize(("device", "repairs", "fee"), [("aircon", 3, 240.0), ("fridge", 0, 200.0)])
def test_a_decision_requirements_graph_evaluates_required_decisions_first(bpmn, device, repairs, fee):
    engine, sessions, _calls = bpmn
    deploy(engine, sessions, "repair_fee.dmn", "repair_fee.bpmn")
    iid = start(engine, sessions, "repair_fee_quote", {"device_type": device, "repairs_last_year": repairs})
    state, _e, _m, variables = instance(engine, sessions, iid)
    assert state == "running"
    assert variables["fee"] == fee
    # only the decision the task names sets variables; the required ones' results are handed down
    assert not {"base", "rate", "level"} & set(variables)


def test_a_missing_required_decision_is_a_located_deploy_error(bpmn):
    engine, sessions, _calls = bpmn
    xml = (DATA / "repair_fee.dmn").read_bytes().replace(b'<requiredDecision href="#discount" />',
                                                         b'<requiredDecision href="#loyalty" />')
    with sessions() as s, pytest.raises(DiagramInvalid) as caught:
        engine.deploy(s, {"repair_fee.dmn": xml}, ADMIN)
    assert [(p.file, p.element_id, p.line, p.code, p.params) for p in caught.value.problems] == \
        [("repair_fee.dmn", "repair_fee", 8, "decision_missing", {"decision": "loyalty"})]


# --- a fresh case never conflicts (issue 13: three corpus diagrams answered 409 at start) ---------------

CORPUS = DATA.parents[2] / "shared" / "corpus" / "camunda7" / "files"
FRESH = {"platform-scenario__BoundaryInterruptingTimerTest.bpmn": ("BoundaryInterruptingTimerTest", ["UserTask"]),
         "platform-scenario__ParallelTimerIntermediateTest.bpmn": ("ParallelTimerIntermediateTest", ["UserTask"]),
         "spiffworkflow__call_activity_with_message.bpmn": ("Subprocess", ["Activity_EnterPlan"])}


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared/corpus is not beside this checkout")
@pytest.mark.parametrize("name", sorted(FRESH))
def test_corpus_diagrams_with_timers_and_messages_start_without_a_conflict(bpmn, name):
    """Their user tasks name nobody: the start once inserted an empty batch of notices and answered 409."""
    engine, sessions, _calls = bpmn
    with sessions() as s:
        engine.deploy(s, {name: (CORPUS / name).read_bytes()}, ADMIN)
        s.commit()
    key, tasks = FRESH[name]
    iid = start(engine, sessions, key)
    assert instance(engine, sessions, iid)[0] == "running"
    assert open_tasks(engine, sessions, iid) == tasks


# --- 10. connectors: http-connector (httpx) and mail-connector (the outbox) ---------------------------------


@pytest.mark.parametrize("mail", ["mail-connector", "mail-send"])
def test_http_and_mail_connectors_map_in_call_and_map_out(bpmn, mail):
    engine, sessions, _calls = bpmn
    sent: list[httpx.Request] = []

    def courier(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(201, json={"pickup": "PU-7"})

    engine.settings["http_transport"] = httpx.MockTransport(courier)
    with sessions() as s:
        xml = (DATA / "connectors.bpmn").read_bytes().replace(b"mail-connector", mail.encode())
        engine.deploy(s, {"connectors.bpmn": xml}, ADMIN)
        s.commit()
    iid = start(engine, sessions, "connectors", {"courierToken": "t0k", "address": "上海市长宁区 1 号",
                                                 "parcels": 2, "email": "wang@example.com"})
    (request,) = sent
    assert (request.method, str(request.url)) == ("POST", "https://courier.example.com/api/pickups")
    assert request.headers["authorization"] == "Bearer t0k"
    assert json.loads(request.content) == {"address": "上海市长宁区 1 号", "parcels": 2}
    state, _e, _m, variables = instance(engine, sessions, iid)
    assert state == "completed"
    assert (variables["courierStatus"], json.loads(variables["pickupBody"])) == (201, {"pickup": "PU-7"})
    assert not {"url", "method", "headers", "payload", "statusCode", "response", "to", "subject", "text"} & set(variables)
    with sessions() as s:
        (mail,) = s.query(Notification).filter_by(instance_id=iid).all()
        assert (mail.kind, mail.recipient, mail.subject, json.loads(mail.body)) == \
            ("mail", "email:wang@example.com", "Your repair is on its way", {"pickup": "PU-7"})


def test_a_connector_other_than_http_and_mail_is_refused_with_element_and_line(bpmn):
    engine, sessions, _calls = bpmn
    xml = (DATA / "connectors.bpmn").read_bytes().replace(b"mail-connector", b"soap-http-connector")
    with sessions() as s, pytest.raises(DiagramInvalid) as caught:
        engine.deploy(s, {"connectors.bpmn": xml}, ADMIN)
    assert [(p.element_id, p.line, p.code, p.params) for p in caught.value.problems] == \
        [("mail_customer", 36, "connector", {"name": "soap-http-connector"})]


def test_a_listener_failing_as_a_task_completes_stops_the_case_there_with_the_task_still_open(database_url, clock):
    """The end listener of a user task fails: the case stops in ``error`` at that task, which stays open
    with what was entered (Camunda rolls the completion back); the caller gets the case, never a crash.
    Once the handler works again, ``retry`` and completing the task finish the case."""
    registry = handlers.default_registry()
    broken = {"review": True}

    def audit(ctx):
        if broken.get(ctx.element_id):
            raise RuntimeError("audit service unreachable")
        return {"audited": True}

    registry.register("auditLogger", audit)
    for name in ("com.acme.aftersales.NotifyCustomer", "mailer.send(execution)"):
        registry.register(name, lambda ctx, name=name: {f"{name.split('.')[-1]}_ran": True})
    engine, sessions, db = build(registry, database_url, clock=clock)
    seed(sessions, clock.now())
    try:
        deploy(engine, sessions, "java_delegates.bpmn")
        iid = start(engine, sessions, "java_delegates", {"customer": "Wang Fang", "amount": 40})
        assert instance(engine, sessions, iid)[:3] == ("running", None, None)
        complete(engine, sessions, iid, "review", {})
        state, where, message, _variables = instance(engine, sessions, iid)
        assert (state, where) == ("error", "review")
        assert "RuntimeError" in message or "audit service unreachable" in message
        assert open_tasks(engine, sessions, iid) == ["review"]
        broken["review"] = False
        with sessions() as s:
            engine.retry(s, iid, ADMIN)
            s.commit()
        engine.live.clear()
        assert instance(engine, sessions, iid)[0] == "running"
        complete(engine, sessions, iid, "review", {})
        assert instance(engine, sessions, iid)[0] == "completed"
    finally:
        db.dispose()
