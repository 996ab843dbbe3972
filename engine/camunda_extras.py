"""``camunda:inputOutput`` mappings and execution / task listeners, as Camunda 7 runs them.

* **Input parameters** are set when the activity starts (a user task: before its form opens) and are
  local to it: they are gone from the case's variables once it completes, unless an output parameter
  of the same name is mapped. **Output parameters** are computed when it completes and set on the case.
  A value is a literal, an expression ``${…}`` (JUEL, evaluated like conditions), a ``camunda:list`` or a
  ``camunda:map``, or a Python ``camunda:script`` — or a FEEL one (``engine/feel.py``: bkflow-feel with
  ``for … return``, filters, ``get value``; a FEEL text that does not parse is refused at deployment with
  its line); other script languages are refused at deployment.
* **Multi-instance** (``camunda:collection``, ``camunda:elementVariable``, ``completionCondition``): the
  completion condition sees ``nrOfInstances``, ``nrOfCompletedInstances``, ``nrOfActiveInstances``.
* **Listeners** (``camunda:executionListener`` events ``start`` / ``end`` on any activity or event;
  ``camunda:taskListener`` events ``create`` / ``assignment`` / ``complete`` on user tasks) name Java code — ``class``,
  ``delegateExpression`` or ``expression`` — and run the Python handler registered under that name
  (see ``engine/camunda_tasks.py``); a Python ``camunda:script`` listener runs sandboxed. A listener on
  another event (``take``, ``delete``, ``timeout``) is refused: it would silently not run. An ``assignment``
  listener runs when the task opens with an assignee (the diagram's, or one a ``create`` listener set), and
  when it is completed by way of an assignee it did not open with (claimed or assigned meanwhile) — just
  before the ``complete`` listeners, not at the moment of the claim (a claim does not load the case).
* **JavaScript** (``scriptFormat="javascript"``) in a script task, a listener or a mapping runs in QuickJS
  with Camunda's ``execution`` / ``task`` calls (``engine/js_scripts.py``); a script task's last expression
  is stored under its ``camunda:resultVariable``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.defaults import ScriptTask
from SpiffWorkflow.camunda.specs.multiinstance_task import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.util.task import TaskState

from . import expressions, feel, js_scripts, sandbox
from .camunda_tasks import _C, delegate_of
from .errors import Problem

_RUNS = {"executionListener": ("start", "end"), "taskListener": ("create", "assignment", "complete")}
_WHEN = {"start": "start", "create": "start", "end": "end", "complete": "end", "assignment": "assign"}


@dataclass(frozen=True)
class Listener:
    when: str  # "start" | "end" | "assign"
    handler: str | None  # the registered name, or None for a script
    script: str | None = None
    js: bool = False  # the script is JavaScript
    on_task: bool = False  # a task listener: a JavaScript script sees ``task``


@dataclass
class Extras:
    inputs: list[tuple[str, Any]] = field(default_factory=list)  # (name, value description)
    outputs: list[tuple[str, Any]] = field(default_factory=list)
    listeners: list[Listener] = field(default_factory=list)
    local: tuple[str, ...] = ()  # what a connector answers: local to the task, like the inputs

    def __bool__(self) -> bool:
        return bool(self.inputs or self.outputs or self.listeners)


_CONNECTOR_RESULTS = ("statusCode", "response", "headers", "messageQueued")


_EMBEDDED = re.compile(r"[$#]\{[^}]*\}")


def _local(node) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _value(node) -> Any:
    """What a parameter (or list item / map entry) holds: ("text", str) | ("list", [...]) | ("map", {...}) |
    ("script", python source)."""
    children = [c for c in node if isinstance(c.tag, str)]
    if not children:
        return ("text", node.text or "")
    child = children[0]
    kind = _local(child)
    if kind == "list":
        return ("list", [_value(c) for c in child if isinstance(c.tag, str)])
    if kind == "map":
        return ("map", {e.get("key"): _value(e) for e in child if isinstance(e.tag, str)})
    if kind == "script":
        if js_scripts.is_js(child.get("scriptFormat")):
            return ("js", child.text or "")
        if (child.get("scriptFormat") or "").lower() == "feel":  # engine/feel.py; refused at deploy unless it parses
            return ("feel", child.text or "")
        return ("script", child.text or "")
    return ("text", child.text or "")


def _own_extensions(node):
    ext = node.find("{http://www.omg.org/spec/BPMN/20100524/MODEL}extensionElements")
    return [] if ext is None else [c for c in ext if isinstance(c.tag, str) and c.tag.startswith(_C)]


def _mappings(io, extras: Extras) -> None:
    for p in io:
        if _local(p) == "inputParameter":
            extras.inputs.append((p.get("name"), _value(p)))
        elif _local(p) == "outputParameter":
            extras.outputs.append((p.get("name"), _value(p)))


def extras_of(node) -> Extras:
    extras = Extras()
    for ext in _own_extensions(node):
        kind = _local(ext)
        if kind == "connector":  # its mappings wrap the call: connector inputs last in, its outputs first out
            own = Extras()
            for io in ext.findall(f"{_C}inputOutput"):
                _mappings(io, own)
            extras.inputs += own.inputs
            extras.outputs[:0] = own.outputs
            extras.local = _CONNECTOR_RESULTS
        elif kind == "inputOutput":
            own = Extras()
            _mappings(ext, own)
            extras.inputs[:0] = own.inputs
            extras.outputs += own.outputs
        elif kind in _RUNS and ext.get("event") in _RUNS[kind]:
            script = ext.find(f"{_C}script")
            found = delegate_of(ext)
            extras.listeners.append(Listener(_WHEN[ext.get("event")], found[1] if found else None,
                                             script.text if script is not None else None,
                                             js=script is not None and js_scripts.is_js(script.get("scriptFormat")),
                                             on_task=kind == "taskListener"))
    return extras


def _scripts(value) -> list[tuple[str, str]]:
    kind, body = value
    if kind == "list":
        return [s for v in body for s in _scripts(v)]
    if kind == "map":
        return [s for v in body.values() for s in _scripts(v)]
    return [(kind, body)] if kind in ("script", "text", "js") else []


def problems(root, filename: str, topics: set[str], java_as_external: bool = False) -> list[Problem]:
    """Mappings and listeners that cannot run: a script not in Python, an expression that does not compile,
    a listener on an event that never fires here, Java code with no Python handler registered. A listener
    naming Java is refused even when the deployer runs Java names as external tasks (``java_as_external``):
    a listener runs inside the step that starts or ends its element and nothing waits there for a worker."""
    found: list[Problem] = []
    for node in root.iter():
        if not isinstance(node.tag, str) or not node.get("id"):
            continue
        where = (filename, node.get("id"), node.sourceline)
        for ext in _own_extensions(node):
            kind = _local(ext)
            if kind == "connector" and not (ext.findtext(f"{_C}connectorId") or "").strip():
                found.append(Problem(*where, "camunda:connector without a connectorId", "connector", {"name": ""}))
            if kind in ("inputOutput", "connector"):
                params = [p for io in ([ext] if kind == "inputOutput" else ext.findall(f"{_C}inputOutput")) for p in io]
                for param in params:
                    if not isinstance(param.tag, str):
                        continue
                    for script in param.iter(f"{_C}script"):
                        fmt = (script.get("scriptFormat") or "").lower()
                        if js_scripts.is_js(fmt):
                            js = js_scripts.deploy_problem(filename, node.get("id"), script,
                                                           f"mapping '{param.get('name')}'")
                            found += [js] if js else []
                        elif fmt == "feel":
                            error = feel.check(script.text or "")
                            if error is not None:
                                text = (script.text or "").strip()
                                found.append(Problem(filename, node.get("id"),
                                                     script.sourceline + (error.line or 1) - 1 if script.sourceline else None,
                                                     f"FEEL in mapping '{param.get('name')}' '{text}' does not parse: "
                                                     f"{error}", "feel_invalid",
                                                     {"text": text, "near": error.near, "column": error.column}))
                        elif fmt not in ("python", "py", "feel"):
                            found.append(Problem(*where, f"script format '{fmt}' in mapping '{param.get('name')}' "
                                                 "is not supported; scripts are Python or JavaScript", "script_format",
                                                 {"format": fmt}))
                    for k, text in _scripts(_value(param)):
                        for embedded in _EMBEDDED.findall(text) if k == "text" else []:
                            python = expressions.juel_to_python(embedded)
                            reason = sandbox.check_expression(python)
                            java = None if reason else expressions.java_call(python)
                            if java:
                                found.append(Problem(*where, f"mapping '{param.get('name')}' calls Java ('{java}'), "
                                                     "which cannot run here", "java_code",
                                                     {"attribute": "mapping", "name": java}))
                            elif reason:
                                found.append(Problem(*where, f"mapping '{param.get('name')}' '{text}': {reason}",
                                                     "condition_invalid", {"text": text}))
            elif kind in _RUNS:
                event = ext.get("event") or ""
                if _local(node) == "process":
                    found.append(Problem(*where, f"{kind} on the process itself is not supported; put it on "
                                         "its start or end event", "listener_event", {"kind": kind, "event": event}))
                    continue
                if event not in _RUNS[kind]:
                    found.append(Problem(*where, f"{kind} on event '{event}' is not supported (only "
                                         f"{' and '.join(_RUNS[kind])})", "listener_event",
                                         {"kind": kind, "event": event}))
                    continue
                delegate = delegate_of(ext)
                script = ext.find(f"{_C}script")
                if delegate and delegate[1] not in topics:
                    why = (": a listener cannot run as an external task (it runs inside the step that starts or ends "
                           "the element; nothing waits there for a worker), so register a Python handler under "
                           "that name") if java_as_external else ""
                    found.append(Problem(*where, f"{kind} {delegate[0]} '{delegate[1]}' is Java code and no Python "
                                         f"handler is registered under that name{why}", "java_code",
                                         {"attribute": delegate[0], "name": delegate[1], "listener": kind}))
                elif script is not None and js_scripts.is_js(script.get("scriptFormat")):
                    js = js_scripts.deploy_problem(filename, node.get("id"), script, kind)
                    found += [js] if js else []
                elif script is not None and (script.get("scriptFormat") or "").lower() not in ("python", "py"):
                    fmt = (script.get("scriptFormat") or "").lower()
                    found.append(Problem(*where, f"{kind} script format '{fmt}' is not supported; scripts are "
                                         "Python or JavaScript", "script_format", {"format": fmt}))
    return found


def bridged(root) -> list[tuple[str, int | None, str, str, bool]]:
    """(element id, line, attribute, handler name, is a listener) for every service task and listener naming
    Java code."""
    found = []
    for node in root.iter():
        if not isinstance(node.tag, str) or not node.get("id"):
            continue
        if _local(node) in ("serviceTask", "sendTask") and not node.get(_C + "topic"):
            delegate = delegate_of(node)
            if delegate:
                found.append((node.get("id"), node.sourceline, *delegate, False))
        for ext in _own_extensions(node):
            if _local(ext) in _RUNS:
                delegate = delegate_of(ext)
                if delegate:
                    found.append((node.get("id"), node.sourceline, *delegate, True))
    return found


# --- running them ------------------------------------------------------------------------


def _evaluate(my_task, value) -> Any:
    kind, body = value
    if kind == "list":
        return [_evaluate(my_task, v) for v in body]
    if kind == "map":
        return {k: _evaluate(my_task, v) for k, v in body.items()}
    if kind == "feel":
        try:
            return feel.evaluate(body, dict(my_task.data))
        except feel.FeelError as exc:
            raise WorkflowTaskException(f"FEEL '{body.strip()}': {exc}", task=my_task) from None
    engine = my_task.workflow.script_engine
    if kind == "js":  # its value is its last expression; what it sets with execution.setVariable is set too
        outcome = js_scripts.run_for(my_task, body)
        outcome.apply(my_task.data)
        return outcome.result
    if kind == "script":
        return engine.evaluate(my_task, body.strip())
    text = body.strip()
    if expressions.is_juel(text):
        return engine.evaluate(my_task, expressions.juel_to_python(text))
    # text with expressions inside ("Bearer ${token}"): each replaced by its value
    return _EMBEDDED.sub(lambda m: str(engine.evaluate(my_task, expressions.juel_to_python(m.group()))), body)


def _listen(my_task, extras: Extras, when: str) -> None:
    engine = my_task.workflow.script_engine
    for listener in extras.listeners:
        if listener.when != when:
            continue
        if listener.handler:
            engine.run_handler(my_task, listener.handler)
        elif listener.script and listener.js:
            outcome = js_scripts.run_for(my_task, listener.script, listener_task=listener.on_task)
            outcome.apply(my_task.data)
            if outcome.assigned:  # task.setAssignee(…): the task opens claimed by that user
                my_task.internal_data["assignee"] = outcome.assignee
        elif listener.script:
            engine.execute(my_task, listener.script)


def _named_assignee(my_task) -> str | None:
    """The user task's ``camunda:assignee`` (an expression over the variables evaluated), or None — also when
    the expression names a variable not set yet (the task then opens for its candidates, see ``engine.steps``)."""
    assignment = getattr(my_task.task_spec, "assignment", None)
    text = assignment.assignee if assignment else None
    if not text or not expressions.is_juel(text):
        return text or None
    try:
        value = my_task.workflow.script_engine.evaluate(my_task, expressions.juel_to_python(text))
    except Exception:  # noqa: BLE001 - the task opens unassigned, as engine.steps._resolve decides
        return None
    return str(value) if value not in (None, "") else None


class ExtrasMixin:
    """Put in front of a task spec's class by :func:`decorate`; ``camunda_extras`` holds what to do."""

    camunda_extras: Extras

    def _on_ready_hook(self, my_task):
        super()._on_ready_hook(my_task)  # type: ignore[misc]
        extras = self.camunda_extras
        if extras.inputs:
            values = {name: _evaluate(my_task, value) for name, value in extras.inputs}
            my_task.data.update(values)
        _listen(my_task, extras, "start")
        if not any(listener.when == "assign" for listener in extras.listeners):
            return
        assignee = my_task.internal_data.get("assignee") or _named_assignee(my_task)
        if assignee:
            my_task.internal_data["assignee_seen"] = assignee
            _listen(my_task, extras, "assign")

    def _on_complete_hook(self, my_task):
        extras = self.camunda_extras
        now = my_task.internal_data.get("assignee_now")
        if now and now != my_task.internal_data.get("assignee_seen") and \
                any(listener.when == "assign" for listener in extras.listeners):  # claimed or assigned since it opened
            my_task.internal_data["assignee_seen"] = now
            _listen(my_task, extras, "assign")
        _listen(my_task, extras, "end")
        if extras.outputs or extras.inputs or extras.local:
            values = {name: _evaluate(my_task, value) for name, value in extras.outputs}
            for name in [n for n, _v in extras.inputs] + list(extras.local):
                my_task.data.pop(name, None)
            my_task.data.update(values)
        super()._on_complete_hook(my_task)  # type: ignore[misc]


