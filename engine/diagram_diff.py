"""What changed between two versions of a diagram, element by element and attribute by attribute:
names, candidate groups, assignees, topics, due dates, conditions, timers, scripts and form fields —
and of a decision table: its hit policy, its columns and, rule by rule, every cell."""

from __future__ import annotations

from lxml import etree

from . import diagram_xml
from .diagram import BPMN_NS

_C = "http://camunda.org/schema/1.0/bpmn"
_SKIP = {"incoming", "outgoing", "extensionElements", "documentation"}


def _short(attr: str) -> str:
    if attr.startswith(f"{{{_C}}}"):
        return "camunda:" + attr.split("}", 1)[1]
    return attr.split("}", 1)[-1]


def _form(node) -> dict[str, str]:
    out: dict[str, str] = {}
    for field in node.iter(f"{{{_C}}}formField"):
        fid = field.get("id")
        for attr in ("label", "type", "defaultValue"):
            if field.get(attr) is not None:
                out[f"form.{fid}.{attr}"] = field.get(attr)
        for c in field.iter(f"{{{_C}}}constraint"):
            out[f"form.{fid}.{c.get('name')}"] = c.get("config") or "true"
        values = [f"{v.get('id')}={v.get('name')}" for v in field.iter(f"{{{_C}}}value")]
        if values:
            out[f"form.{fid}.values"] = ", ".join(values)
    return out


def signature(node) -> dict[str, str]:
    """The attributes of one element that matter to how it runs."""
    sig = {"type": etree.QName(node).localname}
    sig.update({_short(k): v for k, v in node.attrib.items() if k != "id"})
    for child in node.iter():
        if child is node or not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        if local in ("conditionExpression", "timeDuration", "timeDate", "timeCycle", "script", "completionCondition") \
                and child.text and child.text.strip():
            sig[local] = child.text.strip()
        elif local.endswith("EventDefinition"):
            sig["event"] = local + (f":{child.get('messageRef')}" if child.get("messageRef") else "")
    ext = node.find(f"{{{BPMN_NS}}}extensionElements")
    if ext is not None:
        sig.update(_form(ext))
        for prop in ext.iter(f"{{{_C}}}property"):
            sig[f"property.{prop.get('name')}"] = prop.get("value") or ""
    return sig


def _text(node, path: str) -> str:
    found = node.xpath(path)
    return (found[0].text or "").strip() if found else ""


def dmn_elements(root) -> dict[str, tuple[str, dict[str, str]]]:
    """A decision table's parts: the decision (hit policy), each input and output column, each rule
    (a cell per column, named by the column's label, and its annotation)."""
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for decision in root.xpath("//*[local-name()='decision']"):
        for table in decision.xpath("*[local-name()='decisionTable']"):
            found[decision.get("id")] = (decision.get("name") or "", {"type": "decision",
                                                                     "hitPolicy": table.get("hitPolicy") or "UNIQUE"})
            inputs = table.xpath("*[local-name()='input']")
            outputs = table.xpath("*[local-name()='output']")
            for col in inputs:
                found[col.get("id")] = (col.get("label") or "", {"type": "input", "expression": _text(col, ".//*[local-name()='text']"),
                                                                 "typeRef": col.xpath("string(*[local-name()='inputExpression']/@typeRef)")})
            for col in outputs:
                found[col.get("id")] = (col.get("label") or "", {"type": "output", "name": col.get("name") or "",
                                                                 "typeRef": col.get("typeRef") or ""})
            for n, rule in enumerate(table.xpath("*[local-name()='rule']"), 1):
                sig = {"type": "rule", "row": str(n), "description": _text(rule, "*[local-name()='description']")}
                for col, cell in zip(inputs, rule.xpath("*[local-name()='inputEntry']"), strict=False):
                    sig[f"if {col.get('label') or col.get('id')}"] = _text(cell, "*[local-name()='text']") or "-"
                for col, cell in zip(outputs, rule.xpath("*[local-name()='outputEntry']"), strict=False):
                    sig[f"then {col.get('label') or col.get('name')}"] = _text(cell, "*[local-name()='text']")
                found[rule.get("id")] = (sig["description"], sig)
    return found


def elements(xml: bytes) -> dict[str, tuple[str, dict[str, str]]]:
    root = diagram_xml.parse_stored(xml)
    if etree.QName(root).localname == "definitions" and "DMN" in etree.QName(root).namespace.upper():
        return dmn_elements(root)
    found = {}
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        for node in process.iter():
            if node is process or not isinstance(node.tag, str) or not node.get("id"):
                continue
            if etree.QName(node).localname in _SKIP or node.getparent().tag == f"{{{_C}}}formData":
                continue
            if not node.tag.startswith(f"{{{BPMN_NS}}}") or etree.QName(node).localname.endswith("EventDefinition") \
                    or etree.QName(node).localname in ("laneSet", "lane", "conditionExpression"):
                continue
            found[node.get("id")] = (node.get("name") or "", signature(node))
    return found


def diff(old_xml: bytes, new_xml: bytes) -> dict:
    old, new = elements(old_xml), elements(new_xml)
    changes: list[dict] = []
    for eid in sorted(set(old) | set(new)):
        if eid not in new:
            changes.append({"element_id": eid, "name": old[eid][0], "change": "removed", "type": old[eid][1]["type"]})
        elif eid not in old:
            changes.append({"element_id": eid, "name": new[eid][0], "change": "added", "type": new[eid][1]["type"]})
        else:
            a, b = old[eid][1], new[eid][1]
            attrs = [{"attribute": k, "old": a.get(k), "new": b.get(k)} for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
            if attrs:
                changes.append({"element_id": eid, "name": new[eid][0], "change": "changed", "type": b["type"],
                                "attributes": attrs})
    return {
        "added": [c["element_id"] for c in changes if c["change"] == "added"],
        "removed": [c["element_id"] for c in changes if c["change"] == "removed"],
        "changed": [c["element_id"] for c in changes if c["change"] == "changed"],
        "changes": changes,
    }
