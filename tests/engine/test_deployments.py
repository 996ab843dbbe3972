"""Deploying: validation names file, element and line; versions; identical content is no new version."""

from __future__ import annotations

import pytest

from engine.errors import DiagramInvalid, NotPermitted
from engine.users import Actor
from tests.conftest import DATA, process_files
from web import views

OWNER = Actor("owner", frozenset({"process_owner"}))
CS = Actor("customer_service", frozenset({"customer_service"}))
CLAIM = (DATA / "warranty_claim.bpmn").read_bytes()


def _deploy(engine, sessions, files, actor=OWNER):
    with sessions() as s:
        result = engine.deploy(s, files, actor)
        s.commit()
        return result


def _problems(engine, sessions, files):
    with sessions() as s, pytest.raises(DiagramInvalid) as err:
        engine.deploy(s, files, OWNER)
    return err.value.problems


def test_versions_and_identical_content(core):
    engine, sessions = core
    first = _deploy(engine, sessions, {"claim.bpmn": CLAIM})
    assert [(d.key, d.version, d.changed) for d in first.definitions] == [("warranty_claim", 1, True)]
    again = _deploy(engine, sessions, {"claim.bpmn": CLAIM})
    assert again.deployment_id is None and [(d.version, d.changed) for d in again.definitions] == [(1, False)]
    with sessions() as s:
        running = engine.start(s, "warranty_claim", CS, variables={"customer": "Acme", "amount": 5})
        s.commit()
    changed = CLAIM.replace(b'name="Review claim"', b'name="Review the claim"')
    second = _deploy(engine, sessions, {"claim.bpmn": changed})
    assert [(d.version, d.changed) for d in second.definitions] == [(2, True)]
    with sessions() as s:
        fresh = engine.start(s, "warranty_claim", CS, variables={"customer": "Acme", "amount": 5})
        s.commit()
        old = engine.get_instance(s, running.id)
        assert (old.version, fresh.version) == (1, 2)  # running cases stay on their version
        assert views.instance_view(engine, s, old)["tasks"][0]["name"] == "Review claim"
        assert views.instance_view(engine, s, fresh)["tasks"][0]["name"] == "Review the claim"
    # the processes/ set redeployed unchanged creates nothing
    assert not _deploy(engine, sessions, process_files()).changed


def test_only_admins_and_process_owners_deploy(core):
    engine, sessions = core
    with sessions() as s, pytest.raises(NotPermitted):
        engine.deploy(s, {"claim.bpmn": CLAIM}, CS)


def test_broken_xml_names_the_line(core):
    engine, sessions = core
    (p,) = _problems(engine, sessions, {"broken.bpmn": CLAIM.replace(b"</bpmn:process>", b"</bpmn:proces>")})
    assert p.file == "broken.bpmn" and p.line and "not well-formed" in p.message


def test_a_topic_without_handler_deploys_with_a_warning_naming_element_and_line(core):
    """Issue 13: such a topic waits for an external worker (engine/external_tasks.py)."""
    engine, sessions = core
    with sessions() as s:
        result = engine.deploy(s, {"flaky.bpmn": (DATA / "flaky.bpmn").read_bytes()}, OWNER)
    (w,) = [w for w in result.warnings if w.code == "external_topic"]
    assert (w.file, w.element_id, w.line, w.name) == ("flaky.bpmn", "book", 8, "test.flaky")
    assert w.message.startswith("topic 'test.flaky' has no Python handler: this step waits for an external worker")


def test_a_user_task_naming_nobody_deploys_with_a_warning_naming_element_and_line(core):
    """Issue 16: it opens unassigned, for admins and process owners to hand out; the deploy says so. A task
    in a lane (its group), naming a user by ``${…}``, or a group in another dialect names someone."""
    engine, sessions = core
    with sessions() as s:
        result = engine.deploy(s, {"check.bpmn": (DATA / "unassigned_check.bpmn").read_bytes(),
                                   "five_ways.bpmn": (DATA / "five_ways.bpmn").read_bytes(),
                                   "lanes.bpmn": (DATA / "lanes.bpmn").read_bytes()}, OWNER)
    nobody = [(w.file, w.element_id, w.line, w.name) for w in result.warnings if w.code == "nobody_named"]
    assert nobody == [("check.bpmn", "record_check", 12, "登记抽检结果"), ("five_ways.bpmn", "nobody", 16, "Nobody named")]
    (w,) = [w for w in result.warnings if w.element_id == "record_check"]
    assert w.message.startswith("user task '登记抽检结果' names no assignee, candidate group or user: it opens unassigned")
    operaton = (DATA / "unassigned_check.bpmn").read_bytes().replace(
        b'camunda:dueDate="PT4H"', b'operaton:candidateGroups="finance"').replace(
        b'xmlns:modeler=', b'xmlns:operaton="http://operaton.org/schema/1.0/bpmn" xmlns:modeler=')
    with sessions() as s:
        again = engine.deploy(s, {"check.bpmn": operaton}, OWNER)
    assert [w.code for w in again.warnings] == []


