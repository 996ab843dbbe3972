"""Draw a diagram with a pool and one lane per group that works in it, as Camunda Modeler 5 writes them.

``python tools/draw_lanes.py FILE…`` rewrites each BPMN file in place: a ``bpmn:collaboration`` with one
``bpmn:participant`` for the process, a ``bpmn:laneSet`` with one lane per group (lane ``name`` the
group's Chinese name from ``engine.groups.DOMAIN_GROUPS``, English as the extension property
``label_en``), and the diagram interchange to match: a horizontal shape for the pool and each lane,
every flow node moved vertically into its lane's band (x kept; lanes stacked in the order the flow
first reaches them), sequence flows re-routed orthogonally from the source's border to the target's,
labels moved with their element. Running it twice changes nothing.

Which lane a node goes in: a user task in the lane of its (first literal) candidate group; the start
event in the lane of who starts the case (``STARTED_BY``, else the group of the first user task the
flow reaches); every other node — service tasks, gateways, events, a user task whose group is an
expression — in the lane of the step before it; a boundary event in its host's lane. Lanes only
decide the group of a task without ``candidateGroups`` (``engine/diagram.py``), so nothing of what
runs changes for the shipped diagrams, whose every task names its groups.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys
from collections import deque

from lxml import etree

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.groups import DOMAIN_GROUPS, group_for_lane  # noqa: E402

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
OMGDI = "http://www.omg.org/spec/DD/20100524/DI"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
B, D, C = f"{{{BPMN}}}", f"{{{DI}}}", f"{{{CAMUNDA}}}"

# Who opens a case of the shipped flows that people start (the start event's lane).
STARTED_BY = {"repair": "customer_service", "complaint": "customer_service", "return_exchange": "customer_service",
              "consultation": "customer_service", "travel_expense": "technician"}
POOL_HEADER = 30  # the pool's name band on the left, as bpmn-js draws it
MARGIN = 40  # between the outermost shapes and the pool's border
TOP = 60  # the pool's top
ROW = 160  # one row of shapes in a lane
GAP = 20  # the least room between two shapes side by side in a row
_NOT_NODES = ("sequenceFlow", "laneSet", "extensionElements", "documentation", "textAnnotation", "association",
              "dataObject", "dataObjectReference", "dataStoreReference")


def _local(el) -> str:
    return etree.QName(el).localname


def _literal_group(node) -> str | None:
    groups = [g.strip() for g in (node.get(f"{C}candidateGroups") or "").split(",") if g.strip()]
    return groups[0] if groups and "${" not in groups[0] and "#{" not in groups[0] else None


def lane_name(group: str) -> tuple[str, str]:
    """The lane's name and English label for a group: the domain's Chinese name, else the group id."""
    zh, en = DOMAIN_GROUPS.get(group, (group, ""))
    return zh, en


def assign_lanes(process, started_by: str | None = None) -> tuple[dict[str, str], list[str]]:
    """(group per flow node id, groups in the order the flow first reaches them)."""
    nodes = {n.get("id"): n for n in process if isinstance(n.tag, str) and _local(n) not in _NOT_NODES
             and n.get("id")}
    flows = [f for f in process.findall(f"{B}sequenceFlow")]
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for f in flows:
        incoming.setdefault(f.get("targetRef"), []).append(f.get("sourceRef"))
        outgoing.setdefault(f.get("sourceRef"), []).append(f.get("targetRef"))
    boundaries: dict[str, list[str]] = {}
    for nid, n in nodes.items():
        if _local(n) == "boundaryEvent":
            boundaries.setdefault(n.get("attachedToRef"), []).append(nid)
    current = {}  # the lane a node is in now: keeps a task without a literal group where it was drawn
    for lane in process.iter(f"{B}lane"):
        for ref in lane.findall(f"{B}flowNodeRef"):
            current[(ref.text or "").strip()] = group_for_lane(lane.get("name") or lane.get("id"))
    starts = [nid for nid, n in nodes.items() if _local(n) == "startEvent" and nid not in incoming]

    order: list[str] = []  # flow order: breadth first from the starts, a host's boundary events after it
    seen = set()
    queue = deque(starts)
    while queue or len(seen) < len(nodes):
        if not queue:
            queue.append(next(n for n in nodes if n not in seen))
        nid = queue.popleft()
        if nid in seen or nid not in nodes:
            continue
        seen.add(nid)
        order.append(nid)
        queue.extend(boundaries.get(nid, []))
        queue.extend(outgoing.get(nid, []))

    lane: dict[str, str] = {}
    for nid in order:
        n = nodes[nid]
        if _local(n) == "userTask":
            group = _literal_group(n) or current.get(nid)
            if group:
                lane[nid] = group
    first_task = next((lane[n] for n in order if n in lane), None)
    for nid in starts:
        lane[nid] = started_by or first_task or "customer_service"
    joins = {nid for nid, n in nodes.items() if _local(n).endswith("Gateway")
             and len(incoming.get(nid, [])) > 1 and len(outgoing.get(nid, [])) == 1}
    for patient in (True, False):  # a join serves the step after it; failing that, the one before
        changed = True
        while changed:
            changed = False
            for nid in order:
                if nid in lane:
                    continue
                n = nodes[nid]
                if nid in joins and patient:
                    before = outgoing[nid]
                else:
                    before = [n.get("attachedToRef")] if _local(n) == "boundaryEvent" else incoming.get(nid, [])
                found = next((lane[p] for p in before if p in lane), None)
                if found:
                    lane[nid] = found
                    changed = True
    for nid in order:
        lane.setdefault(nid, first_task or "customer_service")
    groups: list[str] = []
    for nid in order:
        if lane[nid] not in groups:
            groups.append(lane[nid])
    return lane, groups


def _property(parent, value: str) -> None:
    ext = etree.SubElement(parent, f"{B}extensionElements")
    props = etree.SubElement(ext, f"{C}properties")
    etree.SubElement(props, f"{C}property", name="label_en", value=value)


def _bounds(shape) -> list[float]:
    b = shape.find(f"{{{DC}}}Bounds")
    return [float(b.get(k)) for k in ("x", "y", "width", "height")]


def _set_bounds(el, x: float, y: float, w: float, h: float) -> None:
    b = el.find(f"{{{DC}}}Bounds")
    if b is None:
        b = etree.SubElement(el, f"{{{DC}}}Bounds")
    for k, v in (("x", x), ("y", y), ("width", w), ("height", h)):
        b.set(k, f"{v:g}" if v != int(v) else str(int(v)))


def _crossings(points: list[tuple[float, float]], boxes: list[list[float]]) -> int:
    """How many of the shapes a route's segments run through."""
    hit = 0
    for x, y, w, h in boxes:
        for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
            if max(ax, bx) > x + 2 and min(ax, bx) < x + w - 2 and max(ay, by) > y + 2 and min(ay, by) < y + h - 2:
                hit += 1
                break
    return hit