class JsScriptMixin:
    """A script task in JavaScript: run in QuickJS; its last expression goes to ``result_variable``."""

    result_variable: str | None

    def _execute(self, my_task):
        outcome = js_scripts.run_for(my_task, self.script)  # type: ignore[attr-defined]
        outcome.apply(my_task.data)
        if self.result_variable:
            my_task.data[self.result_variable] = outcome.result
        return True


class CompletionMixin:
    """A multi-instance completion condition sees Camunda's ``nrOfInstances``, ``nrOfCompletedInstances``,
    ``nrOfActiveInstances`` and ``loopCounter``."""

    def check_completion_condition(self, my_task):
        merged = my_task.internal_data.get("merged", [])
        if not merged or self.condition is None:  # type: ignore[attr-defined]
            return False
        children = list(self._instances(my_task))  # type: ignore[attr-defined]
        last = next(c for c in children if str(c.id) == merged[-1])
        active = [c for c in children if not c.has_state(TaskState.FINISHED_MASK)]
        remaining = len(my_task.internal_data.get("remaining", []))
        counts = {"nrOfInstances": len(children) + remaining, "nrOfCompletedInstances": len(merged),
                  "nrOfActiveInstances": len(active), "loopCounter": len(merged) - 1}
        return my_task.workflow.script_engine.evaluate(last, self.condition, counts)  # type: ignore[attr-defined]


