"""A diagram whose decision table is deployed after it (issue 13).

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
        assert [t.element_id for t in s.query(OpenTask).filter_by(instance_id=iid)] == ["confirm"]


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


def test_a_called_flow_that_is_missing_is_still_refused_naming_the_call(core):
    engine, sessions = core
    calling = QUOTE.replace(b'<bpmn:businessRuleTask id="price" name="Price the repair" camunda:resultVariable="feeResult" '
                            b'camunda:decisionRef="loyalty_bonus" camunda:mapDecisionResult="singleEntry">',
                            b'<bpmn:callActivity id="price" name="Price the repair" calledElement="pricing">').replace(
        b"</bpmn:businessRuleTask>", b"</bpmn:callActivity>")
    import pytest

    from engine.errors import DiagramInvalid

    with sessions() as s, pytest.raises(DiagramInvalid) as refused:
        engine.deploy(s, {"calling.bpmn": calling}, ADMIN)
    assert [(p.element_id, p.code) for p in refused.value.problems] == [("price", "called_process_missing")]
