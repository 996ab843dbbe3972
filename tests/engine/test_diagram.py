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


# The lanes each shipped diagram is drawn with (tools/draw_lanes.py), top to bottom: the group that
# starts the case, then each group in the order the flow reaches it.
SHIPPED_LANES = {
    "repair.bpmn": ["customer_service", "tech_support", "supervisor", "finance", "logistics", "technician",
                    "regional_manager"],
    "dispatch.bpmn": ["warehouse", "technician"],
    "return_exchange.bpmn": ["customer_service", "supervisor", "warehouse", "finance", "logistics"],
    "complaint.bpmn": ["customer_service", "emergency_team", "tech_support", "supervisor", "warehouse", "marketing"],
    "follow_up.bpmn": ["customer_service"],
    "parts_replenishment.bpmn": ["warehouse"],
    "consultation.bpmn": ["customer_service", "supervisor"],
    "travel_expense.bpmn": ["technician", "supervisor", "finance"],
    "stock_report.bpmn": ["warehouse"],
}
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
DC = "{http://www.omg.org/spec/DD/20100524/DC}"
OMGDI = "{http://www.omg.org/spec/DD/20100524/DI}"


def _box(shape) -> tuple[float, float, float, float]:
    b = shape.find(f"{DC}Bounds")
    x, y = float(b.get("x")), float(b.get("y"))
    return x, y, x + float(b.get("width")), y + float(b.get("height"))


def _inside(inner, outer) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def _on_border(point, box) -> bool:
    x, y = point
    within_x, within_y = box[0] <= x <= box[2], box[1] <= y <= box[3]
    return (within_y and x in (box[0], box[2])) or (within_x and y in (box[1], box[3]))


def test_every_shipped_diagram_has_one_and_only_one_lane_file():
    assert sorted(p.name for p in PROCESSES.glob("*.bpmn")) == sorted(SHIPPED_LANES)


@pytest.mark.parametrize("name", sorted(SHIPPED_LANES))
def test_shipped_diagrams_have_a_lane_per_group_holding_its_tasks(name):
    from engine.groups import DOMAIN_GROUPS, group_for_lane

    root = etree.parse(str(PROCESSES / name)).getroot()
    (process,) = root.findall(f"{{{BPMN}}}process")
    # a pool as Camunda Modeler 5 writes it, and the diagram drawn on it
    (collaboration,) = root.findall(f"{{{BPMN}}}collaboration")
    (participant,) = collaboration.findall(f"{{{BPMN}}}participant")
    assert participant.get("processRef") == process.get("id") and participant.get("name") == process.get("name")
    assert root.find(f"{{{DI}}}BPMNDiagram/{{{DI}}}BPMNPlane").get("bpmnElement") == collaboration.get("id")

    lanes = process.findall(f"{{{BPMN}}}laneSet/{{{BPMN}}}lane")
    groups = [group_for_lane(lane.get("name")) for lane in lanes]
    assert groups == SHIPPED_LANES[name]
    for lane, group in zip(lanes, groups, strict=True):  # the group's Chinese name, its English as label_en
        assert lane.get("name") == DOMAIN_GROUPS[group][0]
        assert lane.find(f"{{{BPMN}}}extensionElements/{CAMUNDA}properties/{CAMUNDA}property").get("value") \
            == DOMAIN_GROUPS[group][1]
    lane_of = {ref.text: group for lane, group in zip(lanes, groups, strict=True)
               for ref in lane.findall(f"{{{BPMN}}}flowNodeRef")}
    nodes = [e for e in process if isinstance(e.tag, str) and e.get("id") and etree.QName(e).localname not in (
        "sequenceFlow", "laneSet")]
    assert sorted(lane_of) == sorted(n.get("id") for n in nodes)  # every step in exactly one lane
    assert sum(len(lane.findall(f"{{{BPMN}}}flowNodeRef")) for lane in lanes) == len(nodes)
    for task in process.findall(f"{{{BPMN}}}userTask"):
        candidate = task.get(f"{CAMUNDA}candidateGroups")
        assert candidate  # a lane only decides for a task without candidate groups: none here
        if "${" not in candidate:
            assert lane_of[task.get("id")] == candidate.split(",")[0].strip(), task.get("id")

    # drawn: the pool holds the lanes, stacked without overlapping, each lane every shape of its steps
    shapes = {s.get("bpmnElement"): s for s in root.iter(f"{{{DI}}}BPMNShape")}
    pool = _box(shapes[participant.get("id")])
    assert shapes[participant.get("id")].get("isHorizontal") == "true"
    bands = [_box(shapes[lane.get("id")]) for lane in lanes]
    assert all(shapes[lane.get("id")].get("isHorizontal") == "true" for lane in lanes)
    assert all(_inside(band, pool) for band in bands)
    assert all(upper[3] == lower[1] for upper, lower in zip(bands, bands[1:], strict=False))
    band_of = {group: band for group, band in zip(groups, bands, strict=True)}
    for node in nodes:
        assert _inside(_box(shapes[node.get("id")]), band_of[lane_of[node.get("id")]]), node.get("id")
    # no two steps' shapes overlap (a boundary event sits on its host's border)
    boxes = [(n.get("id"), _box(shapes[n.get("id")])) for n in nodes
             if etree.QName(n).localname != "boundaryEvent"]
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1:]:
            assert box_a[2] <= box_b[0] or box_b[2] <= box_a[0] or box_a[3] <= box_b[1] or box_b[3] <= box_a[1], (a, b)
    # every flow runs at right angles from its source's border to its target's
    flows = {f.get("id"): f for f in process.findall(f"{{{BPMN}}}sequenceFlow")}
    for edge in root.iter(f"{{{DI}}}BPMNEdge"):
        flow = flows[edge.get("bpmnElement")]
        points = [(float(w.get("x")), float(w.get("y"))) for w in edge.findall(f"{OMGDI}waypoint")]
        assert all(a[0] == b[0] or a[1] == b[1] for a, b in zip(points, points[1:], strict=False)), flow.get("id")
        assert _on_border(points[0], _box(shapes[flow.get("sourceRef")])), flow.get("id")
        assert _on_border(points[-1], _box(shapes[flow.get("targetRef")])), flow.get("id")


@pytest.mark.parametrize("name", sorted(SHIPPED_LANES))
def test_drawing_the_lanes_again_changes_nothing(name):
    import importlib.util

    spec = importlib.util.spec_from_file_location("draw_lanes", PROCESSES.parent / "tools" / "draw_lanes.py")
    draw_lanes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(draw_lanes)
    xml = (PROCESSES / name).read_bytes()
    assert draw_lanes.draw(xml) == xml