_CLASSES: dict[tuple, type] = {}


def _with(ts, mixin) -> None:
    cls = type(ts)
    if (cls, mixin) not in _CLASSES:
        _CLASSES[(cls, mixin)] = type(cls.__name__, (mixin, cls), {})
    ts.__class__ = _CLASSES[(cls, mixin)]


def decorate(spec, process_node) -> None:
    """Give each task spec of ``spec`` whose element has mappings or listeners the hooks that run them."""
    for ts in spec.task_specs.values():
        if isinstance(ts, SequentialMultiInstanceTask | ParallelMultiInstanceTask) and \
                not isinstance(ts, CompletionMixin):
            _with(ts, CompletionMixin)
        bpmn_id = getattr(ts, "bpmn_id", None)
        if not bpmn_id or ts.name != bpmn_id or isinstance(ts, ExtrasMixin):
            continue
        nodes = process_node.xpath(".//*[@id=$i]", i=bpmn_id)
        if nodes and isinstance(ts, ScriptTask) and js_scripts.is_js(nodes[0].get("scriptFormat")) and \
                not isinstance(ts, JsScriptMixin):
            _with(ts, JsScriptMixin)
            ts.result_variable = nodes[0].get(_C + "resultVariable") or None
        extras = extras_of(nodes[0]) if nodes else Extras()
        if not extras:
            continue
        _with(ts, ExtrasMixin)
        ts.camunda_extras = extras
