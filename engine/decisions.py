"""DMN 1.3 decision requirements graphs, as Camunda Modeler's DRD editor writes them.

A DMN file may hold several decisions linked by ``informationRequirement/requiredDecision``. As in
Camunda, evaluating a decision first evaluates the decisions it requires (each once, deepest first) and
hands their results down as variables: a decision table's outputs by their names, a
``literalExpression`` decision's value by its ``variable`` name. Only the decision the business rule task
names sets process variables. A required decision that does not exist is a deploy error naming the
decision and the line of the requirement. (SpiffWorkflow 3.2 itself reads one decision table per file.)

Cells and literal expressions are FEEL (DMN's default ``expressionLanguage``, and Camunda 7's), evaluated by
``engine/feel.py`` (bkflow-feel): input expressions and output entries as FEEL expressions, input entries
as FEEL unary tests. A cell, table or file that declares another ``expressionLanguage`` (``python``,
``juel``) has its expressions evaluated as Python like a condition; unary tests are FEEL only. SpiffWorkflow
parses the table (inputs, rules, hit policy); :class:`FeelTable` evaluates it in its place. A cell that is
not FEEL is a deploy error naming the decision, the cell's line and the parser's message.

Hit policies: UNIQUE (more than one rule matching is an error), FIRST, ANY, PRIORITY read as FIRST,
COLLECT (with ``aggregation`` SUM, MIN, MAX or COUNT), RULE ORDER, OUTPUT ORDER. A table's outputs become
variables by their names (COLLECT: a list per output). As in Camunda, ``camunda:resultVariable`` on the
business rule task also stores the result under that name, shaped by ``camunda:mapDecisionResult``:
``resultList`` (default: a list with a dict per matched rule), ``singleResult``, ``singleEntry``,
``collectEntries``.

A business rule task naming a decision that is not deployed deploys (Camunda resolves ``decisionRef`` when
the task runs, and Camunda Modeler deploys one file at a time): the deploy report warns, a case reaching
the task stops in ``error`` there (:class:`MissingDecision`), and once the table is deployed a retry binds
it (``SpecCache.late_bindings``) and the case goes on.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from . import expressions, feel, sandbox
from .errors import Problem

_CAMUNDA = "http://camunda.org/schema/1.0/bpmn"


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


def _language(node) -> bool:
    """Whether ``node`` (a cell, table, decision) is FEEL: the nearest ``expressionLanguage`` decides."""
    found = []
    while node is not None:
        if isinstance(node.tag, str):
            found.append(node.get("expressionLanguage"))
        node = node.getparent()
    return feel.language_is_feel(*found)


class Literal:
    """A ``literalExpression`` decision: its value under its variable's name."""

    def __init__(self, name: str, text: str, is_feel: bool):
        self.name = name
        self.text = text
        self.is_feel = is_feel

    def result(self, task) -> dict:
        if self.is_feel:
            try:
                return {self.name: feel.evaluate(self.text, dict(task.data))}
            except feel.FeelError as exc:
                raise WorkflowTaskException(f"literal expression '{self.text}': {exc}", task=task) from None
        return {self.name: task.workflow.script_engine.evaluate(task, expressions.feel_to_python(self.text))}

    def rows(self, task) -> list[dict]:
        return [self.result(task)]

    def merged(self, rows: list[dict]) -> dict:
        return rows[0]


def _input_is_feel(node, text: str | None) -> bool:
    """An input expression is FEEL unless declared otherwise or written ``${…}`` (JUEL, Camunda 7's default
    for input expressions before 7.13)."""
    return _language(node) and not expressions.is_juel(text or "")


def _literal(decision) -> Literal | None:
    for literal in _children(decision, "literalExpression"):
        texts = _children(literal, "text")
        text = (texts[0].text or "").strip() if texts else ""
        variables = _children(decision, "variable")
        name = variables[0].get("name") if variables and variables[0].get("name") else decision.get("id")
        return Literal(name, text, _language(literal))
    return None


