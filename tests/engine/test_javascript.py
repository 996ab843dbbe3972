"""Camunda 7 JavaScript in diagrams (``scriptFormat="javascript"``), run sandboxed in QuickJS: script
tasks, task listeners, ``camunda:resultVariable``; ``Java.type`` refused at deploy with its line; a
script that throws stops its case naming the element and the script's own message. (A runaway loop:
``tests/web/test_runaway_scripts.py``.) Diagrams are written as Camunda Modeler 5 writes them."""

from __future__ import annotations

import pytest

import handlers
from engine import js_scripts
from engine.errors import DiagramInvalid, ScriptFailed
from engine.script_budget import Budget
from engine.users import Actor
from engine.wiring import build
from tests.conftest import seed

ADMIN = Actor("admin", frozenset({"admin", "process_owner"}))
CS = Actor("customer_service", frozenset({"customer_service"}))
FINANCE = Actor("finance", frozenset({"finance"}))

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:modeler="http://camunda.org/schema/modeler/1.0"
  id="Definitions_1" targetNamespace="http://bpmn.io/schema/bpmn" exporter="Camunda Modeler"
  exporterVersion="5.17.0" modeler:executionPlatform="Camunda Platform" modeler:executionPlatformVersion="7.20.0">
"""

# A refund: a JavaScript script task works out the amount and who decides, a gateway reads it.
REFUND = HEAD + """  <bpmn:process id="js_refund" name="Refund" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="price" />
    <bpmn:scriptTask id="price" name="Work out the refund" scriptFormat="javascript" camunda:resultVariable="summary">
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>var refund = execution.getVariable("unitPrice") * quantity;
execution.setVariable("refund", refund);
execution.setVariable("needsApproval", refund &gt; 1000);
"refund " + refund + " for " + execution.getVariables().customer</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="price" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" name="Approval needed?" default="small">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>big</bpmn:outgoing><bpmn:outgoing>small</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="big" sourceRef="gw" targetRef="approve">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${needsApproval}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="small" sourceRef="gw" targetRef="pay" />
    <bpmn:userTask id="approve" name="Approve the refund" camunda:candidateGroups="finance">
      <bpmn:extensionElements>
        <camunda:taskListener event="create">
          <camunda:script scriptFormat="javascript">task.setVariable("approvalAsked", true);
if (!!task.getVariable("approver")) {
  task.setAssignee(approver);
}</camunda:script>
        </camunda:taskListener>
        <camunda:taskListener event="assignment">
          <camunda:script scriptFormat="JavaScript">task.setVariable("approvedBy", task.getAssignee());</camunda:script>
        </camunda:taskListener>
      </bpmn:extensionElements>
      <bpmn:incoming>big</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="approve" targetRef="pay" />
    <bpmn:userTask id="pay" name="Pay the refund" camunda:candidateGroups="finance">
      <bpmn:incoming>small</bpmn:incoming><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f4" sourceRef="pay" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def js(database_url, clock):
    engine, sessions, db = build(handlers.default_registry(), database_url, clock=clock)
    seed(sessions, clock.now())
    yield engine, sessions
    db.dispose()


def deploy(engine, sessions, xml: str, name: str = "refund.bpmn"):
    with sessions() as s:
        result = engine.deploy(s, {name: xml.encode()}, ADMIN)
        s.commit()
    return result


def refused(engine, sessions, xml: str) -> list[tuple]:
    with sessions() as s, pytest.raises(DiagramInvalid) as caught:
        engine.deploy(s, {"refund.bpmn": xml.encode()}, ADMIN)
    return [(p.element_id, p.line, p.code, p.message) for p in caught.value.problems]


def start(engine, sessions, variables: dict, key: str = "js_refund") -> int:
    with sessions() as s:
        iid = engine.start(s, key, CS, variables=variables).id
        s.commit()
    engine.live.clear()
    return iid


