"""What Camunda Modeler writes for people: lanes, candidate users, due dates; and the shipped
diagrams keep their layout for the modeler."""

from __future__ import annotations

import pytest
from lxml import etree

from engine.users import Actor
from tests.conftest import DATA, PROCESSES
from web import views

OWNER = Actor("owner", frozenset({"process_owner"}))
CS = Actor("customer_service", frozenset({"customer_service"}))
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"


def test_lanes_candidate_users_and_due_dates(core, clock):
    engine, sessions = core
    with sessions() as s:
        engine.deploy(s, {"lanes.bpmn": (DATA / "lanes.bpmn").read_bytes()}, OWNER)
        inst = engine.start(s, "lanes", CS, variables={"picker": "bob"})
        s.commit()
        (task,) = engine.list_tasks(s, CS, instance_id=inst.id)
        view = views.task_view(engine, s, task)
        # a task in a lane without candidate groups goes to the group the lane names (here in Chinese)
        assert view["candidate_groups"] == ["customer_service"]
        assert view["due_at"] == (clock.now().replace(microsecond=clock.now().microsecond)
                                  + __import__("datetime").timedelta(hours=1)).isoformat()
        engine.complete_task(s, task.id, CS, {})
        s.commit()
        bob = Actor("bob", frozenset())
        (pick,) = engine.list_tasks(s, bob, instance_id=inst.id)
        view = views.task_view(engine, s, pick)
        assert view["candidate_groups"] == ["warehouse"] and view["candidate_users"] == ["alice", "bob"]
        assert view["due_at"] == "2026-12-01T01:00:00+00:00"
        assert engine.list_tasks(s, Actor("carol", frozenset()), instance_id=inst.id) == []


@pytest.mark.parametrize("path", sorted(PROCESSES.glob("*.bpmn")), ids=lambda p: p.name)
def test_shipped_diagrams_have_their_layout(path):
    root = etree.parse(str(path)).getroot()
    drawn = {e.get("bpmnElement") for e in root.iter(f"{{{DI}}}BPMNShape", f"{{{DI}}}BPMNEdge")}
    elements = [e for process in root.iter(f"{{{BPMN}}}process") for e in process
                if isinstance(e.tag, str) and e.get("id") and not e.tag.endswith(("laneSet", "extensionElements"))]
    missing = [e.get("id") for e in elements if e.get("id") not in drawn]
    assert elements and missing == []
    edges = [e for e in root.iter(f"{{{DI}}}BPMNEdge")]
    assert all(len(e.findall("{http://www.omg.org/spec/DD/20100524/DI}waypoint")) >= 2 for e in edges)
