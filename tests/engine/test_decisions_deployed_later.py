"""A diagram whose decision table or called process is deployed after it (issue 13).

Camunda Modeler deploys the file that is open, one at a time, and Camunda 7 resolves a business rule
task's ``decisionRef`` when the task runs. So the process deploys with a warning naming the task and its
line; a case reaching the task stops there in ``error`` saying which table is missing; once the table is
deployed, retrying the case binds it and the case goes on.
"""

from __future__ import annotations

from engine.models import OpenTask
from engine.users import Actor
from tests.conftest import ROOT

ADMIN = Actor("admin", frozenset({"admin"}))
CS = Actor("cs", frozenset({"customer_service"}))
QUOTE = (ROOT / "tests" / "data" / "repair_fee.bpmn").read_bytes().replace(
    b'id="repair_fee_quote"', b'id="loyalty_quote"').replace(
    b'bpmnElement="repair_fee_quote"', b'bpmnElement="loyalty_quote"').replace(
    b'camunda:decisionRef="repair_fee"', b'camunda:decisionRef="loyalty_bonus"')
LOYALTY = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Definitions_loyalty" name="Loyalty"
             namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="loyalty_bonus" name="Loyalty bonus">
    <decisionTable id="DecisionTable_loyalty" hitPolicy="FIRST">
      <input id="Input_years" label="Years a customer">
        <inputExpression id="InputExpression_years" typeRef="integer"><text>years</text></inputExpression>
      </input>
      <output id="Output_bonus" label="Bonus" name="bonus" typeRef="integer" />
      <rule id="Rule_1">
        <inputEntry id="Entry_1"><text>&gt;= 3</text></inputEntry>
        <outputEntry id="Out_1"><text>50</text></outputEntry>
      </rule>
      <rule id="Rule_2">
        <inputEntry id="Entry_2"><text></text></inputEntry>
        <outputEntry id="Out_2"><text>0</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


def _line_of(data: bytes, needle: bytes) -> int:
    return data[:data.index(needle)].count(b"\n") + 1


def test_the_process_deploys_before_its_table_and_a_case_goes_on_once_the_table_is_deployed(core):
    engine, sessions = core
    with sessions() as s:
        report = engine.deploy(s, {"loyalty_quote.bpmn": QUOTE}, ADMIN)
        s.commit()
    (warning,) = [w for w in report.warnings if w.code == "decision_missing"]
    assert (warning.file, warning.element_id, warning.line, warning.name) == (
        "loyalty_quote.bpmn", "price", _line_of(QUOTE, b'<bpmn:businessRuleTask id="price"'), "loyalty_bonus")

    with sessions() as s:
        iid = engine.start(s, "loyalty_quote", CS, variables={"years": 4}).id
        s.commit()
    with sessions() as s:
        inst = engine.get_instance(s, iid)
        assert (inst.state, inst.error_element) == ("error", "price")
        assert "decision table 'loyalty_bonus' is not deployed" in inst.error_message
        assert "loyalty_bonus" not in (inst.bindings or {})

    with sessions() as s:  # retried before the table exists: stops at the same step again
        engine.retry(s, iid, ADMIN)
        s.commit()
    with sessions() as s:
        assert engine.get_instance(s, iid).state == "error"

    with sessions() as s:
        report = engine.deploy(s, {"loyalty.dmn": LOYALTY}, ADMIN)
        s.commit()
    assert [(d.key, d.version) for d in report.definitions] == [("loyalty_bonus", 1)]
    with sessions() as s:
        engine.retry(s, iid, ADMIN)
        s.commit()
    with sessions() as s:
        inst = engine.get_instance(s, iid)
        assert (inst.state, inst.bindings["loyalty_bonus"]) == ("running", 1)
        assert engine.variables(s, inst)["bonus"] == 50
        assert [t.element_id for t in s.query(OpenTask).filter_by(instance_id=iid)] == ["confirm"]  # the call ran to its end


def test_a_case_started_after_the_table_is_deployed_runs_straight_through(core):
    engine, sessions = core
    with sessions() as s:
        engine.deploy(s, {"loyalty_quote.bpmn": QUOTE}, ADMIN)
        engine.deploy(s, {"loyalty.dmn": LOYALTY}, ADMIN)
        s.commit()
    with sessions() as s:
        iid = engine.start(s, "loyalty_quote", CS, variables={"years": 1}).id
        s.commit()
    with sessions() as s:
        inst = engine.get_instance(s, iid)
        assert (inst.state, engine.variables(s, inst)["bonus"]) == ("running", 0)


PRICING = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  id="Definitions_pricing" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="pricing" name="Pricing" isExecutable="true">
    <bpmn:startEvent id="p_start"><bpmn:outgoing>p1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="p1" sourceRef="p_start" targetRef="set_price" />
    <bpmn:scriptTask id="set_price" name="Set the price" scriptFormat="python">
      <bpmn:incoming>p1</bpmn:incoming><bpmn:outgoing>p2</bpmn:outgoing>
      <bpmn:script>price = 120</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="p2" sourceRef="set_price" targetRef="p_end" />
    <bpmn:endEvent id="p_end"><bpmn:incoming>p2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_process_deploys_before_the_process_it_calls_and_a_case_goes_on_once_that_is_deployed(core):
    """The same for a call activity: Camunda resolves ``calledElement`` when the activity runs."""
    engine, sessions = core
    calling = QUOTE.replace(b'<bpmn:businessRuleTask id="price" name="Price the repair" camunda:resultVariable="feeResult" '
                            b'camunda:decisionRef="loyalty_bonus" camunda:mapDecisionResult="singleEntry">',
                            b'<bpmn:callActivity id="price" name="Price the repair" calledElement="pricing">').replace(
        b"</bpmn:businessRuleTask>", b"</bpmn:callActivity>")
    with sessions() as s:
        report = engine.deploy(s, {"calling.bpmn": calling}, ADMIN)
        s.commit()
    (warning,) = [w for w in report.warnings if w.code == "called_process_missing"]
    assert (warning.element_id, warning.line, warning.name) == (
        "price", _line_of(calling, b'<bpmn:callActivity id="price"'), "pricing")
    with sessions() as s:
        iid = engine.start(s, "loyalty_quote", CS, variables={"years": 4}).id
        s.commit()
    with sessions() as s:
        inst = engine.get_instance(s, iid)
        assert (inst.state, inst.error_element) == ("error", "price")
        assert inst.error_message.startswith("The called process 'pricing' was not found")
    with sessions() as s:
        engine.deploy(s, {"pricing.bpmn": PRICING}, ADMIN)
        s.commit()
    with sessions() as s:
        engine.retry(s, iid, ADMIN)
        s.commit()
    with sessions() as s:
        inst = engine.get_instance(s, iid)
        assert (inst.state, inst.bindings["pricing"]) == ("running", 1)
        assert [t.element_id for t in s.query(OpenTask).filter_by(instance_id=iid)] == ["confirm"]  # the call ran to its end
