"""A BPMN error thrown at a service task: the one place that decides what catches it, as Camunda 7 does.

Both ways a service task reports a business error end here: a Python handler raising
:class:`~engine.errors.BpmnError` (``Step.run_handler``) and an external worker calling
``/external-task/{id}/bpmnError`` (``engine.external_runs.bpmn_error``). :func:`throw`

- writes one history entry at the task: kind ``BpmnError`` with ``error_code``, ``error_message`` and
  the variables that came with the error (an external worker's entry also names the worker, as its
  completions do);
- looks for the catcher scope by scope from the task outwards: the error boundary events on the
  task, then the error event subprocesses of the (sub)process it runs in, then the boundary events
  on that subprocess or call activity, and so on; within a scope an event whose ``errorRef``
  carries the code wins over one without a code (the catch-all), and only one fires;
- hands it the case's variables with the error's variables and, when the event names them,
  ``camunda:errorCodeVariable`` / ``camunda:errorMessageVariable``; the catcher interrupts the task
  (an error event subprocess: everything still running in its scope);
- with no catcher raises :class:`UncaughtBpmnError` (a ``HandlerFailed``): the step stops the case in
  ``error`` at the task, naming the code (Camunda's ``enableExceptionsAfterUnhandledBpmnError``; its
  default would end the path silently).
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any, Protocol

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from . import limits
from .errors import HandlerFailed
from .state import clean_data

KIND = "BpmnError"  # the history entry's kind


class Recorder(Protocol):
    """What :func:`throw` needs of the step it runs in (``engine.steps.Step``)."""

    instance: Any

    def record(self, task, kind: str, by: str, data: dict | None = None) -> None: ...


class UncaughtBpmnError(HandlerFailed):
    """No error event catches the code: the case stops in ``error`` at the task."""

    def __init__(self, element_id: str, code: str, message: str | None):
        self.code = code
        self.error_message = message
        super().__init__(element_id, f"BPMN error '{code}'" + (f" ({message})" if message else "")
                         + f" at '{element_id}': no error event catches it")


def throw(step: Recorder, task, code: str, message: str | None, variables: dict[str, Any] | None, by: str,
          worker: str | None = None) -> None:
    """Throw BPMN error ``code`` at the service task ``task`` (left STARTED by its handler or waiting for
    its worker). The catching event is READY afterwards; running it interrupts the task."""
    element = getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name
    values = clean_data(variables or {})
    said = {"error_code": code} | ({"error_message": message} if message else {})
    step.record(task, KIND, by, ({"worker": worker} if worker is not None else {}) | said
                | {k: v for k, v in values.items() if k not in said and k != "worker"})
    catcher = catcher_of(task, code)
    if catcher is None:
        raise UncaughtBpmnError(element, code, message)
    payload = deepcopy(task.data) | values
    code_name, message_name = getattr(catcher.spec, "error_variables", None) or (None, None)
    if code_name:
        payload[code_name] = code
    if message_name:
        payload[message_name] = message or None
    limits.check_case_size(payload, str(step.instance.business_key or step.instance.id))
    catcher.fire(BpmnEvent(ErrorEventDefinition(code, code=code), payload=payload))


class Boundary:
    """An error boundary event waiting on the task or on a subprocess around it."""

    def __init__(self, task):
        self.task, self.spec = task, task.task_spec

    def fire(self, event: BpmnEvent) -> None:
        self.task.task_spec.catch(self.task, event)
        self.task.task_spec._update(self.task)  # READY: running it cancels the activity it is attached to


class EventSubprocess:
    """An error event subprocess of a (sub)process; its start event is ``spec``."""

    def __init__(self, workflow, name: str, start_spec):
        self.workflow, self.name, self.spec = workflow, name, start_spec

    def fire(self, event: BpmnEvent) -> None:
        wf = self.workflow
        # an error start event interrupts its scope: what runs in it ends (SpiffWorkflow leaves this to us)
        for child in list(wf.task_tree.children):
            child.cancel()
        started = wf.top_workflow.subprocesses[wf.spec.start.trigger_wf(wf.task_tree, self.name)]
        start = next(t for t in started.get_tasks(state=TaskState.WAITING) if t.task_spec is self.spec)
        start.task_spec.catch(start, event)
        start.task_spec._update(start)


def catcher_of(task, code: str) -> Boundary | EventSubprocess | None:
    """What catches ``code`` thrown at ``task``, or None: scope by scope outwards, the boundary events of
    the activity, then the error event subprocesses of the (sub)process it runs in; in each, the event
    naming the code before the catch-all."""
    activity = task
    while activity is not None:
        waiting = [c for c in (activity.parent.children if activity.parent is not None else [])
                   if c is not activity and c.state == TaskState.WAITING and isinstance(c.task_spec, BoundaryEvent)
                   and isinstance(c.task_spec.event_definition, ErrorEventDefinition)]
        boundary = _first(waiting, lambda c: c.task_spec.event_definition.code, code)
        if boundary is not None:
            return Boundary(boundary)
        wf = activity.workflow
        starts = [(name, ts) for name in getattr(wf.spec.start, "trigger_specs", [])
                  for ts in wf.top_workflow.subprocess_specs[name].bpmn_start_events
                  if isinstance(ts.event_definition, ErrorEventDefinition)]
        found = _first(starts, lambda pair: pair[1].event_definition.code, code)
        if found is not None:
            return EventSubprocess(wf, *found)
        activity = _enclosing(activity)
    return None


def _first(candidates: list, code_of, code: str):
    """The candidate naming ``code``, else the first catch-all, else None."""
    return (next((c for c in candidates if code_of(c) == code), None)
            or next((c for c in candidates if code_of(c) is None), None))


def _enclosing(task):
    """The subprocess or call activity task whose workflow ``task`` runs in (None at the top)."""
    wf = task.workflow
    parent_id = wf.parent_task_id
    return wf.top_workflow.get_task_from_id(parent_id) if parent_id is not None else None