def case(engine, sessions, iid):
    with sessions() as s:
        inst = engine.get_instance(s, iid)
        tasks = sorted((t.element_id, t.assignee) for t in engine.open_tasks(s, iid))
        return inst.state, inst.error_element, inst.error_message, engine.variables(s, inst), tasks


def complete(engine, sessions, iid, element: str, actor: Actor = FINANCE, claim: bool = False) -> None:
    with sessions() as s:
        task = next(t for t in engine.open_tasks(s, iid) if t.element_id == element)
        if claim:
            engine.claim(s, task.id, actor)
        engine.complete_task(s, task.id, actor, {})
        s.commit()
    engine.live.clear()


def test_a_javascript_script_task_sets_the_variable_the_gateway_reads_and_its_result(js):
    engine, sessions = js
    deploy(engine, sessions, REFUND)

    small = start(engine, sessions, {"unitPrice": 120, "quantity": 2, "customer": "Wang Fang"})
    state, _where, _message, variables, tasks = case(engine, sessions, small)
    assert (state, tasks) == ("running", [("pay", None)])
    assert (variables["refund"], variables["needsApproval"]) == (240, False)
    assert variables["summary"] == "refund 240 for Wang Fang"  # camunda:resultVariable: the last expression

    big = start(engine, sessions, {"unitPrice": 700, "quantity": 2, "customer": "Li Lei"})
    state, _where, _message, variables, tasks = case(engine, sessions, big)
    assert (state, tasks) == ("running", [("approve", None)])
    assert (variables["refund"], variables["needsApproval"], variables["approvalAsked"]) == (1400, True, True)
    assert "approvedBy" not in variables  # nobody assigned yet: no assignment listener ran


def test_a_javascript_task_listener_assigns_the_task_and_the_assignment_listener_sees_it(js):
    engine, sessions = js
    deploy(engine, sessions, REFUND)
    iid = start(engine, sessions, {"unitPrice": 700, "quantity": 2, "customer": "Li Lei", "approver": "finance"})
    _state, _where, _message, variables, tasks = case(engine, sessions, iid)
    assert tasks == [("approve", "finance")]  # task.setAssignee(approver) in the create listener
    assert variables["approvedBy"] == "finance"  # the assignment listener ran as the task opened assigned
    complete(engine, sessions, iid, "approve")
    complete(engine, sessions, iid, "pay")
    assert case(engine, sessions, iid)[0] == "completed"


def test_an_assignment_listener_runs_for_a_claim_when_the_task_is_completed(js):
    engine, sessions = js
    deploy(engine, sessions, REFUND)
    iid = start(engine, sessions, {"unitPrice": 700, "quantity": 2, "customer": "Li Lei"})
    complete(engine, sessions, iid, "approve", claim=True)
    state, _where, _message, variables, tasks = case(engine, sessions, iid)
    assert (state, tasks, variables["approvedBy"]) == ("running", [("pay", None)], "finance")


def test_a_javascript_input_mapping_takes_the_value_of_its_last_expression_and_may_set_variables(js):
    engine, sessions = js
    xml = REFUND.replace('<bpmn:userTask id="pay" name="Pay the refund" camunda:candidateGroups="finance">', """
    <bpmn:userTask id="pay" name="Pay the refund" camunda:candidateGroups="finance">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:inputParameter name="payee"><camunda:script scriptFormat="javascript">execution.setVariable("defaultScore", 5);
customer.toUpperCase()</camunda:script></camunda:inputParameter>
      </camunda:inputOutput></bpmn:extensionElements>""")
    deploy(engine, sessions, xml)
    iid = start(engine, sessions, {"unitPrice": 1, "quantity": 1, "customer": "Wang Fang"})
    variables = case(engine, sessions, iid)[3]
    assert (variables["payee"], variables["defaultScore"]) == ("WANG FANG", 5)


