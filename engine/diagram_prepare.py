"""Preparing a diagram's XML for SpiffWorkflow: what Camunda Modeler writes, rewritten into what runs.

Timers and conditions become Python (JUEL, bare ISO 8601, a Camunda cron on a boundary timer); a
gateway branch without a condition becomes true (as Camunda takes it, in the file's order); data
associations, data stores and their references are dropped (Camunda 7 never moves data along them); ``camunda:collection="${x}"``
names its variable; timer start events become plain starts (``engine.schedules`` starts those cases).
Every problem found is returned with file, element and line.
"""

from __future__ import annotations

import re

from lxml import etree
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS

from . import diagram_xml, expressions, js_scripts, sandbox
from .errors import Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_C = f"{{{CAMUNDA_MODEL_NS}}}"


_TIMER_TAGS = {f"{{{BPMN_NS}}}{t}" for t in ("timeDuration", "timeDate", "timeCycle")}
_CONDITION_TAGS = {f"{{{BPMN_NS}}}{t}" for t in ("conditionExpression", "completionCondition", "condition")}


def _owner_id(node) -> str | None:
    while node is not None:
        if node.get("id"):
            return node.get("id")
        node = node.getparent()
    return None


def unconditioned_branches(root) -> list[tuple[str, int | None, list]]:
    """(gateway id, line, flows) per exclusive or inclusive gateway with branches that have no condition and
    are not the default: Camunda takes such a branch as true, and so do we (with a deploy warning)."""
    found = []
    for process in root.iter(f"{{{BPMN_NS}}}process", f"{{{BPMN_NS}}}subProcess"):
        outgoing: dict[str, list] = {}
        for f in process.findall(f"{{{BPMN_NS}}}sequenceFlow"):
            outgoing.setdefault(f.get("sourceRef"), []).append(f)
        for tag in ("exclusiveGateway", "inclusiveGateway"):
            for node in process.findall(f"{{{BPMN_NS}}}{tag}"):
                out = outgoing.get(node.get("id"), [])
                if len(out) < 2:
                    continue
                bare = [f for f in out if f.get("id") != node.get("default") and not (
                    f.find(f"{{{BPMN_NS}}}conditionExpression") is not None
                    and (f.find(f"{{{BPMN_NS}}}conditionExpression").text or "").strip())]
                if bare:
                    found.append((node.get("id"), node.sourceline, bare))
    return found


def _take_as_true(root) -> None:
    """A branch without a condition gets ``True``. At an exclusive gateway Camunda takes the first true branch
    in the order the file lists them, SpiffWorkflow tests them top to bottom as drawn: each branch's condition
    becomes "mine and none listed before", so the file's order decides, whatever the layout."""
    for gateway, _line, _flows in unconditioned_branches(root):
        node = root.xpath("//*[@id=$i]", i=gateway)[0]
        exclusive = etree.QName(node).localname == "exclusiveGateway"
        earlier: list[str] = []
        for flow in node.getparent().findall(f"{{{BPMN_NS}}}sequenceFlow"):
            if flow.get("sourceRef") != gateway or flow.get("id") == node.get("default"):
                continue
            condition = flow.find(f"{{{BPMN_NS}}}conditionExpression")
            if condition is None:
                condition = etree.SubElement(flow, f"{{{BPMN_NS}}}conditionExpression")
            mine = expressions.juel_to_python((condition.text or "").strip()) or "True"
            condition.text = f"({mine}) and not ({' or '.join(earlier)})" if exclusive and earlier else mine
            earlier.append(f"({mine})")


def _drop_data_associations(root) -> None:
    """Camunda 7 never moves data along data associations (data objects and data stores are documentation):
    neither do we. SpiffWorkflow would copy a variable of the data object's id, and stop when there is none;
    it refuses a data store it has no Python class for ("Data Store … has no implementation"), so the data
    stores and their references go too (the diagram's drawing keeps their shapes)."""
    for tag in ("dataInputAssociation", "dataOutputAssociation", "dataStoreReference", "dataStore"):
        for node in list(root.iter(f"{{{BPMN_NS}}}{tag}")):
            node.getparent().remove(node)


_NAME = re.compile(r"^[A-Za-z_]\w*$")


