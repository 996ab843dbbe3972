"""What a diagram from another tool needs from whoever drives it (issues 13 and 16), read from its XML:
the external topics it calls, the Java it names, the processes it calls, and the values its gateway
conditions test — so a driver can answer forms and stand in for workers without knowing the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

# Camunda 7 and the dialects that copy it: the attributes are the same under each prefix.
DIALECTS = {"http://camunda.org/schema/1.0/bpmn": "camunda", "http://operaton.org/schema/1.0/bpmn": "operaton",
            "http://activiti.org/bpmn": "activiti", "http://flowable.org/bpmn": "flowable"}
JAVA_ATTRIBUTES = ("class", "delegateExpression", "expression")
# Where those attributes name Java (SpiffWorkflow's Camunda dialect uses camunda:expression on a
# messageEventDefinition for the payload: not Java).
JAVA_ELEMENTS = ("serviceTask", "sendTask", "businessRuleTask")
_COMPARE = re.compile(r"""([A-Za-z_]\w*)\s*(==|!=|<=|>=|<|>|\beq\b|\bne\b|\blt\b|\bgt\b|\ble\b|\bge\b)\s*
                          ('([^']*)'|"([^"]*)"|(-?\d+(?:\.\d+)?)|true|false)""", re.VERBOSE)
_EQUALS = re.compile(r"""([A-Za-z_]\w*)\.equals\(\s*(?:'([^']*)'|"([^"]*)")\s*\)""")
_WORD = re.compile(r"(?<![\w.'\"])([A-Za-z_]\w*)(?![\w'\"(])")
# A method called on a bean inside an expression (``${timerUtil.getNextTimer(execution)}``): Java code.
# ``x.equals('y')`` is left out: it is JUEL's string comparison, read as ``==``.
_BEAN_CALL = re.compile(r"[$#]\{[^}]*?\b([A-Za-z_]\w*\.(?!equals\()[A-Za-z_]\w*\()")
_EXPRESSION_ELEMENTS = ("conditionExpression", "timeCycle", "timeDuration", "timeDate")
_NOT_VARIABLES = {"true", "false", "null", "not", "and", "or", "empty", "eq", "ne", "lt", "gt", "le", "ge",
                  "execution", "task", "in", "is", "None", "True", "False", "div", "mod"}


def _local(tag: object) -> str:
    return tag.split("}", 1)[-1] if isinstance(tag, str) else ""


def _owner_id(el) -> str:
    """The id of the nearest element around ``el`` that has one (the task a listener belongs to)."""
    node = el.getparent()
    while node is not None and not node.get("id"):
        node = node.getparent()
    return node.get("id") if node is not None else _local(el.tag)


@dataclass
class DiagramFacts:
    process_ids: list[str] = field(default_factory=list)
    executable: list[str] = field(default_factory=list)
    called: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)
    java: list[str] = field(default_factory=list)       # "serviceTask_1 camunda:class=org.Foo"
    java_names: set[str] = field(default_factory=set)   # the class, bean or expression named
    scripts: list[str] = field(default_factory=list)    # script formats of script tasks and listeners
    form_properties: set[str] = field(default_factory=set)  # tasks with Activiti/Flowable formProperty forms
    people: dict[str, str] = field(default_factory=dict)  # user task id -> "operaton:candidateGroups=x"
    gateway_values: dict[str, list] = field(default_factory=dict)  # variable -> the values conditions test
    conditions: list[str] = field(default_factory=list)


def _literal(match: re.Match) -> object:
    text = match.group(3)
    if match.group(4) is not None:
        return match.group(4)
    if match.group(5) is not None:
        return match.group(5)
    if match.group(6) is not None:
        number = match.group(6)
        return float(number) if "." in number else int(number)
    return text == "true"


def condition_values(expression: str, into: dict[str, list]) -> None:
    """Each variable a condition tests and the values it tests for, in the order seen: ``x == 'a'`` →
    'a', ``amount < 1000`` → 1000, ``x.equals('yes')`` → 'yes', a bare ``approved``/``!approved`` →
    True, False."""

    def add(name: str, *values: object) -> None:
        seen = into.setdefault(name, [])
        seen.extend(v for v in values if v not in seen)

    body = re.sub(r"^\s*[$#]\{|\}\s*$", "", expression.strip())
    for m in _COMPARE.finditer(body):
        add(m.group(1), _literal(m))
    for m in _EQUALS.finditer(body):
        add(m.group(1), m.group(2) if m.group(2) is not None else m.group(3))
    stripped = re.sub(r"'[^']*'|\"[^\"]*\"", "", body)
    for m in _WORD.finditer(stripped):
        name = m.group(1)
        if name not in _NOT_VARIABLES and not name[0].isdigit() and name not in into:
            add(name, True, False)