_MANY = ("COLLECT", "RULE ORDER", "OUTPUT ORDER")


class FeelTable:
    """A decision table as SpiffWorkflow parsed it, evaluated with FEEL (``engine/feel.py``)."""

    def __init__(self, table, node):
        self.table = table
        self.hit_policy = (node.get("hitPolicy") or "UNIQUE").upper()
        self.aggregation = (node.get("aggregation") or "").upper()
        ids = {el.get("id"): el for el in node.iter() if isinstance(el.tag, str) and el.get("id")}
        expressions_of = {inp.get("id"): next((e for e in inp if _local(e) == "inputExpression"), None)
                          for inp in _children(node, "input")}
        # input id -> (text, is FEEL); output entry id -> is FEEL
        self.inputs = {i.id: ((i.expression or "").strip(), _input_is_feel(expressions_of.get(i.id), i.expression))
                       for i in table.inputs}
        self.output_feel = {e.id: _language(ids.get(e.id)) for r in table.rules for e in r.outputEntries}

    def _value(self, task, text: str, is_feel: bool, data: dict):
        if not text:
            return None
        if is_feel:
            return feel.evaluate(text, data)
        return task.workflow.script_engine.evaluate(task, expressions.juel_to_python(text))

    def rows(self, task) -> list[dict]:
        """The outputs of every rule that matches, in rule order (one only for single-hit policies)."""
        data = dict(task.data)
        values: dict = {}
        found: list[dict] = []
        rows_hit: list[int] = []
        for rule in self.table.rules:
            try:
                matches = True
                for entry in rule.inputEntries:
                    key = entry.input.id
                    if key not in values:
                        text, is_feel = self.inputs[key]
                        values[key] = self._value(task, text, is_feel, data)
                    if not feel.test(entry.text or "", values[key], data):
                        matches = False
                        break
                if not matches:
                    continue
                out: dict = {}
                for entry in rule.outputEntries:
                    name = entry.output.name or entry.output.label
                    out[name] = self._value(task, (getattr(entry, "text", "") or "").strip(),
                                            self.output_feel.get(entry.id, True), data)
            except feel.FeelError as exc:
                raise WorkflowTaskException(f"decision table rule {rule.row_number}: {exc}", task=task) from None
            found.append(out)
            rows_hit.append(rule.row_number)
            if self.hit_policy == "UNIQUE" and len(found) > 1:
                raise WorkflowTaskException(f"decision table hit policy UNIQUE, but rules {rows_hit[0]} and "
                                            f"{rows_hit[1]} both match", task=task)
            if self.hit_policy not in _MANY and self.hit_policy != "UNIQUE":
                break
        if self.hit_policy == "COLLECT" and self.aggregation:
            return [self._aggregate(found)]
        return found

    def _aggregate(self, rows: list[dict]) -> dict:
        names = [o.name or o.label for o in self.table.outputs]
        name = names[0] if names else "result"
        values: list[Any] = [r[name] for r in rows if r.get(name) is not None]
        if self.aggregation == "COUNT":
            return {name: len(values)}
        if not values:
            return {name: None}
        if self.aggregation == "SUM":
            return {name: sum(values)}
        return {name: min(values) if self.aggregation == "MIN" else max(values)}

    def result(self, task) -> dict:
        """What becomes case variables by name: a single-hit table's outputs, a COLLECT's lists."""
        return self.merged(self.rows(task))

    def merged(self, rows: list[dict]) -> dict:
        if self.hit_policy in _MANY and not self.aggregation:
            merged: dict = {o.name or o.label: [] for o in self.table.outputs} if rows else {}
            for row in rows:
                for key, value in row.items():
                    merged.setdefault(key, []).append(value)
            return merged
        return rows[0] if rows else {}