def _overlaps(points: list[tuple[float, float]], drawn: list[tuple[tuple[float, float], tuple[float, float]]]) -> int:
    """How many segments of the flows drawn so far a route would run along."""
    hit = 0
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        for (cx, cy), (dx, dy) in drawn:
            if ax == bx == cx == dx and min(max(ay, by), max(cy, dy)) - max(min(ay, by), min(cy, dy)) > 2:
                hit += 1
            elif ay == by == cy == dy and min(max(ax, bx), max(cx, dx)) - max(min(ax, bx), min(cx, dx)) > 2:
                hit += 1
    return hit


def _route(src: list[float], tgt: list[float], kind: str, others: list[list[float]],
           drawn: list[tuple[tuple[float, float], tuple[float, float]]]) -> list[tuple[float, float]]:
    """Orthogonal waypoints from the source's border to the target's: of the usual shapes of a flow
    (straight, a step, an L, a U round below or above), the first that runs through the fewest other
    shapes and along the fewest flows drawn before it."""
    sx, sy, sw, sh = src
    tx, ty, tw, th = tgt
    scx, scy, tcx, tcy = sx + sw / 2, sy + sh / 2, tx + tw / 2, ty + th / 2
    down = tcy > scy
    below = max(sy + sh, ty + th) + 20
    above = min(sy, ty) - 20
    routes = []
    if kind == "boundaryEvent":  # leaves downwards, from the host's lower border
        if ty > sy + sh:
            routes.append([(scx, sy + sh), (scx, ty)] if tx <= scx <= tx + tw
                          else [(scx, sy + sh), (scx, tcy), (tx if tx > scx else tx + tw, tcy)])
        routes.append([(scx, sy + sh), (scx, below), (tcx, below), (tcx, ty + th)])
    else:
        if abs(scy - tcy) < 1:
            if tx >= sx + sw:
                routes.append([(sx + sw, scy), (tx, tcy)])
            elif tx + tw <= sx:
                routes.append([(sx, scy), (tx + tw, tcy)])
        elif tx <= scx <= tx + tw:
            routes.append([(scx, sy + sh if down else sy), (scx, ty if down else ty + th)])
        else:
            step = [] if tx < sx + sw + 20 else [[(sx + sw, scy), (round((sx + sw + tx) / 2), scy),
                                                  (round((sx + sw + tx) / 2), tcy), (tx, tcy)]]
            vertical = [[(scx, sy + sh if down else sy), (scx, tcy), (tx if tx > scx else tx + tw, tcy)]]
            routes += vertical + step if kind == "gateway" else step + vertical
            if not sx <= tcx <= sx + sw:
                routes.append([(sx + sw if tcx > scx else sx, scy), (tcx, scy), (tcx, ty if down else ty + th)])
        routes.append([(scx, sy + sh), (scx, below), (tcx, below), (tcx, ty + th)])
        routes.append([(scx, sy), (scx, above), (tcx, above), (tcx, ty)])
    return min(routes, key=lambda r: 2 * _crossings(r, others) + _overlaps(r, drawn))