def _collections(root, filename: str) -> list[Problem]:
    """``camunda:collection="${approvers}"`` names the variable ``approvers`` (SpiffWorkflow wants the bare name)."""
    problems = []
    for node in root.iter(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics"):
        text = node.get(_C + "collection")
        if text is None:
            continue
        name = expressions.juel_to_python(text).strip()
        if _NAME.match(name):
            node.set(_C + "collection", name)
        else:
            problems.append(Problem(filename, _owner_id(node), node.sourceline,
                                    f"multi-instance collection '{text}' must name a variable, e.g. ${{approvers}}",
                                    "collection_invalid", {"text": text}))
    return problems


def _java(filename: str, node, kind: str, call: str) -> Problem:
    return Problem(filename, _owner_id(node), node.sourceline,
                   f"{kind} calls Java ('{call}'), which cannot run here: write it in Python over the case's variables",
                   "java_code", {"attribute": kind, "name": call})


def _as_python(filename: str, node, kind: str, text: str, python: str) -> list[Problem]:
    """Put ``python`` (the timer's or condition's ``text`` rewritten) in ``node``; the problem if it cannot
    run: a Java method call, or an expression the sandbox refuses (``timer_invalid``, ``condition_invalid``)."""
    node.text = python
    reason = sandbox.check_expression(python)
    java = None if reason else expressions.java_call(python)
    if java:
        return [_java(filename, node, kind, java)]
    if reason:
        return [Problem(filename, _owner_id(node), node.sourceline, f"{kind} '{text}': {reason}", f"{kind}_invalid",
                        {"text": text})]
    return []


def prepare(data: bytes, filename: str) -> tuple[etree._Element, list[Problem]]:
    """Parse one file and rewrite timers and conditions into Python; collect problems."""
    problems: list[Problem] = []
    root = diagram_xml.parse(diagram_xml.as_camunda(data), filename)
    strip_timer_starts(root)
    _take_as_true(root)
    _drop_data_associations(root)
    problems += _collections(root, filename)
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        if node.tag in _TIMER_TAGS and node.text:
            text = node.text.strip()
            if expressions.looks_like_cron(text):
                reason = expressions.cron_cycle_problem(text, etree.QName(node).localname)
                if reason:
                    problems.append(Problem(filename, _owner_id(node), node.sourceline, f"cron timer '{text}': {reason}",
                                            "cron_timer", {"text": text}))
                else:
                    node.text = f"cron_cycle({text!r})"
                continue
            problems += _as_python(filename, node, "timer", text, expressions.timer_to_python(text))
        elif node.tag in _CONDITION_TAGS and node.text and node.text.strip():
            text = node.text.strip()
            problems += _as_python(filename, node, "condition", text, expressions.juel_to_python(text))
        elif node.tag == f"{{{BPMN_NS}}}script" and node.text:
            owner = node.getparent()
            fmt = (owner.get("scriptFormat") or "python").lower()
            if js_scripts.is_js(fmt):  # runs in QuickJS (engine/js_scripts.py)
                found = js_scripts.deploy_problem(filename, _owner_id(node), node, "script")
                problems += [found] if found else []
                continue
            if fmt not in ("python", "py"):
                problems.append(Problem(filename, _owner_id(node), node.sourceline,
                                        f"script format '{fmt}' is not supported; scripts are Python or JavaScript",
                                        "script_format", {"format": fmt}))
                continue
            reason = sandbox.check_script(node.text)
            if reason:
                problems.append(Problem(filename, _owner_id(node), node.sourceline, f"script: {reason}", "script_invalid"))
    return root, problems



def timer_starts(root) -> list[tuple[str, str, str, str, int | None]]:
    """(process id, start event id, timeCycle|timeDate|timeDuration, expression, line) per timer start."""
    found = []
    for process in root.findall(f"{{{BPMN_NS}}}process"):
        for start in process.findall(f"{{{BPMN_NS}}}startEvent"):
            timer = start.find(f"{{{BPMN_NS}}}timerEventDefinition")
            if timer is None:
                continue
            for child in timer:
                if isinstance(child.tag, str) and child.tag in _TIMER_TAGS:
                    found.append((process.get("id"), start.get("id"), etree.QName(child).localname,
                                  (child.text or "").strip(), child.sourceline))
    return found


def strip_timer_starts(root) -> None:
    """A timer start becomes a plain start for SpiffWorkflow; ``engine.schedules`` starts the cases."""
    for process in root.findall(f"{{{BPMN_NS}}}process"):
        for start in process.findall(f"{{{BPMN_NS}}}startEvent"):
            timer = start.find(f"{{{BPMN_NS}}}timerEventDefinition")
            if timer is not None:
                start.remove(timer)


