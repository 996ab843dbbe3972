"""What other modelers write that the corpus (issues 13 and 16) met: Java method calls in expressions
(refused at deploy, located, instead of stopping the case at run time), FEEL in ``camunda:script``
mappings, and Flowable/Activiti ``formProperty`` forms (issue 13 item 4). Each on a small diagram as its modeler writes it."""

from __future__ import annotations

import pytest

from engine.errors import DiagramInvalid, FormInvalid
from tests.conftest import DATA
from tests.engine.test_bpmn_constructs import ADMIN, CS, bpmn, complete, deploy, instance, open_tasks, start  # noqa: F401

# --- Java method calls in conditions and timers ---------------------------------------------------------


def test_java_calls_in_a_condition_and_a_timer_are_refused_at_deploy_with_element_and_line(bpmn):  # noqa: F811
    engine, sessions, _calls = bpmn
    with sessions() as s, pytest.raises(DiagramInvalid) as caught:
        engine.deploy(s, {"java_expressions.bpmn": (DATA / "java_expressions.bpmn").read_bytes()}, ADMIN)
    # the other branch, Python over the case's variables (a str method included), is not refused
    assert [(p.element_id, p.line, p.code, p.params) for p in caught.value.problems] == [
        ("TimerEventDefinition_1", 12, "java_code", {"attribute": "timer", "name": "timerUtil.getNextTimer(execution)"}),
        ("Flow_none", 22, "java_code", {"attribute": "condition", "name": "mail.getAttachments().isEmpty()"}),
    ]


def test_the_same_diagram_written_in_python_deploys(bpmn):  # noqa: F811
    engine, sessions, _calls = bpmn
    xml = ((DATA / "java_expressions.bpmn").read_bytes()
           .replace(b"${timerUtil.getNextTimer(execution)}", b"${print_at}")
           .replace(b"${mail.getAttachments().isEmpty()}", b"${not attachments}"))
    with sessions() as s:
        result = engine.deploy(s, {"java_expressions.bpmn": xml}, ADMIN)
    assert [d.key for d in result.definitions] == ["java_expressions"]


# --- FEEL in camunda:script mappings ----------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "category", "next_tasks"), [(1500, "defect", ["approve"]), (1500, "damage", []),
                                                                 (800, "defect", [])])
def test_a_feel_mapping_is_evaluated_as_feel(bpmn, amount, category, next_tasks):  # noqa: F811
    engine, sessions, _calls = bpmn
    deploy(engine, sessions, "feel_mapping.bpmn")
    iid = start(engine, sessions, "feel_mapping")
    complete(engine, sessions, iid, "quote", {"amount": amount, "category": category})
    assert open_tasks(engine, sessions, iid) == next_tasks
    assert instance(engine, sessions, iid)[3]["needs_approval"] is bool(next_tasks)


def test_feel_that_does_not_parse_is_refused_with_element_and_the_script_line(bpmn):  # noqa: F811
    engine, sessions, _calls = bpmn
    xml = (DATA / "feel_mapping.bpmn").read_bytes().replace(
        b'amount &gt; 1000 and category = "defect"', b'amount &gt; &gt; 1000 and category = "defect"')
    with sessions() as s, pytest.raises(DiagramInvalid) as caught:
        engine.deploy(s, {"feel_mapping.bpmn": xml}, ADMIN)
    assert [(p.element_id, p.line, p.code, p.params) for p in caught.value.problems] == \
        [("quote", 12, "feel_invalid", {"text": 'amount > > 1000 and category = "defect"', "near": ">",
                                        "column": 10})]


# --- Flowable/Activiti formProperty forms ---------------------------------------------------------------


def test_flowable_form_properties_are_the_task_and_start_forms(bpmn):  # noqa: F811
    engine, sessions, _calls = bpmn
    deploy(engine, sessions, "flowable_form_properties.bpmn")
    with sessions() as s, pytest.raises(FormInvalid) as refused:
        engine.start(s, "flowable_refund", ADMIN, variables={"customer": "Li Na"})
    assert refused.value.errors == {"amount": "is required"}
    iid = start(engine, sessions, "flowable_refund", {"customer": "Li Na", "amount": 300})
    with sessions() as s:
        (task,) = engine.open_tasks(s, iid)
        fields = [(f.id, f.label, f.type, f.required, f.readonly, f.default, f.options)
                  for f in engine.task_form(s, task)]
    assert fields == [  # the note is not readable: not shown, as in Flowable
        ("customer", "Customer", "string", False, True, None, []),
        ("decision", "Decision", "enum", True, False, None,
         [{"id": "approve", "name": "Approve"}, {"id": "reject", "name": "Reject"}]),
        ("refundDay", "Refund on", "date", False, False, None, []),
        ("notifyCustomer", "Notify the customer", "boolean", False, False, "true", []),
    ]
    with sessions() as s, pytest.raises(FormInvalid) as refused:
        engine.complete_task(s, task.id, CS, {"decision": "maybe"})
    assert refused.value.errors == {"decision": "'maybe' is not one of: approve, reject"}
    complete(engine, sessions, iid, "review", {"decision": "approve", "refundDay": "2026-12-10"})
    assert open_tasks(engine, sessions, iid) == ["pay"]
    assert instance(engine, sessions, iid)[3]["notifyCustomer"] is True
