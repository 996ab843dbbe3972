"""Diagrams written by Camunda 7's successors and forerunners run as Camunda's do (issues 13 and 16).

Operaton (the community fork of Camunda 7.24) writes ``operaton:`` attributes, Flowable ``flowable:``,
Activiti ``activiti:``: the same attribute names under another namespace. Each shipped diagram,
rewritten into a dialect as that tool would save it, deploys and runs exactly like the original.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.models import Definition, OpenTask
from engine.users import Actor
from tests.conftest import process_files

ADMIN = Actor("admin", frozenset({"admin"}))
CS = Actor("customer_service", frozenset({"customer_service"}))
CAMUNDA = 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'
DIALECTS = {
    "operaton": "http://operaton.org/schema/1.0/bpmn",
    "flowable": "http://flowable.org/bpmn",
    "activiti": "http://activiti.org/bpmn",
}
RETURN = dict(order_no="SO-778", product="实木餐桌 Dining table", quantity=1, reason="no_longer_wanted",
              request_type="refund", purchase_date="2026-09-27", unused=True, packaging_intact=True, has_proof=True,
              channel="store", contact_name="赵六", contact_phone="13700000000")


def in_dialect(data: bytes, prefix: str) -> bytes:
    text = data.decode()
    assert CAMUNDA in text
    return text.replace(CAMUNDA, f'xmlns:{prefix}="{DIALECTS[prefix]}"').replace("camunda:", f"{prefix}:").encode()


@pytest.mark.parametrize("prefix", sorted(DIALECTS))
def test_a_shipped_flow_in_another_dialect_runs_like_the_camunda_original(core, clock, prefix):
    engine, sessions = core
    clock.set(datetime(2026, 9, 30, 8, 0, tzinfo=UTC))
    files = {name: in_dialect(data, prefix) if name.endswith(".bpmn") else data
             for name, data in process_files().items()}
    assert b"camunda:" not in files["return_exchange.bpmn"]
    with sessions() as s:
        report = engine.deploy(s, files, ADMIN)
        s.commit()
    assert ("return_exchange", 2) in {(d.key, d.version) for d in report.definitions}
    with sessions() as s:
        iid = engine.start(s, "return_exchange", CS, variables=dict(RETURN)).id
        s.commit()
    with sessions() as s:
        inst = engine.get_instance(s, iid)
        definition = s.get(Definition, inst.definition_id)
        assert definition.version == 2
        assert f"{prefix}:decisionRef".encode() in definition.xml  # stored (and exported) in its own dialect
        assert engine.variables(s, inst)["eligible"] is True  # the decision table behind operaton:decisionRef ran
        (task,) = s.query(OpenTask).filter_by(instance_id=inst.id).all()
        assert (task.element_id, task.candidate_groups.strip(","), task.due_at.isoformat()[:16]) == (
            "review", "customer_service", "2026-10-08T08:00")
