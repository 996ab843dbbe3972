"""Camunda 7 JavaScript (``scriptFormat="javascript"``) run sandboxed in QuickJS.

A script task, a ``camunda:script`` listener or an input/output mapping written in JavaScript runs
in a fresh QuickJS context (the ``quickjs`` package: no ``require``, no modules, no files, no
network, no Java). It sees what Camunda 7 gives a script, over JSON values only:

* the case's variables as global names (read-only: assigning one does not store it, as in Camunda);
* ``execution``: ``getVariable(name)``, ``setVariable(name, value)``, ``setVariables(map)``,
  ``getVariables()``, ``hasVariable(name)``, ``removeVariable(name)``, ``getActivityId()``;
* in a task listener also ``task``: the same variable calls plus ``setAssignee(user)``,
  ``getAssignee()``, ``getName()``, ``getTaskDefinitionKey()``.

A value set is copied through ``JSON.stringify`` (a function becomes null, a ``Date`` its ISO text).
The script's last expression is its result (``camunda:resultVariable``, a mapping's value).

Bounds are those of the Python scripts (``engine/script_budget.py``): the CPU seconds and the memory
budget, enforced by QuickJS itself (its interrupt handler and its allocator). QuickJS measures CPU
time of the whole process (C ``clock()``), so a busy server stops a runaway script sooner, never later.
``Java.type(…)`` and ``Packages.…`` are refused at deployment with their line; so is a syntax error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import quickjs

from .errors import ScriptFailed
from .script_budget import Budget

FORMATS = frozenset({"javascript", "js", "ecmascript", "ecmascript6", "es6"})

_JAVA = re.compile(r"\b(Java\s*\.\s*(?:type|from|to|extend|super|synchronized)\b|Packages\s*\.|JavaImporter\b)")
_LINE = re.compile(r"<input>:(\d+)")
_CHECK_SECONDS = 0.05
_CHECK_MEMORY = 16 * 1024 * 1024

# Defined before the script runs. Everything the script may change lives inside this closure; the
# result is read back through a non-writable global, whatever the script did to other names.
_PRELUDE = r"""
(function (input, withTask) {
  var vars = JSON.parse(input.vars);
  var meta = JSON.parse(input.meta);
  var changed = {}, removed = {};
  var own = function (n) { return Object.prototype.hasOwnProperty.call(vars, n); };
  var copy = function (v) { var t = JSON.stringify(v); return t === undefined ? null : JSON.parse(t); };
  var get = function (n) { n = String(n); return own(n) ? copy(vars[n]) : null; };
  var set = function (n, v) { n = String(n); vars[n] = copy(v === undefined ? null : v); changed[n] = true; delete removed[n]; };
  var remove = function (n) { n = String(n); delete vars[n]; delete changed[n]; removed[n] = true; };
  var scope = {
    getVariable: get, getVariableLocal: get, setVariable: set, setVariableLocal: set,
    setVariables: function (m) { for (var k in m) set(k, m[k]); },
    getVariables: function () { return copy(vars); }, getVariablesLocal: function () { return copy(vars); },
    hasVariable: function (n) { return own(String(n)); }, removeVariable: remove,
    getActivityId: function () { return meta.element; }, getCurrentActivityId: function () { return meta.element; }
  };
  var names = Object.keys(vars);
  for (var i = 0; i < names.length; i++) {
    if (!(names[i] in globalThis) && /^[A-Za-z_$][\w$]*$/.test(names[i])) globalThis[names[i]] = copy(vars[names[i]]);
  }
  globalThis.execution = Object.freeze(scope);
  if (withTask) {
    var t = Object.assign({}, scope, {
      setAssignee: function (u) { meta.assignee = (u === null || u === undefined) ? null : String(u); meta.assigned = true; },
      getAssignee: function () { return meta.assignee; },
      getName: function () { return meta.name; }, getTaskDefinitionKey: function () { return meta.element; },
      getId: function () { return meta.element; }
    });
    globalThis.task = Object.freeze(t);
  }
  Object.defineProperty(globalThis, "__aftersales_out", {writable: false, configurable: false, value: function (r) {
    var out = {};
    for (var k in changed) out[k] = vars[k];
    var t = JSON.stringify(r);
    return JSON.stringify({set: out, removed: Object.keys(removed), result: t === undefined ? null : JSON.parse(t),
                           assignee: meta.assignee, assigned: !!meta.assigned});
  }});
})
"""


@dataclass
class Outcome:
    """What a script did: the variables it set and removed, its last expression, the assignee it set."""

    result: Any = None
    set: dict[str, Any] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    assignee: str | None = None
    assigned: bool = False

    def apply(self, data: dict) -> None:
        for name in self.removed:
            data.pop(name, None)
        data.update(self.set)


def is_js(script_format: str | None) -> bool:
    return (script_format or "").strip().lower() in FORMATS


def java_use(source: str) -> tuple[int, str] | None:
    """(line within the script, text) of the first call into Java (``Java.type``, ``Packages.``), or None."""
    match = _JAVA.search(source or "")
    if match is None:
        return None
    return source.count("\n", 0, match.start()) + 1, match.group(0)


def syntax_error(source: str) -> str | None:
    """The script's syntax error with its line, or None. (Parsed as a function body in a context with
    nothing in it, a 50 ms and 16 MB budget: a body that closes its function and runs code is refused.)"""
    ctx = quickjs.Context()
    ctx.set_time_limit(_CHECK_SECONDS)
    ctx.set_memory_limit(_CHECK_MEMORY)
    ctx.set("__src", source)
    try:
        same = ctx.eval("String(new Function(__src)) === 'function anonymous(\\n) {\\n' + __src + '\\n}'")
    except quickjs.JSException as exc:
        text = str(exc)
        first = text.strip().splitlines()[0] if text.strip() else "does not parse"
        if not first.startswith("SyntaxError"):
            return "the script closes the function it runs in"
        line = _LINE.search(text)
        return f"line {int(line.group(1)) - 2}: {first}" if line else first
    return None if same else "the script closes the function it runs in"


def problem(source: str) -> tuple[int, str] | None:
    """(line within the script, reason) the script cannot run here, or None."""
    java = java_use(source)
    if java:
        return java[0], f"calls Java ('{java[1]}'), which cannot run here"
    reason = syntax_error(source)
    if reason:
        m = re.match(r"line (\d+): ", reason)
        return (int(m.group(1)) if m else 1), reason
    return None


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def run(source: str, variables: dict, element: str, *, task: dict | None = None) -> Outcome:
    """Run ``source`` over ``variables`` (not changed: the outcome says what to change). ``task`` — name,
    assignee — gives the script a ``task`` object (a task listener). Any failure, the budget included,
    raises :class:`ScriptFailed` naming ``element``."""
    ctx = quickjs.Context()
    ctx.set_time_limit(Budget.seconds)
    ctx.set_memory_limit(Budget.memory_bytes)
    meta = {"element": element, "name": (task or {}).get("name"),
            "assignee": (task or {}).get("assignee")}
    ctx.set("__aftersales_vars", json.dumps(variables, default=str))
    ctx.set("__aftersales_meta", json.dumps(meta))
    try:
        ctx.eval(_PRELUDE + f"({{vars: __aftersales_vars, meta: __aftersales_meta}}, {'true' if task else 'false'});"
                 "delete globalThis.__aftersales_vars; delete globalThis.__aftersales_meta;")
        ctx.set("__aftersales_r", ctx.eval(source))
        text = ctx.eval("__aftersales_out(__aftersales_r)")
    except quickjs.JSException as exc:
        raise ScriptFailed(element, _message(str(exc))) from None
    if not isinstance(text, str) or len(text) > Budget.max_chars():
        raise ScriptFailed(element, f"the JavaScript's variables grew past the "
                                    f"{Budget.memory_bytes // (1024 * 1024)} MB memory budget")
    out = json.loads(text)
    return Outcome(result=out["result"], set=out["set"], removed=out["removed"], assignee=out["assignee"],
                   assigned=out["assigned"])


def _message(text: str) -> str:
    """QuickJS's error as the case shows it. The line is the innermost one QuickJS names (it names none for
    a fault in a script's very first statement or function body: the message then has no line)."""
    lines = [line.strip() for line in text.strip().splitlines()]
    first = lines[0] if lines else ""
    if first in ("", "null") or "out of memory" in first:
        return f"the JavaScript used more than the {Budget.memory_bytes // (1024 * 1024)} MB memory budget"
    if first == "InternalError: interrupted":
        return f"the JavaScript took longer than {Budget.seconds:g} s (CPU time) and was stopped"
    where = next((m.group(1) for m in map(_LINE.search, lines[1:]) if m), None)
    return f"JavaScript line {where}: {first}" if where else f"JavaScript: {first}"