def _place_label(edge, points: list[tuple[float, float]]) -> None:
    label = edge.find(f"{D}BPMNLabel")
    if label is None or label.find(f"{{{DC}}}Bounds") is None:
        return
    _, _, w, h = _bounds(label)
    (x0, y0), (x1, y1) = points[0], points[1]
    if x0 == x1:  # leaves vertically: beside the line, near the source
        _set_bounds(label, x0 + 4, min(y0, y1) + (abs(y1 - y0) - h) / 2 if abs(y1 - y0) < 60
                    else (y0 + 6 if y1 > y0 else y0 - h - 6), w, h)
    else:  # leaves horizontally: above the line's middle
        _set_bounds(label, round((x0 + x1 - w) / 2), y0 - h - 3, w, h)


def draw(xml: bytes, started_by: str | None = None) -> bytes:
    """The diagram with its pool and lanes drawn (see the module's doc)."""
    root = etree.fromstring(xml)
    process = root.find(f"{B}process")
    pid = process.get("id")
    lanes, groups = assign_lanes(process, started_by or STARTED_BY.get(pid))

    for old in root.findall(f"{B}collaboration"):
        root.remove(old)
    for old in process.findall(f"{B}laneSet"):
        process.remove(old)
    collab = etree.Element(f"{B}collaboration", id=f"Collaboration_{pid}")
    participant = etree.SubElement(collab, f"{B}participant", id=f"Participant_{pid}",
                                   name=process.get("name") or pid, processRef=pid)
    en = next((p.get("value") for p in process.iterfind(f"{B}extensionElements/{C}properties/{C}property")
               if p.get("name") == "label_en"), None)
    if en:
        _property(participant, en)
    root.insert(list(root).index(process), collab)
    lane_set = etree.Element(f"{B}laneSet", id=f"LaneSet_{pid}")
    anchor = [i for i, e in enumerate(process) if isinstance(e.tag, str) and _local(e) in (
        "documentation", "extensionElements")]
    process.insert(anchor[-1] + 1 if anchor else 0, lane_set)
    for group in groups:
        zh, en_name = lane_name(group)
        lane = etree.SubElement(lane_set, f"{B}lane", id=f"Lane_{group}", name=zh)
        if en_name:
            _property(lane, en_name)
        for node in process:  # in the file's order
            if isinstance(node.tag, str) and lanes.get(node.get("id")) == group:
                etree.SubElement(lane, f"{B}flowNodeRef").text = node.get("id")

    plane = root.find(f"{D}BPMNDiagram/{D}BPMNPlane")
    plane.set("bpmnElement", collab.get("id"))
    shapes = {s.get("bpmnElement"): s for s in plane.findall(f"{D}BPMNShape")}
    for key in [k for k in shapes if k == participant.get("id") or k.startswith("Lane_")]:
        plane.remove(shapes.pop(key))
    nodes = {n.get("id"): n for n in process if isinstance(n.tag, str) and n.get("id") in lanes}
    hosts = {nid: n.get("attachedToRef") for nid, n in nodes.items() if _local(n) == "boundaryEvent"}

    # rows: per lane, the lines its shapes were drawn on (top to bottom), each in the first row where
    # it overlaps nothing from left to right — a drawn line stays whole, so its straight flows cross no shape
    centre = {nid: _bounds(shapes[nid])[1] + _bounds(shapes[nid])[3] / 2 for nid in lanes if nid in shapes}
    lines: dict[str, list[list[str]]] = {g: [] for g in groups}
    for nid in sorted((n for n in centre if n not in hosts), key=lambda n: (centre[n], _bounds(shapes[n])[0])):
        drawn = lines[lanes[nid]]
        if drawn and centre[nid] - centre[drawn[-1][0]] <= 20:
            drawn[-1].append(nid)
        else:
            drawn.append([nid])
    rows: dict[str, list[list[tuple[float, float]]]] = {g: [] for g in groups}
    row_of = {}
    for g in groups:
        for line in lines[g]:
            span = (min(_bounds(shapes[n])[0] for n in line) - GAP / 2,
                    max(_bounds(shapes[n])[0] + _bounds(shapes[n])[2] for n in line) + GAP / 2)
            band = rows[g]
            i = next((k for k, row in enumerate(band) if all(span[1] <= a or span[0] >= b for a, b in row)),
                     len(band))
            if i == len(band):
                band.append([])
            band[i].append(span)
            row_of.update({n: i for n in line})
    lane_top, y = {}, TOP
    for g in groups:
        lane_top[g] = y
        y += ROW * max(1, len(rows[g]))
    bottom = y
    dy = {nid: lane_top[lanes[nid]] + ROW * i + ROW / 2 - centre[nid] for nid, i in row_of.items()}
    for nid, host in hosts.items():
        if nid in centre:
            dy[nid] = dy.get(host, 0)
    for nid, d in dy.items():
        for part in (shapes[nid], shapes[nid].find(f"{D}BPMNLabel")):
            if part is not None and part.find(f"{{{DC}}}Bounds") is not None:
                x0, y0, w0, h0 = _bounds(part)
                _set_bounds(part, x0, y0 + d, w0, h0)

    xs = [b for nid in centre for part in (shapes[nid], shapes[nid].find(f"{D}BPMNLabel"))
          if part is not None and part.find(f"{{{DC}}}Bounds") is not None
          for b in (_bounds(part)[0], _bounds(part)[0] + _bounds(part)[2])]
    left, right = min(xs) - MARGIN - POOL_HEADER, max(xs) + MARGIN
    first = [etree.Element(f"{D}BPMNShape", id=f"{participant.get('id')}_di", bpmnElement=participant.get("id"),
                           isHorizontal="true")]
    _set_bounds(first[0], left, TOP, right - left, bottom - TOP)
    for g in groups:
        shape = etree.Element(f"{D}BPMNShape", id=f"Lane_{g}_di", bpmnElement=f"Lane_{g}", isHorizontal="true")
        _set_bounds(shape, left + POOL_HEADER, lane_top[g], right - left - POOL_HEADER,
                    ROW * max(1, len(rows[g])))
        first.append(shape)
    for i, shape in enumerate(first):
        plane.insert(i, shape)

    flows = {f.get("id"): f for f in process.findall(f"{B}sequenceFlow")}
    drawn: list[tuple[tuple[float, float], tuple[float, float]]] = []
    for edge in plane.findall(f"{D}BPMNEdge"):
        flow = flows.get(edge.get("bpmnElement"))
        if flow is None or flow.get("sourceRef") not in shapes or flow.get("targetRef") not in shapes:
            continue
        source = nodes.get(flow.get("sourceRef"))
        kind = _local(source) if source is not None else ""
        kind = "gateway" if kind.endswith("Gateway") else kind
        ends = (flow.get("sourceRef"), flow.get("targetRef"))
        others = [_bounds(shapes[n]) for n in nodes if n in shapes and n not in ends and hosts.get(n) not in ends[1:]]
        points = _route(_bounds(shapes[ends[0]]), _bounds(shapes[ends[1]]), kind, others, drawn)
        drawn += list(zip(points, points[1:], strict=False))
        for wp in edge.findall(f"{{{OMGDI}}}waypoint"):
            edge.remove(wp)
        for i, (px, py) in enumerate(points):
            wp = etree.Element(f"{{{OMGDI}}}waypoint", x=str(round(px)), y=str(round(py)))
            edge.insert(i, wp)
        _place_label(edge, points)

    etree.indent(root, space="  ")
    body = re.sub(rb"(?<! )/>", b" />", etree.tostring(root, encoding="UTF-8"))
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=pathlib.Path)
    parser.add_argument("--started-by", help="the group that starts the case (a diagram not in STARTED_BY)")
    args = parser.parse_args(argv)
    for path in args.files:
        before = path.read_bytes()
        after = draw(before, args.started_by)
        if after != before:
            path.write_bytes(after)
        print(f"{path}: {'drawn' if after != before else 'unchanged'}")


if __name__ == "__main__":
    main()