def shaped(rows: list[dict], mapping: str | None):
    """A decision's result as ``camunda:mapDecisionResult`` says (Camunda 7's names)."""
    mapping = mapping or "resultList"
    if mapping == "singleEntry":
        return next(iter(rows[0].values()), None) if rows else None
    if mapping == "singleResult":
        return rows[0] if rows else None
    if mapping == "collectEntries":
        return [next(iter(r.values()), None) for r in rows]
    return rows


class DecisionGraph:
    """What a business rule task runs: ``result(task)`` of one decision and the ones it requires."""

    def __init__(self, decision_id: str, order: list[str], engines: dict, result_variable: str | None = None,
                 mapping: str | None = None):
        self.decision_id = decision_id
        self.order = order  # required decisions, deepest first; the decision itself last
        self.engines = engines  # decision id -> FeelTable | Literal
        self.result_variable = result_variable
        self.mapping = mapping

    def result(self, task) -> dict:
        saved = task.data
        task.data = dict(saved)
        try:
            for decision_id in self.order[:-1]:
                task.data.update(self.engines[decision_id].result(task))
            engine = self.engines[self.decision_id]
            if not self.result_variable:
                return engine.result(task)
            rows = engine.rows(task)
            return {**engine.merged(rows), self.result_variable: shaped(rows, self.mapping)}
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
        return FeelTable(dmn_parser.decision.decisionTables[0], _children(decision, "decisionTable")[0])

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
        return DecisionGraph(decision_ref, order, {d: self._engine(d) for d in order},
                             node.get(f"{{{_CAMUNDA}}}resultVariable"), node.get(f"{{{_CAMUNDA}}}mapDecisionResult"))


def problems(root, filename: str, known: set[str]) -> list[Problem]:
    """A required decision that is neither in the file nor in ``known``; a cell or literal expression that is not
    FEEL (or, in another declared language, does not compile)."""
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
            node = _children(decision, "literalExpression")[0]
            found.extend(_cell_problems(filename, decision, literal.text, "expression", literal.is_feel,
                                        (_children(node, "text") or [node])[0], "literal expression"))
        for table in _children(decision, "decisionTable"):
            for cell in table.iter():
                kind = _local(cell)
                if kind not in ("inputExpression", "inputEntry", "outputEntry"):
                    continue
                texts = _children(cell, "text")
                text = (texts[0].text or "").strip() if texts else ""
                if not text:
                    continue
                owner = cell.getparent()
                where = {"inputExpression": f"input '{owner.get('label') or owner.get('id')}'",
                         "inputEntry": f"rule '{owner.get('id')}', input cell",
                         "outputEntry": f"rule '{owner.get('id')}', output cell"}[kind]
                is_feel = _input_is_feel(cell, text) if kind == "inputExpression" else _language(cell)
                found.extend(_cell_problems(filename, decision, text, "unary" if kind == "inputEntry" else "expression",
                                            is_feel, texts[0], where))
    return found


def _cell_problems(filename: str, decision, text: str, kind: str, is_feel: bool, node, where: str) -> list[Problem]:
    """Why one cell (or literal expression) cannot run: FEEL that does not parse, Python that does not compile."""
    if not is_feel:
        if kind == "unary":
            return [Problem(filename, decision.get("id"), node.sourceline,
                            f"{where} '{text}': input cells are FEEL unary tests; other expression languages are "
                            "not supported", "feel_invalid", {"text": text, "near": "", "column": None})]
        python = expressions.juel_to_python(text)
        reason = sandbox.check_expression(python)
        return [Problem(filename, decision.get("id"), node.sourceline, f"{where} '{text}': {reason}",
                        "condition_invalid", {"text": text})] if reason else []
    error = feel.check_unary(text) if kind == "unary" else feel.check(text)
    if error is None:
        return []
    line = node.sourceline + (error.line or 1) - 1 if node.sourceline else None
    return [Problem(filename, decision.get("id"), line, f"{where}: FEEL '{text}' does not parse: {error}",
                    "feel_invalid", {"text": text, "near": error.near, "column": error.column})]