def run_for(my_task, source: str, *, listener_task: bool = False) -> Outcome:
    """Run ``source`` for a SpiffWorkflow task: its data are the variables, its element names it in an
    error. The caller applies the outcome."""
    element = getattr(my_task.task_spec, "bpmn_id", None) or my_task.task_spec.name
    task = None
    if listener_task:
        assignment = getattr(my_task.task_spec, "assignment", None)
        named = assignment.assignee if assignment and assignment.assignee and "{" not in assignment.assignee else None
        task = {"name": getattr(my_task.task_spec, "bpmn_name", None) or element,
                "assignee": my_task.internal_data.get("assignee_now") or my_task.internal_data.get("assignee_seen")
                or my_task.internal_data.get("assignee") or named}
    return run(source, _plain(my_task.data), element, task=task)


def deploy_problem(filename: str, element_id: str | None, script_node, what: str):
    """The :class:`~engine.errors.Problem` of a JavaScript ``script_node`` that cannot run here (located on
    the script's own line: the element's line plus the line within the script), or None."""
    from .errors import Problem

    found = problem(script_node.text or "")
    if found is None:
        return None
    offset, reason = found
    line = (script_node.sourceline or 1) + offset - 1
    if reason.startswith("calls Java"):
        call = java_use(script_node.text or "")[1]  # type: ignore[index]
        return Problem(filename, element_id, line, f"{what} (JavaScript, its line {offset}) {reason}",
                       "java_code", {"attribute": "script", "name": call})
    return Problem(filename, element_id, line, f"{what} (JavaScript): {reason}", "script_invalid")