def test_a_script_that_throws_stops_the_case_there_with_the_javascript_message(js):
    engine, sessions = js
    deploy(engine, sessions, REFUND.replace('var refund = execution.getVariable("unitPrice") * quantity;',
                                            'if (quantity &gt; 10) { throw new Error("more than ten parts: ask the '
                                            'warehouse"); }\nvar refund = unitPrice * quantity;'))
    iid = start(engine, sessions, {"unitPrice": 5, "quantity": 12, "customer": "Li Lei"})
    state, where, message, variables, tasks = case(engine, sessions, iid)
    assert (state, where, tasks) == ("error", "price", [])
    assert message == 'price: JavaScript line 1: Error: more than ten parts: ask the warehouse'
    assert "refund" not in variables


def test_javascript_sees_no_node_no_java_and_no_files(js):
    engine, sessions = js
    deploy(engine, sessions, REFUND.replace('var refund = execution.getVariable("unitPrice") * quantity;',
                                            'var fs = require("fs");'))
    iid = start(engine, sessions, {"unitPrice": 5, "quantity": 1, "customer": "Li Lei"})
    assert case(engine, sessions, iid)[:3] == ("error", "price", "price: JavaScript line 1: ReferenceError: "
                                                                 "'require' is not defined")


def test_java_type_in_javascript_is_refused_at_deploy_on_its_line(js):
    engine, sessions = js
    xml = REFUND.replace('execution.setVariable("refund", refund);',
                         'var System = Java.type("java.lang.System");\nexecution.setVariable("refund", refund);')
    line = xml.splitlines().index('var System = Java.type("java.lang.System");') + 1
    assert refused(engine, sessions, xml) == [
        ("price", line, "java_code", "script (JavaScript, its line 2) calls Java ('Java.type'), which cannot run here")]


def test_javascript_with_a_syntax_error_or_groovy_is_refused_at_deploy_with_element_and_line(js):
    engine, sessions = js
    broken = REFUND.replace('execution.setVariable("refund", refund);', 'execution.setVariable("refund", ;')
    line = broken.splitlines().index('execution.setVariable("refund", ;') + 1
    assert refused(engine, sessions, broken) == [
        ("price", line, "script_invalid", "script (JavaScript): line 2: SyntaxError: unexpected token in expression: ';'")]
    groovy = REFUND.replace('<camunda:script scriptFormat="JavaScript">', '<camunda:script scriptFormat="groovy">')
    line = groovy.splitlines().index('    <bpmn:userTask id="approve" name="Approve the refund" '
                                     'camunda:candidateGroups="finance">') + 1
    assert refused(engine, sessions, groovy) == [  # a listener's problem is on its element's line
        ("approve", line, "script_format",
         "taskListener script format 'groovy' is not supported; scripts are Python or JavaScript")]


@pytest.fixture
def small_budget():
    Budget.configure(seconds=5.0, memory_mb=16)
    yield
    Budget.configure(seconds=1.0, memory_mb=256)


def test_javascript_growing_past_the_memory_budget_is_stopped_with_that_message(small_budget):
    with pytest.raises(ScriptFailed) as caught:
        js_scripts.run("var a = [];\nwhile (true) { a.push('part ' + a.length); }", {}, "grow")
    assert (caught.value.element_id, caught.value.message) == \
        ("grow", "the JavaScript used more than the 16 MB memory budget")


def test_javascript_values_go_in_and_out_as_json_and_assigning_a_global_stores_nothing():
    out = js_scripts.run("customer = 'someone else';\nexecution.setVariable('when', new Date(0));\n"
                         "execution.setVariable('f', function () {});\nexecution.removeVariable('old');\n"
                         "({parts: execution.getVariable('parts').length, missing: execution.getVariable('nope')})",
                         {"customer": "Wang Fang", "parts": ["KF-35"], "old": 1}, "t")
    assert (out.set, out.removed, out.result) == ({"when": "1970-01-01T00:00:00.000Z", "f": None}, ["old"],
                                                  {"parts": 1, "missing": None})
