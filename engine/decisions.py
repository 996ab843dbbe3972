"""DMN 1.3 decision requirements graphs, as Camunda Modeler's DRD editor writes them.

A DMN file may hold several decisions linked by ``informationRequirement/requiredDecision``. As in
Camunda, evaluating a decision first evaluates the decisions it requires (each once, deepest first) and
hands their results down as variables: a decision table's outputs by their names, a
``literalExpression`` decision's value by its ``variable`` name. Only the decision the business rule task
names sets process variables. A ``literalExpression`` is evaluated like a condition (Python, with FEEL's
``true``/``false``/``null``). A required decision that does not exist is a deploy error naming the
decision and the line of the requirement. (SpiffWorkflow 3.2 itself reads one decision table per file.)

A business rule task naming a decision that is not deployed deploys (Camunda resolves ``decisionRef`` when
the task runs, and Camunda Modeler deploys one file at a time): the deploy report warns, a case reaching
the task stops in ``error`` there (:class:`MissingDecision`), and once the table is deployed a retry binds
it (``SpecCache.late_bindings``) and the case goes on.
"""

from __future__ import annotations

from copy import deepcopy

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

from . import expressions, sandbox
from .errors import Problem


def _local(node) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _children(node, name: str) -> list:
    return [c for c in node if _local(c) == name]


def required(decision) -> list[tuple[str, int | None]]:
    """(decision id, line) of every decision ``decision`` requires directly."""
    found = []
    for requirement in _children(decision, "informationRequirement"):
        for ref in _children(requirement, "requiredDecision"):
            found.append(((ref.get("href") or "").lstrip("#"), ref.sourceline))
    return found


def _literal(decision) -> tuple[str, str] | None:
    """(variable name, Python expression) of a ``literalExpression`` decision, else None."""
    for literal in _children(decision, "literalExpression"):
        texts = _children(literal, "text")
        text = (texts[0].text or "").strip() if texts else ""
        variables = _children(decision, "variable")
        name = variables[0].get("name") if variables and variables[0].get("name") else decision.get("id")
        return name, expressions.feel_to_python(text)
    return None


class DecisionGraph:
    """What a business rule task runs: ``result(task)`` of one decision and the ones it requires."""

    def __init__(self, decision_id: str, order: list[str], engines: dict):
        self.decision_id = decision_id
        self.order = order  # required decisions, deepest first; the decision itself last
        self.engines = engines  # decision id -> DMNEngine | (variable name, python expression)

    def _one(self, decision_id: str, task) -> dict:
        engine = self.engines[decision_id]
        if isinstance(engine, DMNEngine):
            return engine.result(task)
        name, source = engine
        return {name: task.workflow.script_engine.evaluate(task, source)}

    def result(self, task) -> dict:
        if len(self.order) == 1:
            return self._one(self.decision_id, task)
        saved = task.data
        task.data = dict(saved)
        try:
            for decision_id in self.order[:-1]:
                task.data.update(self._one(decision_id, task))
            return self._one(self.decision_id, task)
        finally:
            task.data = saved


class MissingDecision:
    """The engine of a business rule task whose decision is not deployed: running it stops the case."""

    def __init__(self, decision_id: str):
        self.decision_id = decision_id

    def result(self, task) -> dict:
        raise LookupError(f"decision table '{self.decision_id}' is not deployed: deploy it, then retry the case")


class DecisionGraphParser:
    """Mixed into the diagram parser: every decision of a DMN file is registered by its id."""

    decision_nodes: dict[str, tuple]

    def add_dmn_xml(self, node, filename=None):
        if not hasattr(self, "decision_nodes"):
            self.decision_nodes = {}
        for decision in _children(node, "decision"):
            single = etree.Element(node.tag, attrib=dict(node.attrib), nsmap=node.nsmap)
            single.append(deepcopy(decision))
            super().add_dmn_xml(single, filename=filename)  # type: ignore[misc]
            self.decision_nodes[decision.get("id")] = (decision, filename)

    def _engine(self, decision_id: str):
        decision, _filename = self.decision_nodes[decision_id]
        literal = _literal(decision)
        if literal is not None:
            return literal
        dmn_parser = self.dmn_parsers[decision_id]  # type: ignore[attr-defined]
        dmn_parser.parse()
        return DMNEngine(dmn_parser.decision.decisionTables[0])

    def get_engine(self, decision_ref, node):
        if decision_ref not in getattr(self, "decision_nodes", {}):
            return MissingDecision(decision_ref)
        order: list[str] = []

        def visit(decision_id: str, path: tuple[str, ...]) -> None:
            if decision_id in order:
                return
            decision, filename = self.decision_nodes[decision_id]
            for ref, line in required(decision):
                if ref in path:
                    raise ValidationException(f"decision '{decision_id}' requires itself through '{ref}'",
                                              node=decision, file_name=filename)
                if ref not in self.decision_nodes:
                    exc = ValidationException(f"decision '{decision_id}' requires decision '{ref}', which does not "
                                              "exist", node=decision, file_name=filename)
                    exc.line_number = line
                    raise exc
                visit(ref, (*path, ref))
            order.append(decision_id)

        visit(decision_ref, (decision_ref,))
        return DecisionGraph(decision_ref, order, {d: self._engine(d) for d in order})


def problems(root, filename: str, known: set[str]) -> list[Problem]:
    """A required decision that is neither in the file nor in ``known``; a literal expression that does not compile."""
    found = []
    for decision in root.iter():
        if _local(decision) != "decision":
            continue
        for ref, line in required(decision):
            if ref not in known:
                found.append(Problem(filename, decision.get("id"), line,
                                     f"decision '{decision.get('id')}' requires decision '{ref}', which does not exist",
                                     "decision_missing", {"decision": ref}))
        literal = _literal(decision)
        if literal is not None:
            reason = sandbox.check_expression(literal[1])
            if reason:
                found.append(Problem(filename, decision.get("id"), decision.sourceline,
                                     f"literal expression '{literal[1]}': {reason}", "condition_invalid",
                                     {"text": literal[1]}))
    return found