def read(xml: bytes) -> DiagramFacts:
    facts = DiagramFacts()
    try:
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
    except etree.XMLSyntaxError:
        return facts
    for el in root.iter():
        name = _local(el.tag)
        if name == "process":
            pid = el.get("id") or ""
            facts.process_ids.append(pid)
            if el.get("isExecutable", "true").lower() != "false":
                facts.executable.append(pid)
        elif name == "callActivity" and el.get("calledElement"):
            facts.called.add(el.get("calledElement") or "")
        elif name in ("conditionExpression", "condition") and (el.text or "").strip():
            text = (el.text or "").strip()
            facts.conditions.append(text)
            condition_values(text, facts.gateway_values)
        if name == "formProperty":
            facts.form_properties.add(_owner_id(el))
        if name in _EXPRESSION_ELEMENTS and (call := _BEAN_CALL.search(el.text or "")):
            facts.java.append(f"{_owner_id(el)} {name} calls {call.group(1)}…)")
        if name == "script" or el.get("scriptFormat"):
            fmt = el.get("scriptFormat") or (el.getparent().get("scriptFormat") if el.getparent() is not None else "")
            if fmt:
                facts.scripts.append(fmt.lower())
        for ns in DIALECTS:
            for attr in ("assignee", "candidateGroups", "candidateUsers"):
                if name == "userTask" and el.get(f"{{{ns}}}{attr}"):
                    facts.people.setdefault(el.get("id") or "", f"{DIALECTS[ns]}:{attr}={el.get(f'{{{ns}}}{attr}')}")
            topic = el.get(f"{{{ns}}}topic")
            if topic:
                facts.topics.add(topic)
            for attr in JAVA_ATTRIBUTES if name in JAVA_ELEMENTS else ():
                value = el.get(f"{{{ns}}}{attr}")
                if value:
                    facts.java.append(f"{el.get('id') or name} {attr}={value}")
                    facts.java_names.add(value)
            if name in ("executionListener", "taskListener") and el.tag.startswith(f"{{{ns}}}"):
                for attr in JAVA_ATTRIBUTES:
                    value = el.get(attr)
                    if value:
                        facts.java.append(f"{_owner_id(el)} listener {attr}={value}")
                        facts.java_names.add(value)
    return facts


def read_dmn(xml: bytes, into: dict[str, list]) -> None:
    """The variables decision tables read (an input expression that is a plain name) and the literal
    values their rules test for (``"item-xyz"``, ``1000``), added to ``into``."""
    try:
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return
    for table in root.iter():
        if _local(table.tag) != "decisionTable":
            continue
        inputs = [el for el in table if _local(el.tag) == "input"]
        names: list[str | None] = []
        for el in inputs:
            text = "".join(t.text or "" for t in el.iter() if _local(t.tag) == "text").strip()
            names.append(text if re.fullmatch(r"[A-Za-z_]\w*", text) else None)
        for rule in (el for el in table if _local(el.tag) == "rule"):
            entries = [el for el in rule if _local(el.tag) == "inputEntry"]
            for name, entry in zip(names, entries, strict=False):
                text = "".join(t.text or "" for t in entry.iter() if _local(t.tag) == "text").strip()
                if name is None or not text or text == "-":
                    continue
                literal = re.fullmatch(r'"([^"]*)"|(-?\d+(?:\.\d+)?)|(true|false)', text)
                seen = into.setdefault(name, [])
                number = re.search(r"-?\d+(?:\.\d+)?", text)
                value: object
                if literal is not None:
                    value = literal.group(1) if literal.group(1) is not None else (
                        _number(literal.group(2)) if literal.group(2) is not None else literal.group(3) == "true")
                elif number is not None:  # "<= 21", "[18..25]", "> 1000": the number meets or bounds it
                    value = _number(number.group(0))
                else:
                    continue
                if value not in seen:
                    seen.append(value)


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)