def test_scripts_conditions_and_timers_are_checked_before_storing(core):
    engine, sessions = core
    bad = CLAIM.replace(b"${!approved}", b"${__import__('os').system('id')}").replace(b">PT2S<", b">0 0 9 ? * MON<")
    problems = _problems(engine, sessions, {"claim.bpmn": bad})
    by_element = {p.element_id: p for p in problems}
    assert "Flow_Gateway_ok_Activity_fix" in by_element and "__import__" in by_element["Flow_Gateway_ok_Activity_fix"].message
    assert "cron timer" in by_element["TimerDef_Event_remind"].message
    assert all(p.line for p in problems)
    with sessions() as s:
        from engine.deployments import versions

        assert versions(s, "warranty_claim") == []  # nothing stored


def test_a_called_process_not_deployed_yet_is_a_warning_naming_the_call(database_url, clock):
    """As in Camunda (``calledElement`` is resolved when the activity runs): it deploys, the report says
    which call activity waits for which process (tests/engine/test_decisions_deployed_later.py runs it)."""
    import handlers
    from engine.wiring import build

    engine, sessions, db = build(handlers.default_registry(), database_url, clock=clock)
    files = process_files()  # with the decision tables repair uses, so only the called process is missing
    with sessions() as s:
        report = engine.deploy(s, {k: files[k] for k in ("repair.bpmn", "repair_fee.dmn", "finance_approval.dmn")},
                               Actor("admin", frozenset({"admin"})))
        s.commit()
    calls = [(w.element_id, w.name) for w in report.warnings if w.code == "called_process_missing"]
    assert calls == [("call_dispatch", "dispatch")]
    db.dispose()


def test_form_with_unsupported_type_is_refused(core):
    engine, sessions = core
    bad = CLAIM.replace(b'id="amount" label="Claimed amount" type="long"', b'id="amount" label="Claimed amount" type="money"')
    (p,) = _problems(engine, sessions, {"claim.bpmn": bad})
    assert p.element_id == "StartEvent_1" and "unsupported type 'money'" in p.message


def test_structure_is_checked_before_anything_is_stored(core):
    engine, sessions = core
    bad = (CLAIM.replace(b'camunda:candidateGroups="finance"', b'camunda:candidateGroups="accounting"')
           .replace(b'${!approved}', b'').replace(b'<bpmn:sequenceFlow id="Flow_StartEvent_1_Activity_review"',
                                                  b'<bpmn:sequenceFlow id="Flow_StartEvent_1_Activity_review_x"'))
    bad = bad.replace(b'sourceRef="StartEvent_1" targetRef="Activity_review"', b'sourceRef="StartEvent_1" targetRef="Event_done"')
    problems = {(p.element_id, p.message.split(" (")[0].split(":")[0]) for p in _problems(engine, sessions, {"c.bpmn": bad})}
    assert not any("accounting" in message for _element, message in problems)  # groups are data: a warning
    assert not any("condition" in message for _element, message in problems)  # taken as true, with a warning
    assert ("Activity_review", "unreachable") in problems


def test_every_problem_is_reported_at_once_each_with_its_code(core):
    """Issue 11: what reading finds (an unreachable step) and what building the process finds (a due
    date that can never be counted) come in one answer."""
    engine, sessions = core
    bad = (CLAIM.replace(b"${!approved}", b"")
           .replace(b'camunda:candidateGroups="finance">', b'camunda:candidateGroups="finance" camunda:dueDate="soon">')
           .replace(b'sourceRef="Activity_pay" targetRef="Event_done"', b'sourceRef="Activity_pay" targetRef="Activity_n"')
           .replace(b"</bpmn:process>", b'<bpmn:userTask id="Activity_orphan" />'
                                        b'<bpmn:serviceTask id="Activity_n" camunda:type="external" camunda:topic="no.such" />'
                                        b'<bpmn:sequenceFlow id="Flow_n" sourceRef="Activity_n" targetRef="Event_done" />'
                                        b"</bpmn:process>"))
    found = {(p.element_id, p.code) for p in _problems(engine, sessions, {"c.bpmn": bad})}
    assert found == {("Activity_orphan", "unreachable"),
                     ("Activity_pay", "due_date_invalid")}  # Activity_n's topic waits for a worker: no problem


def test_a_diagram_mixing_condition_languages_deploys_with_a_warning(core):
    engine, sessions = core
    assert _deploy(engine, sessions, {"claim.bpmn": CLAIM}).warnings == []  # all ${…}: one language
    mixed = CLAIM.replace(b"${!approved}", b"not approved")
    result = _deploy(engine, sessions, {"claim.bpmn": mixed})
    (w,) = result.warnings
    assert (w.code, w.file, w.name) == ("conditions_mixed", "claim.bpmn", "${approved && amount <= 10000}")
    assert w.line and "and plain Python (1)" in w.message
    assert [d.version for d in result.definitions] == [2]  # a warning, not a refusal


def test_shipped_diagrams_write_conditions_in_plain_python(core):
    from engine import condition_language, diagram_xml

    mixes = {name: condition_language.mixed(diagram_xml.parse(xml, name))
             for name, xml in process_files().items() if name.endswith(".bpmn")}
    assert {name for name, mix in mixes.items() if mix is not None} == set()
