"""A BPMN error thrown at a service task: the one place that decides what catches it, as Camunda 7 does.

Both ways a service task reports a business error end here: a Python handler raising
:class:`~engine.errors.BpmnError` (``Step.run_handler``) and an external worker calling
``/external-task/{id}/bpmnError`` (``engine.external_runs.bpmn_error``). :func:`throw`

- writes one history entry at the task: kind ``BpmnError`` with ``error_code``, ``error_message`` and
  the variables that came with the error (an external worker's entry also names the worker, as its
  completions do);
- looks for the catcher scope by scope from the task outwards: the error boundary events on the
  task, then those on each enclosing subprocess or call activity; within a scope an event whose
  ``errorRef`` carries the code wins over one without a code (the catch-all), and only one fires;
- hands it the case's variables with the error's variables and, when the event names them,
  ``camunda:errorCodeVariable`` / ``camunda:errorMessageVariable``; the catcher interrupts the task;
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
    code_name, message_name = getattr(catcher.task_spec, "error_variables", (None, None))
    if code_name:
        payload[code_name] = code
    if message_name:
        payload[message_name] = message or None
    limits.check_case_size(payload, str(step.instance.business_key or step.instance.id))
    event = BpmnEvent(ErrorEventDefinition(code, code=code), payload=payload)
    catcher.task_spec.catch(catcher, event)
    catcher.task_spec._update(catcher)


def catcher_of(task, code: str):
    """The error boundary event that catches ``code`` thrown at ``task``, or None (see the module)."""
    activity = task
    while activity is not None:
        waiting = [c for c in (activity.parent.children if activity.parent is not None else [])
                   if c is not activity and c.state == TaskState.WAITING and isinstance(c.task_spec, BoundaryEvent)
                   and isinstance(c.task_spec.event_definition, ErrorEventDefinition)]
        for wanted in (code, None):  # the event naming the code first, then the catch-all
            found = next((c for c in waiting if c.task_spec.event_definition.code == wanted), None)
            if found is not None:
                return found
        activity = _enclosing(activity)
    return None


def _enclosing(task):
    """The subprocess or call activity task whose workflow ``task`` runs in (None at the top)."""
    wf = task.workflow
    parent_id = wf.parent_task_id
    return wf.top_workflow.get_task_from_id(parent_id) if parent_id is not None else None
